"""ZVM assembly (.zasm) to bytecode and back.

Syntax, one instruction per line (mnemonics are case-insensitive):

    ; a comment runs to the end of the line (a ; inside a string is text)
    loop:                    a label; an instruction may follow on the same line
        PUSH 10              auto-sized: the smallest of PUSH1/2/4/8/16/32 that fits
        PUSH2 0x00ff         explicit size; decimal (leading zeros too) or 0x-hex; a
                             negative is its two's complement and must fit the width
        PUSH @loop           a label's offset; auto-sized pushes of labels are relaxed
        PUSH4 selector(add(u64))   keccak256("add(u64)")[:4]
        PUSH "Incremented"   UTF-8 text, left-aligned in the word (auto: PUSH32);
                             escapes: \" and \\ only
        HOSTCALL storage_read      host function by name or by index (ghost extension)
        .byte 0xE5 7         raw bytes, e.g. data for CODECOPY
        .bytes 0xdeadbeef    raw bytes as one hex string

`disassemble(code)` never fails: a byte that is no opcode, or an immediate that runs past
the end of the code, comes back as an Instr with `valid` false, and `to_text` writes
those as `.byte`/`.bytes`, so `assemble(to_text(disassemble(code))) == code` for any code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ghost_cli.exceptions import CompileError
from ghost_cli.vm.host_table import HOST_FUNCTIONS

from .container import selector
from .opcodes import BY_NAME, OPCODES, PUSH_BY_SIZE, PUSH_SIZES, Opcode

__all__ = ["Instr", "assemble", "disassemble", "selector", "to_text"]

_LABEL = re.compile(r"^([A-Za-z_.$][\w.$]*):")
_NAME = re.compile(r"^[A-Za-z_.$][\w.$]*$")
_HOST_INDEX = {f.name: i for i, f in enumerate(HOST_FUNCTIONS)}
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_PREFIXED = re.compile(r"[+-]?0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


@dataclass(frozen=True)
class Instr:
    offset: int
    name: str  # mnemonic, or "INVALID" for a byte that is no opcode
    immediate: int | None  # the immediate operand, None when there is none (or truncated)
    gas: int  # base gas
    opcode: int = 0
    raw: bytes = b""  # the instruction's bytes as they are in the code
    valid: bool = True  # False: unknown byte, or an immediate cut off by the end of code

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def operand_text(self) -> str:
        """The immediate as assembly text: hex at its full width, host function by name."""
        if self.immediate is None:
            return ""
        if self.name == "HOSTCALL":
            if self.immediate < len(HOST_FUNCTIONS):
                return HOST_FUNCTIONS[self.immediate].name
            return str(self.immediate)
        width = OPCODES[self.opcode].immediate
        return f"0x{self.immediate:0{2 * width}x}"


# ---- assembling -------------------------------------------------------------------------


@dataclass
class _Item:
    line: int
    op: Opcode | None = None
    value: int | None = None  # resolved immediate
    label: str | None = None  # immediate still to resolve
    size: int = 0  # immediate bytes (PUSH width, fixed unless `auto`)
    auto: bool = False
    raw: bytes = b""  # .byte/.bytes payload

    def length(self) -> int:
        return len(self.raw) if self.op is None else 1 + self.size


def _error(line: int, message: str) -> CompileError:
    return CompileError(f"line {line}: {message}", line=line)


def _int(text: str, line: int) -> int:
    """Decimal (leading zeros allowed: `010` is ten), or 0x/0o/0b with a prefix; `_`
    separators and a sign allowed; ASCII digits only."""
    digits = text.replace("_", "")
    if _DECIMAL.fullmatch(digits):
        return int(digits, 10)
    if _PREFIXED.fullmatch(digits):
        return int(digits, 0)
    raise _error(line, f"not a number: {text!r}")


def _strip_comment(text: str) -> str:
    """`text` up to a `;` that is not inside a string."""
    if '"' not in text:
        return text.split(";", 1)[0]
    quoted = escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return text[:i]
    return text


def _string(operand: str, line: int) -> bytes:
    """A double-quoted string operand as UTF-8 bytes; \\" and \\\\ are its only escapes."""
    out: list[str] = []
    i, n = 1, len(operand)
    while i < n:
        ch = operand[i]
        if ch == '"':
            if operand[i + 1:].strip():
                raise _error(line, f"unexpected text after the string: {operand[i + 1:]!r}")
            return "".join(out).encode()
        if ch == "\\":
            nxt = operand[i + 1:i + 2]
            if nxt not in ('"', "\\"):
                raise _error(line, f"unknown escape \\{nxt} in a string (only \\\" and \\\\)")
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    raise _error(line, f"unterminated string {operand}")


def _fits(value: int) -> int:
    """The smallest PUSH width that holds `value` (0..2^256-1)."""
    nbytes = max(1, (value.bit_length() + 7) // 8)
    return next(s for s in PUSH_SIZES if s >= nbytes)


def _push(item: _Item, width: int | None, operand: str) -> None:
    """Fill a PUSH item from its operand; width None means auto-sized."""
    line = item.line
    if operand.startswith("@"):
        name = operand[1:]
        if not _NAME.match(name):
            raise _error(line, f"bad label reference {operand!r}")
        item.label, item.auto, item.size = name, width is None, width or 1
        return
    if operand.startswith('"'):
        text = _string(operand, line)
        size = width or 32
        if len(text) > size:
            raise _error(line, f"string of {len(text)} bytes does not fit PUSH{size}")
        item.value, item.size = int.from_bytes(text.ljust(size, b"\0"), "big"), size
        return
    if operand.startswith("selector(") and operand.endswith(")"):
        item.value, item.size = int.from_bytes(selector(operand[9:-1]), "big"), width or 4
        if item.size < 4:
            raise _error(line, f"a selector needs 4 bytes, PUSH{item.size} holds {item.size}")
        return
    value = _int(operand, line)
    # A negative is its two's complement: auto-sized, at 256 bits (the word it means)
    bits = 8 * (width or 32)
    if not -(1 << (bits - 1)) <= value < 1 << bits:
        raise _error(line, f"{operand} does not fit PUSH{width or 32}")
    value %= 1 << bits
    item.value, item.size = value, width or _fits(value)


def _parse_line(line_no: int, text: str, labels: dict[str, int], items: list[_Item]) -> None:
    text = _strip_comment(text).strip()
    while (m := _LABEL.match(text)) is not None:
        name = m.group(1)
        if name in labels:
            raise _error(line_no, f"label {name!r} defined twice")
        labels[name] = len(items)  # resolved to an offset once sizes are known
        text = text[m.end():].strip()
    if not text:
        return
    mnemonic, *rest = text.split(None, 1)  # any whitespace after the mnemonic
    operand = rest[0].strip() if rest else ""
    upper = mnemonic.upper()
    if upper in (".BYTE", ".BYTES"):
        items.append(_Item(line_no, raw=_raw_bytes(upper, operand, line_no)))
        return
    if upper == "PUSH":
        if not operand:
            raise _error(line_no, "PUSH needs an operand")
        item = _Item(line_no, op=PUSH_BY_SIZE[1])
        _push(item, None, operand)
        if item.label is None:
            item.op = PUSH_BY_SIZE[item.size]
        items.append(item)
        return
    op = BY_NAME.get(upper)
    if op is None:
        raise _error(line_no, f"unknown instruction {mnemonic!r}")
    item = _Item(line_no, op=op)
    if op.handler == "push":
        if not operand:
            raise _error(line_no, f"{op.name} needs an operand")
        _push(item, op.immediate, operand)
    elif op.name == "HOSTCALL":
        item.size, item.value = 1, _host_index(operand, line_no)
    elif operand:
        raise _error(line_no, f"{op.name} takes no operand, got {operand!r}")
    items.append(item)


def _raw_bytes(directive: str, operand: str, line: int) -> bytes:
    if directive == ".BYTES":
        hexdigits = operand[2:] if operand.lower().startswith("0x") else operand
        try:
            return bytes.fromhex(hexdigits)
        except ValueError:
            raise _error(line, f".bytes needs one hex string, got {operand!r}") from None
    out = []
    for word in operand.replace(",", " ").split():
        value = _int(word, line)
        if not 0 <= value <= 0xFF:
            raise _error(line, f".byte value {word} is not 0..255")
        out.append(value)
    if not out:
        raise _error(line, ".byte needs at least one value")
    return bytes(out)


def _host_index(operand: str, line: int) -> int:
    if not operand:
        raise _error(line, "HOSTCALL needs a host function name or index")
    if operand in _HOST_INDEX:
        return _HOST_INDEX[operand]
    if operand[0].isdigit():
        index = _int(operand, line)
        if 0 <= index <= 0xFF:
            return index
    known = ", ".join(_HOST_INDEX)
    raise _error(line, f"unknown host function {operand!r} (one of: {known})")


def _decode(source: bytes) -> str:
    try:
        return source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise _error(line, f"not UTF-8 text (byte 0x{source[exc.start]:02x} at offset "
                           f"{exc.start})") from None


def assemble(text: str | bytes, label_offsets: dict[str, int] | None = None) -> bytes:
    """Assemble .zasm text (or its UTF-8 bytes) to ZVM bytecode; CompileError names the
    line of any mistake. Given `label_offsets`, fill it with every label's offset."""
    if isinstance(text, bytes | bytearray):
        text = _decode(bytes(text))
    labels: dict[str, int] = {}
    items: list[_Item] = []
    for line_no, line in enumerate(text.splitlines(), 1):
        _parse_line(line_no, line, labels, items)
    for item in items:
        if item.label is not None and item.label not in labels:
            raise _error(item.line, f"undefined label {item.label!r}")
    # Relax auto-sized label pushes: start at PUSH1 and only ever grow, so this ends.
    while True:
        offsets, pos = [], 0
        for item in items:
            offsets.append(pos)
            pos += item.length()
        offsets.append(pos)
        changed = False
        for item in items:
            if item.label is None:
                continue
            target = offsets[labels[item.label]]
            if item.auto and _fits(target) > item.size:
                item.size, changed = _fits(target), True
            item.value = target
        if not changed:
            break
    if label_offsets is not None:
        label_offsets.update({name: offsets[i] for name, i in labels.items()})
    out = bytearray()
    for item in items:
        if item.op is None:
            out += item.raw
            continue
        op = PUSH_BY_SIZE[item.size] if item.op.handler == "push" else item.op
        out.append(op.value)
        if item.size:
            assert item.value is not None
            if item.value >= 1 << (8 * item.size):
                raise _error(item.line, f"label offset {item.value} does not fit {op.name}")
            out += item.value.to_bytes(item.size, "big")
    return bytes(out)


# ---- disassembling ----------------------------------------------------------------------


def disassemble(code: bytes) -> list[Instr]:
    """Every instruction of `code` in order; never raises."""
    code = bytes(code)
    out: list[Instr] = []
    pc, n = 0, len(code)
    while pc < n:
        byte = code[pc]
        op = OPCODES.get(byte)
        if op is None:
            out.append(Instr(pc, "INVALID", None, 0, byte, code[pc:pc + 1], valid=False))
            pc += 1
            continue
        end = pc + 1 + op.immediate
        if end > n:  # the immediate runs past the end of the code
            out.append(Instr(pc, op.name, None, op.gas, byte, code[pc:], valid=False))
            break
        immediate = int.from_bytes(code[pc + 1:end], "big") if op.immediate else None
        out.append(Instr(pc, op.name, immediate, op.gas, byte, code[pc:end]))
        pc = end
    return out


def to_text(instrs: list[Instr]) -> str:
    """Assembly text that assembles back to exactly the same bytes."""
    lines = []
    for ins in instrs:
        if not ins.valid:
            lines.append(f".bytes 0x{ins.raw.hex()}  ; {ins.name} at {ins.offset}")
        elif ins.immediate is None:
            lines.append(ins.name)
        else:
            lines.append(f"{ins.name} {ins.operand_text}")
    return "\n".join(lines) + ("\n" if lines else "")
