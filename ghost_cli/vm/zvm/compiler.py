"""Basic blocks of ZVM code compiled to Python functions, for the interpreter's fast path.

A block starts at an entry pc and follows the code: through a JUMPI that is not taken (a
taken one leaves the block), through a JUMP to a constant destination it has not compiled
yet, up to a JUMP elsewhere, its first instruction with effects beyond the stack and
memory (storage, context, calls, hashing, logs, host calls: the "effectful" ones), the end
of the code, or MAX_BLOCK instructions. MLOAD/MSTORE/MSTORE8 inside the memory in use run
inline; one that grows memory runs its handler and ends the block.
Stack and arithmetic instructions are executed symbolically while compiling: PUSH
becomes a constant, DUP and SWAP rename values, each computed word becomes one Python
expression in a local (an operation on constants is done now), and the real stack is
written back once, when the block ends.

Proofs. A block runs straight on (every early way out returns), so what it has
established holds for the rest of it, and work is dropped on the strength of it: a load
where the block stored or loaded a word, with no store since that may overlap it, is
that word; an access inside memory an earlier access reached needs no bounds test
(memory changes size only in a handler, and a block calls one only as it ends); a sum,
product or left shift whose operands' known widths keep it below 2**256 needs no mask,
widths coming from constants, from the operations (`x & 0xFF` has 8 bits) and from
JUMPIs not taken on `c < x` or `x > c` (x <= c after them); a JUMPI or ISZERO on a
comparison tests its condition; a load of which nothing sees more than the low 8, 32 or
64 bits reads only those bytes. Zig's code lowered from WebAssembly is full of all five.

Exactness. At entry a block checks, once, everything its instructions would check one by
one: that the gas covers the sum of their base gas (the effectful instruction at the end
included) and that the stack height keeps every instruction within its bounds. If both
hold, no instruction of the block can fail before the effectful one, which runs its own
handler exactly as the step-by-step interpreter does (with the same gas left, pc and
stack). Wherever the block is left early (a taken JUMPI, a memory access that grows
memory), the base gas of the instructions after that point is given back first. If
either check fails, the block charges nothing and returns `~pc`: the interpreter runs
that stretch step by step, so an error happens at the same instruction, with the same
message and gas, as without compiling. Jumps with a constant destination are checked
here, once; computed ones against the JUMPDEST table; a bad one runs the JUMP/JUMPI
handler for its error.

A block function takes (frame, stack) and returns the next pc (an int >= 0), `~pc` to
run from pc step by step, or a handler's signal (STOP or a CallRequest).
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from .handlers._words import MASK, signed
from .opcodes import OPCODES, STACK_LIMIT

#: At most this many instructions per compiled block (bounds the generated function).
MAX_BLOCK = 256

BlockFn = Callable[[Any, list], object]


def _sdiv(a: int, b: int) -> int:
    a, b = signed(a), signed(b)
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & MASK


def _smod(a: int, b: int) -> int:
    a, b = signed(a), signed(b)
    if b == 0:
        return 0
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & MASK


def _signextend(b: int, x: int) -> int:
    if b < 31:
        bit = 8 * b + 7
        low = (1 << (bit + 1)) - 1
        return (x | (MASK ^ low)) if (x >> bit) & 1 else (x & low)
    return x


def _sar(shift: int, x: int) -> int:
    return (signed(x) >> min(shift, 256)) & MASK


#: Comparisons as Python conditions over the popped operands a (top), b: a JUMPI or an
#: ISZERO on a comparison's result tests the condition itself.
_CONDS: Mapping[str, tuple[int, str]] = {
    "LT": (2, "{a} < {b}"),
    "GT": (2, "{a} > {b}"),
    "SLT": (2, "_signed({a}) < _signed({b})"),
    "SGT": (2, "_signed({a}) > _signed({b})"),
    "EQ": (2, "{a} == {b}"),
    "ISZERO": (1, "not {a}"),
}

#: Pure word operations as expression templates over the popped operands a (top), b, c.
#: Each matches its handler in handlers/arithmetic.py or handlers/logic.py.
_EXPR: Mapping[str, tuple[int, str]] = {
    "ADD": (2, "({a} + {b}) & M"),
    "SUB": (2, "({a} - {b}) & M"),
    "MUL": (2, "({a} * {b}) & M"),
    "DIV": (2, "({a} // {b} if {b} else 0)"),
    "MOD": (2, "({a} % {b} if {b} else 0)"),
    "SDIV": (2, "_sdiv({a}, {b})"),
    "SMOD": (2, "_smod({a}, {b})"),
    "ADDMOD": (3, "(({a} + {b}) % {c} if {c} else 0)"),
    "MULMOD": (3, "(({a} * {b}) % {c} if {c} else 0)"),
    "SIGNEXTEND": (2, "_signextend({a}, {b})"),
    **{name: (arity, f"(1 if {cond} else 0)") for name, (arity, cond) in _CONDS.items()},
    "AND": (2, "({a} & {b})"),
    "OR": (2, "({a} | {b})"),
    "XOR": (2, "({a} ^ {b})"),
    "NOT": (1, "({a} ^ M)"),
    "BYTE": (2, "(({b} >> (248 - 8 * {a})) & 0xFF if {a} < 32 else 0)"),
    "SHL": (2, "(({b} << {a}) & M if {a} < 256 else 0)"),
    "SHR": (2, "({b} >> {a} if {a} < 256 else 0)"),
    "SAR": (2, "_sar({a}, {b})"),
}
#: The same with a constant shift amount below 256 (at or above, the result is 0).
_EXPR_SMALL_A: Mapping[str, str] = {
    "SHL": "(({b} << {a}) & M)",
    "SHR": "({b} >> {a})",
}
#: Results whose width in bits is known from their operands' widths (wa, wb: the
#: operands a, b), for each operation, and the template it can then use: a sum, product
#: or left shift that cannot reach 2**256 needs no mask.
_NARROW: Mapping[str, Callable[[int, int], tuple[int, str | None]]] = {
    "ADD": lambda wa, wb: (max(wa, wb) + 1, "({a} + {b})" if max(wa, wb) < 256 else None),
    "MUL": lambda wa, wb: (wa + wb, "({a} * {b})" if wa + wb <= 256 else None),
    "AND": lambda wa, wb: (min(wa, wb), None),
    "OR": lambda wa, wb: (max(wa, wb), None),
    "XOR": lambda wa, wb: (max(wa, wb), None),
    "DIV": lambda wa, wb: (wa, None),
    "MOD": lambda wa, wb: (min(wa, wb), None),
    "BYTE": lambda wa, wb: (8, None),
}
_NOTHING = frozenset({"NOP", "JUMPDEST"})
_JUMP, _JUMPI = 0xA0, 0xA1
_MLOAD, _MSTORE, _MSTORE8 = 0x80, 0x81, 0x82
_REST = "REST_AFTER_"  # placeholder: the block's base gas after the instruction so far
_NAME = re.compile(r"\b[tx]\d+\b")
_ASSIGNED = re.compile(r"(t\d+) = ")  # a top-level assignment (body lines are unindented)
#: Reads of a word's low bytes (the end of its 32, big-endian), smallest first.
_NARROW_LOADS = ((1, "m[{o} + 31]"), (4, "_u32(m, {o} + 28)[0]"), (8, "_u64(m, {o} + 24)[0]"))
_RELEASE = "RELEASE_W"  # placeholder: free the block's memoryview before a handler runs
_GLOBALS = {"M": MASK, "_fb": int.from_bytes, "_u32": struct.Struct(">I").unpack_from,
            "_u64": struct.Struct(">Q").unpack_from, "_sdiv": _sdiv, "_smod": _smod,
            "_signextend": _signextend, "_sar": _sar, "_signed": signed}


def _uses(lines: list[str]) -> Counter[str]:
    """How often each word name appears in `lines` (its assignment included)."""
    return Counter(word for line in lines for word in _NAME.findall(line))


def _load(word: str, offset: str) -> str:
    """The line that loads the 32-byte word at `offset` into `word` (narrow_loads may
    replace it by a read of the word's low bytes)."""
    return f"{word} = _fb(m[{offset}:{offset} + 32])"


class _Block:
    """Compiles one block: the symbolic stack, the code lines and the entry checks."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.sym: list[str] = []  # the top of the stack as the block left it (names, ints)
        self.pulled = 0  # items of the stack (as last written back) the block has read
        self.entry: list[str] = []  # their names, top first
        self.base = 0  # height of the stack as last written back, relative to the entry
        self.names = 0
        self.temps = 0
        self.body: list[str] = []
        self.gas = 0
        self.lo = 0  # the entry stack height must be in [lo, hi]
        self.hi = STACK_LIMIT
        self.memory = False  # the block reads f.memory
        # What the block has proven so far (its code runs straight on, and every early way
        # out returns; memory does not change size inside a block):
        self.conds: dict[str, str] = {}  # a 0/1 word -> the Python condition it holds
        self.words: dict[str, str] = {}  # offset -> the word memory holds there
        self.fits: dict[str, int] = {}  # offset -> bytes from it known inside memory
        self.const_end = 0  # memory [0, const_end) is known to exist
        self.widths: dict[str, int] = {}  # a word -> bits it can have (256 when not here)
        self.stores = False  # the block writes words through a memoryview of f.memory
        self.above: dict[str, tuple[str, int]] = {}  # a 0/1 word -> (x, c): it is x > c
        # a word computed by an expression (which cannot fail) -> its opcode and operands
        self.made: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.loads: dict[str, str] = {}  # a loaded word -> its offset

    def bound(self, pops: int, max_before: int) -> None:
        height = self.base + len(self.sym) - self.pulled  # relative to the entry height
        self.lo = max(self.lo, pops - height)
        self.hi = min(self.hi, max_before - height)

    def ensure(self, n: int) -> None:
        """Make the top n items symbolic, reading entry items as needed."""
        while len(self.sym) < n:
            self.pulled += 1
            self.names += 1
            name = f"x{self.names}"
            self.body.append(f"{name} = s[-{self.pulled}]")
            self.sym.insert(0, name)
            self.entry.append(name)

    def pop(self) -> str:
        self.ensure(1)
        return self.sym.pop()

    def compute(self, expr: str, of: tuple[str, tuple[str, ...]], cond: str | None = None,
                width: int = 256) -> str:
        """A new word `expr`, made by the opcode and operands `of`."""
        self.temps += 1
        name = f"t{self.temps}"
        self.body.append(f"{name} = {expr}")
        self.sym.append(name)
        self.made[name] = of
        if cond is not None:
            self.conds[name] = cond
        if width < 256:
            self.widths[name] = width
        return name

    def width(self, word: str) -> int:
        return int(word).bit_length() if word.isdigit() else self.widths.get(word, 256)

    def test(self, word: str) -> str:
        """A Python condition true when `word` is not zero."""
        return self.conds.get(word, word)

    # ---- memory inside what is in use -------------------------------------------------

    def known_fit(self, offset: str, size: int) -> bool:
        if offset.isdigit():
            return int(offset) + size <= self.const_end
        return self.fits.get(offset, 0) >= size

    def fitted(self, offset: str, size: int) -> None:
        if offset.isdigit():
            self.const_end = max(self.const_end, int(offset) + size)
        else:
            self.fits[offset] = max(self.fits.get(offset, 0), size)

    def stored(self, offset: str, size: int, word: str | None) -> None:
        """Forget the words a store of `size` bytes at `offset` may overwrite; remember the
        32-byte `word` it stores, if one. Two different offset names may be equal at run
        time, so a store at a computed offset forgets every other word."""
        if offset.isdigit():
            start = int(offset)
            self.words = {k: v for k, v in self.words.items()
                          if k.isdigit() and not start - 32 < int(k) < start + size}
        else:
            self.words = {}
        if word is not None:
            self.words[offset] = word

    def flush_lines(self, extra: tuple[str, ...] = ()) -> list[str]:
        """The code that writes the symbolic top (with `extra` pushed on it) back over the
        entry items it replaces."""
        sym, pulled, entry = [*self.sym, *extra], self.pulled, self.entry
        keep = 0  # items read but still in place at the bottom need no write
        while keep < min(pulled, len(sym)) and sym[keep] == entry[pulled - keep - 1]:
            keep += 1
        sym, pulled = sym[keep:], pulled - keep
        if pulled == 0:
            if len(sym) == 1:
                return [f"s.append({sym[0]})"]
            return [f"s += ({', '.join(sym)},)"] if sym else []
        if len(sym) == pulled:
            return [f"s[-{pulled - i}] = {value}" for i, value in enumerate(sym)
                    if value != entry[pulled - i - 1]]
        if sym:
            return [f"s[-{pulled}:] = [{', '.join(sym)}]"]
        return [f"del s[-{pulled}:]"]

    def flush(self) -> None:
        self.body += self.flush_lines()
        self.base += len(self.sym) - self.pulled
        self.sym, self.pulled, self.entry = [], 0, []

    def slow_branch(self, pc: int, handler: str, operands: tuple[str, ...]) -> list[str]:
        """Run the instruction at `pc` by its handler, as when stepping: the stack as it was
        before it (its `operands` back on top), the base gas of the instructions after it
        given back, then on from where the handler leaves the pc."""
        return [*self.flush_lines(operands), f"f.gas += {_REST}{self.gas}",
                f"f.pc = {pc + 1}", _RELEASE, f"{handler}(f)", "return f.pc"]

    def live_body(self, tail: list[str]) -> list[str]:
        """The body without assignments of pure words nothing reads (a comparison tested
        in place, a word a later load was forwarded past), and then of the pure words only
        those read. One count of uses, lowered as assignments go (a worklist): repeating
        the whole count per layer of dead words took a chain of 251 NOTs 45 ms."""
        uses = _uses([*self.body, *tail])
        assignment: dict[str, str] = {}
        for line in self.body:
            assigned = _ASSIGNED.match(line)
            if assigned is not None and assigned[1] in self.made:
                assignment[assigned[1]] = line
        dead: set[str] = set()
        work = [word for word in assignment if uses[word] == 1]  # its assignment alone
        while work:
            word = work.pop()
            if word in dead:
                continue
            dead.add(word)
            for read in _NAME.findall(assignment[word])[1:]:  # past the word assigned
                uses[read] -= 1
                if uses[read] == 1 and read in assignment:
                    work.append(read)
        return [line for line in self.body
                if (assigned := _ASSIGNED.match(line)) is None or assigned[1] not in dead]

    def demanded(self, body: list[str], tail: list[str]) -> dict[str, int]:
        """For each word the block computes or loads, how many of its low bits anything
        can see: bits above are never looked at. A word read by a line other than an
        operation below (a store, a comparison, the stack written back) is seen whole."""
        seen = _uses([*body, *tail])
        live = {word for word in self.made if seen[word]}
        users: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        for made in live:
            op, operands = self.made[made]
            for word in operands:
                users.setdefault(word, []).append((made, op, operands))
        demanded: dict[str, int] = {}
        # a word's users were made after it: from the last word made to the first
        for word in sorted({*live, *self.loads}, key=lambda w: -int(w[1:])):
            uses = users.get(word, [])
            if seen[word] - 1 > len(uses):  # read by a line we do not follow
                demanded[word] = 256
                continue
            need = 0
            for made, op, operands in uses:
                out = demanded.get(made, 256)
                a = operands[0]
                if op == "AND":
                    other = operands[1] if a == word else a
                    need = max(need, min(out, int(other).bit_length()) if other.isdigit()
                               else out)
                elif op in ("OR", "XOR", "ADD", "SUB", "MUL"):  # bit i needs bits <= i
                    need = max(need, out)
                elif op == "SHR" and a.isdigit() and operands[1] == word:
                    need = max(need, out + int(a))
                elif op == "SHL" and a.isdigit() and operands[1] == word:
                    need = max(need, out - int(a))
                else:
                    need = 256
            demanded[word] = min(need, 256)
        return demanded

    def narrow_loads(self, body: list[str], tail: list[str]) -> list[str]:
        """Loads of words whose upper bytes nothing sees read only their low bytes."""
        if not self.loads:
            return body
        demanded = self.demanded(body, tail)
        lines = {}
        for word, offset in self.loads.items():
            bits = demanded.get(word, 256)
            for size, read in _NARROW_LOADS:
                if bits <= 8 * size:
                    lines[_load(word, offset)] = f"{word} = {read.format(o=offset)}"
                    break
        out = []
        for line in body:  # a load's line may be indented (inside its bounds test)
            code = line.lstrip()
            narrow = lines.get(code)
            out.append(line if narrow is None else line[:len(line) - len(code)] + narrow)
        return out

    def source(self, name: str, tail: list[str]) -> str:
        checks = [f"g = f.gas - {self.gas}"]
        conds = ["g < 0"]
        if self.lo > 0 or self.hi < STACK_LIMIT:
            checks.append("n = len(s)")
            if self.lo > 0:
                conds.append(f"n < {self.lo}")
            if self.hi < STACK_LIMIT:
                conds.append(f"n > {self.hi}")
        if self.lo > self.hi:
            conds = ["True"]  # the block cannot run whole at any height
        lines = [f"def {name}(f, s):", *(f"    {c}" for c in checks),
                 f"    if {' or '.join(conds)}:", f"        return {~self.start}",
                 "    f.gas = g"]
        if self.memory:
            lines.append("    m = f.memory")
        if self.stores:
            # A memoryview writes a slice faster than the bytearray does; a handler may grow
            # the memory, which a live view forbids, so every handler call frees it first.
            lines.append("    w = memoryview(m)")
        lines += [f"    {line}" for line in self.narrow_loads(self.live_body(tail), tail) + tail]
        total = self.gas
        text = re.sub(_REST + r"(\d+)", lambda found: str(total - int(found[1])),
                      "\n".join(lines))
        return re.sub(r"\n( *)" + _RELEASE, r"\n\1w.release()" if self.stores else "", text)


def compile_block(code: bytes, start: int, jumpdests: frozenset[int],
                  dispatch: tuple, stop: object) -> BlockFn:
    """The block of `code` starting at `start`, as a Python function."""
    block = _Block(start)
    namespace: dict[str, object] = dict(_GLOBALS, STOP=stop, JD=jumpdests)
    end = len(code)
    pc = start
    tail: list[str]
    count = 0
    visited: set[int] = set()  # a constant jump back into the block ends it
    while True:
        if pc >= end:  # the end of the code halts the frame successfully
            block.flush()
            tail = ["return STOP"]
            break
        if count == MAX_BLOCK:
            block.flush()
            tail = [f"return {pc}"]
            break
        byte = code[pc]
        entry = dispatch[byte]
        op = OPCODES.get(byte)
        truncated = op is not None and pc + 1 + op.immediate > end
        if entry is None or truncated:
            # The step-by-step path raises the exact error; stop just before it.
            block.flush()
            tail = [f"return {~pc if count == 0 else pc}"]
            break
        cost, pops, max_before, handler, op = entry
        count += 1
        visited.add(pc)
        block.gas += cost
        name = op.name
        if op.handler == "push":
            block.bound(pops, max_before)
            block.sym.append(str(int.from_bytes(code[pc + 1:pc + 1 + op.immediate], "big")))
            pc += 1 + op.immediate
            continue
        if name in _NOTHING:
            pc += 1
            continue
        if name == "PC":
            block.bound(pops, max_before)
            block.sym.append(str(pc))
            pc += 1
            continue
        if op.handler in ("dup", "swap", "pop"):
            block.bound(pops, max_before)
            block.ensure(pops)
            sym = block.sym
            if op.handler == "dup":
                sym.append(sym[-op.arg])
            elif op.handler == "swap":
                sym[-1], sym[-1 - op.arg] = sym[-1 - op.arg], sym[-1]
            else:
                sym.pop()
            pc += 1
            continue
        if name in _EXPR:
            block.bound(pops, max_before)
            arity, template = _EXPR[name]
            operands = [block.pop() for _ in range(arity)]
            words = dict(zip("abc", operands, strict=False))
            of = (name, tuple(operands))
            if all(word.isdigit() for word in operands):  # folded now, as it would run
                block.sym.append(str(eval(template.format(**words), dict(_GLOBALS))))  # noqa: S307
            elif name in _EXPR_SMALL_A and operands[0].isdigit():
                shift, width = int(operands[0]), block.width(operands[1])
                if shift >= 256:
                    block.sym.append("0")
                elif name == "SHR":
                    block.compute(_EXPR_SMALL_A[name].format(**words), of,
                                  width=max(0, width - shift))
                elif width + shift <= 256:
                    block.compute("({b} << {a})".format(**words), of, width=width + shift)
                else:
                    block.compute(_EXPR_SMALL_A[name].format(**words), of)
            elif name in _CONDS:
                a = block.test(operands[0]) if name == "ISZERO" else operands[0]
                cond = _CONDS[name][1].format(**dict(words, a=a))
                flag = block.compute(f"(1 if {cond} else 0)", of, cond, width=1)
                # a bounds test (c < x, x > c) that a JUMPI leaves on bounds x after it
                if name in ("LT", "GT"):
                    x, c = (operands[1], operands[0]) if name == "LT" else operands
                    if c.isdigit() and not x.isdigit():
                        block.above[flag] = (x, int(c))
            elif name in _NARROW:
                width, narrow = _NARROW[name](*(block.width(w) for w in operands))
                block.compute((narrow or template).format(**words), of, width=min(width, 256))
            else:
                block.compute(template.format(**words), of)
            pc += 1
            continue
        if byte in (_MLOAD, _MSTORE, _MSTORE8):
            # Inside memory as it is: no expansion, no gas, inline. Otherwise the handler
            # grows (and charges for) memory exactly as when stepping, and the block ends.
            block.bound(pops, max_before)
            block.memory = True
            namespace[f"h{pc}"] = handler
            offset = block.pop()
            size = 1 if byte == _MSTORE8 else 32
            if byte == _MLOAD:
                pc += 1
                known = block.words.get(offset)
                if known is not None:  # stored or loaded at this offset, unchanged since
                    block.sym.append(known)
                    continue
                block.temps += 1
                name = f"t{block.temps}"
                fast = [_load(name, offset)]
                slow = block.slow_branch(pc - 1, f"h{pc - 1}", (offset,))
                block.sym.append(name)
                block.words[offset] = name
                block.loads[name] = offset
            else:
                value = block.pop()
                fast = ([f"w[{offset}:{offset} + 32] = ({value}).to_bytes(32)"]
                        if byte == _MSTORE else [f"m[{offset}] = {value} & 0xFF"])
                block.stores = block.stores or byte == _MSTORE
                slow = block.slow_branch(pc, f"h{pc}", (value, offset))
                block.stored(offset, size, value if byte == _MSTORE else None)
                pc += 1
            if block.known_fit(offset, size):  # an earlier access covered it
                block.body += fast
                continue
            block.body += [f"if {offset} + {size} <= len(m):", *(f"    {x}" for x in fast),
                           "else:", *(f"    {x}" for x in slow)]
            block.fitted(offset, size)
            continue
        if byte in (_JUMP, _JUMPI):
            block.bound(pops, max_before)
            dest = block.pop()
            cond = block.pop() if byte == _JUMPI else None
            namespace[f"h{pc}"] = handler
            operands = (dest,) if cond is None else (cond, dest)
            if cond == "0":  # never taken (nor is its destination checked)
                pc += 1
                continue
            always = cond is None or cond.isdigit()
            # Leaving the block: the stack written back, the base gas of what was compiled
            # after this jump given back.
            leave = [*block.flush_lines(), f"f.gas += {_REST}{block.gas}", f"return {dest}"]
            if not dest.isdigit():  # computed: checked against the JUMPDEST table
                go = [f"if {dest} in JD:", *(f"    {x}" for x in leave),
                      *block.slow_branch(pc, f"h{pc}", operands)]
            elif int(dest) in jumpdests:  # a constant destination: checked now, once
                if always and int(dest) not in visited:
                    pc = int(dest)  # compile on from there: the jump costs its gas only
                    continue
                go = leave
            else:
                go = block.slow_branch(pc, f"h{pc}", operands)
            if always:
                tail = go
                break
            # JUMPI: taken, leave; not taken, go on compiling here.
            block.body += [f"if {block.test(cond)}:", *(f"    {x}" for x in go)]
            if cond in block.above:  # not taken: x <= c from here on
                x, c = block.above[cond]
                block.widths[x] = min(block.width(x), c.bit_length())
            pc += 1
            continue
        # Effectful (or a jump to a computed destination): its handler, as when stepping.
        block.bound(pops, max_before)
        block.flush()
        namespace[f"h{pc}"] = handler
        tail = [f"f.pc = {pc + 1}", _RELEASE, f"r = h{pc}(f)", "if r is not None:",
                "    return r", "return f.pc"]
        break
    fn_name = f"block_{start}"
    exec(compile(block.source(fn_name, tail), f"<zvm block {start}>", "exec"), namespace)  # noqa: S102
    return namespace[fn_name]  # type: ignore[return-value]
