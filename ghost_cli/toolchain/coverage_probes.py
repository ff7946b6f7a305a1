"""Coverage probes: a copy of a contract's WebAssembly module that reports which stretches
of its code ran (`ghost test --coverage`, ghost_cli/testing/coverage.py).

The copy imports one more function, `ghost_coverage.<name>(i32)`, and calls it with the
probe's number at the start of every *segment*: a straight-line stretch of instructions
that runs whole once its first instruction runs. A segment ends after every instruction
that can jump or leave (`br`, `br_if`, `br_table`, `return`, `unreachable`), after every
call (the callee may trap), and at every block boundary (`block`, `loop`, `if`, `else`,
`end`: a branch may land there). So "probe k ran" means "every instruction of segment k
ran", and each instruction's code-section address maps to a Zig line with DWARF.

A probe is `i32.const k; call $probe`: two instructions, two units of wasmtime fuel,
which the host function gives back (vm/wasm/coverage.py) before the code can look at its
fuel again, so a call's gas is the same with and without probes. The probed copy only ever
runs in a test session; deployed bytes are never changed.

The new import goes after the module's imported functions, so every function defined in
the module moves up one index: calls, `ref.func`, exports, the start function and element
segments are renumbered. Modules this cannot rewrite exactly (instructions the decoder
cannot frame, element segments of expressions) get no probes: `instrument` raises
CompileError and the contract runs unprobed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..exceptions import CompileError
from ..vm.wasm_instructions import CodeReader, UnsupportedEncoding, read_instr
from ..vm.wasm_module import encode_uleb, parse_module

#: The module the probe function is imported from.
PROBE_MODULE = "ghost_coverage"
#: Fuel of one probe (i32.const + call), refunded by the host function.
PROBE_FUEL = 2

_CUSTOM, _TYPE, _IMPORT, _EXPORT, _START, _ELEMENT, _CODE = 0, 1, 2, 7, 8, 9, 10
_BLOCK, _LOOP, _IF, _ELSE, _END = 0x02, 0x03, 0x04, 0x05, 0x0B
_CALL, _CALL_INDIRECT, _REF_FUNC = 0x10, 0x11, 0xD2
#: Block boundaries: no probe before them (they cost no fuel and run no code of a line).
_STRUCTURE = frozenset({_BLOCK, _LOOP, _ELSE, _END})
#: A new segment starts after each of these.
_ENDS_SEGMENT = frozenset({_BLOCK, _LOOP, _IF, _ELSE, _END, 0x00, 0x0C, 0x0D, 0x0E, 0x0F,
                           _CALL, _CALL_INDIRECT})


@dataclass(frozen=True)
class Probed:
    """A probed module and, per probe number, the code-section addresses (DWARF's
    addresses) of the instructions of its segment."""

    code: bytes
    import_name: str
    segments: tuple[tuple[int, ...], ...]


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def _name(text: str) -> bytes:
    raw = text.encode()
    return encode_uleb(len(raw)) + raw


def _section(sid: int, content: bytes) -> bytes:
    return bytes([sid]) + encode_uleb(len(content)) + content


def instrument(code: bytes, import_name: str,
               keep: Callable[[int], bool] | None = None) -> Probed:
    """`code` with a probe at the start of every segment (see the module's docstring), or
    of those whose ordinal `keep` accepts (ordinals count every segment, in code order;
    `segments` holds the probed ones, numbered from 0)."""
    code = bytes(code)
    module = parse_module(code)
    imported = sum(1 for i in module.imports if i.kind == "func")
    probe_type = len(module.types)

    def shift(index: int) -> int:
        return index + 1 if index >= imported else index

    by_id = {s.id: s for s in module.sections if s.id != _CUSTOM}
    out = bytearray(code[:8])
    segments: list[tuple[int, ...]] = []
    wrote_import = False
    for s in module.sections:
        r = CodeReader(code, s.content_start, s.end)
        if s.id == _CUSTOM:
            if r.name() != "name":  # function names would be one off: drop them
                out += code[s.start:s.end]
            continue
        if s.id > _IMPORT and not wrote_import:
            out += _imports(b"", 0, import_name, probe_type)
            wrote_import = True
        if s.id == _TYPE:
            count = r.uleb()
            out += _section(_TYPE, encode_uleb(count + 1) + code[r.pos:s.end]
                            + bytes([0x60, 1, 0x7F, 0]))
        elif s.id == _IMPORT:
            count = r.uleb()
            out += _imports(code[r.pos:s.end], count, import_name, probe_type)
            wrote_import = True
        elif s.id == _EXPORT:
            out += _section(_EXPORT, _exports(r, shift))
        elif s.id == _START:
            out += _section(_START, encode_uleb(shift(r.uleb())))
        elif s.id == _ELEMENT:
            out += _section(_ELEMENT, _elements(r, shift))
        elif s.id == _CODE:
            out += _section(_CODE, _code(r, s.content_start, imported, shift, segments,
                                         keep))
        else:
            out += code[s.start:s.end]
    if not wrote_import:
        out += _imports(b"", 0, import_name, probe_type)
    if _TYPE not in by_id:
        raise CompileError("a module without a type section has nothing to probe")
    return Probed(bytes(out), import_name, tuple(segments))


def _imports(entries: bytes, count: int, import_name: str, type_index: int) -> bytes:
    entry = _name(PROBE_MODULE) + _name(import_name) + b"\x00" + encode_uleb(type_index)
    return _section(_IMPORT, encode_uleb(count + 1) + entries + entry)


def _exports(r: CodeReader, shift) -> bytes:
    count = r.uleb()
    body = bytearray(encode_uleb(count))
    for _ in range(count):
        name = r.take(r.uleb())
        kind = r.byte()
        index = r.uleb()
        moved = shift(index) if kind == 0 else index
        body += encode_uleb(len(name)) + name + bytes([kind]) + encode_uleb(moved)
    return bytes(body)


def _elements(r: CodeReader, shift) -> bytes:
    count = r.uleb()
    body = bytearray(encode_uleb(count))
    for _ in range(count):
        kind = r.uleb()
        if kind not in (0, 2):
            raise CompileError(f"element segment kind {kind} is not probed")
        body += encode_uleb(kind)
        if kind == 2:
            body += encode_uleb(r.uleb())
        start = r.pos
        while r.byte() != _END:  # the offset: a constant expression
            pass
        body += r.data[start:r.pos]
        if kind == 2:
            body.append(r.byte())  # elemkind 0x00: function indices
        n = r.uleb()
        body += encode_uleb(n) + b"".join(encode_uleb(shift(r.uleb())) for _ in range(n))
    return bytes(body)


def _code(r: CodeReader, section_start: int, imported: int, shift,
          segments: list[tuple[int, ...]], keep: Callable[[int], bool] | None) -> bytes:
    count = r.uleb()
    out = bytearray(encode_uleb(count))
    ordinal = 0
    for i in range(count):
        size = r.uleb()
        end = r.pos + size
        body = CodeReader(r.data, r.pos, end)
        for _ in range(body.uleb()):  # local declarations: copied as they are
            body.uleb()
            body.byte()
        new = bytearray(r.data[r.pos:body.pos])
        need = True
        probing = False
        while body.pos < end:
            start = body.pos
            op = r.data[start]
            if op == 0xFC:  # saturating truncations only: bulk memory is off in the engine
                body.pos += 1
                if body.uleb() > 7:
                    raise CompileError(f"function #{imported + i}: 0xfc instruction not probed")
                raw = r.data[start:body.pos]
            else:
                try:
                    instr = read_instr(body)
                except UnsupportedEncoding as exc:
                    raise CompileError(f"function #{imported + i}: {exc.name} not probed") \
                        from None
                if op in (_CALL, _REF_FUNC):
                    raw = bytes([op]) + encode_uleb(shift(int(instr.imm)))  # type: ignore[arg-type]
                else:
                    raw = r.data[start:body.pos]
            if op not in _STRUCTURE:
                if need:
                    probing = keep is None or keep(ordinal)
                    ordinal += 1
                    if probing:
                        segments.append(())
                        new += b"\x41" + sleb(len(segments) - 1) + b"\x10" + encode_uleb(imported)
                    need = False
                if probing:
                    segments[-1] += (start - section_start,)
            new += raw
            if op in _ENDS_SEGMENT:
                need = True
        out += encode_uleb(len(new)) + new
        r.pos = end
    return bytes(out)


def code_start(code: bytes) -> int:
    """Where the code section's content starts: DWARF addresses count from there."""
    for s in parse_module(code).sections:
        if s.id == _CODE:
            return s.content_start
    return 0


