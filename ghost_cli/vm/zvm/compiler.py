"""Basic blocks of ZVM code compiled to Python functions, for the interpreter's fast path.

A block starts at an entry pc and follows the code: through a JUMPI that is not taken (a
taken one leaves the block), through a JUMP to a constant destination it has not compiled
yet, up to a JUMP elsewhere, its first instruction with effects beyond the stack and
memory (storage, context, calls, hashing, logs, host calls: the "effectful" ones), the end
of the code, or MAX_BLOCK instructions. MLOAD/MSTORE/MSTORE8 inside the memory in use run
inline; one that grows memory runs its handler and ends the block.
Stack and arithmetic instructions are executed symbolically while compiling: PUSH
becomes a constant, DUP and SWAP rename values, each computed word becomes one Python
expression in a local, and the real stack is written back once, when the block ends.

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
    "LT": (2, "(1 if {a} < {b} else 0)"),
    "GT": (2, "(1 if {a} > {b} else 0)"),
    "SLT": (2, "(1 if _signed({a}) < _signed({b}) else 0)"),
    "SGT": (2, "(1 if _signed({a}) > _signed({b}) else 0)"),
    "EQ": (2, "(1 if {a} == {b} else 0)"),
    "ISZERO": (1, "(0 if {a} else 1)"),
    "AND": (2, "({a} & {b})"),
    "OR": (2, "({a} | {b})"),
    "XOR": (2, "({a} ^ {b})"),
    "NOT": (1, "({a} ^ M)"),
    "BYTE": (2, "(({b} >> (248 - 8 * {a})) & 0xFF if {a} < 32 else 0)"),
    "SHL": (2, "(({b} << {a}) & M if {a} < 256 else 0)"),
    "SHR": (2, "({b} >> {a} if {a} < 256 else 0)"),
    "SAR": (2, "_sar({a}, {b})"),
}
_NOTHING = frozenset({"NOP", "JUMPDEST"})
_JUMP, _JUMPI = 0xA0, 0xA1
_MLOAD, _MSTORE, _MSTORE8 = 0x80, 0x81, 0x82
_REST = "REST_AFTER_"  # placeholder: the block's base gas after the instruction so far
_GLOBALS = {"M": MASK, "_sdiv": _sdiv, "_smod": _smod, "_signextend": _signextend,
            "_sar": _sar, "_signed": signed}


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

    def compute(self, expr: str) -> None:
        self.temps += 1
        name = f"t{self.temps}"
        self.body.append(f"{name} = {expr}")
        self.sym.append(name)

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
                f"f.pc = {pc + 1}", f"{handler}(f)", "return f.pc"]

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
        lines += [f"    {line}" for line in self.body + tail]
        total = self.gas
        return re.sub(_REST + r"(\d+)", lambda found: str(total - int(found[1])),
                      "\n".join(lines))


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
            block.compute(template.format(**dict(zip("abc", operands, strict=False))))
            pc += 1
            continue
        if byte in (_MLOAD, _MSTORE, _MSTORE8):
            # Inside memory as it is: no expansion, no gas, inline. Otherwise the handler
            # grows (and charges for) memory exactly as when stepping, and the block ends.
            block.bound(pops, max_before)
            block.memory = True
            namespace[f"h{pc}"] = handler
            offset = block.pop()
            if byte == _MLOAD:
                block.temps += 1
                name = f"t{block.temps}"
                fast = [f"{name} = int.from_bytes(m[{offset}:{offset} + 32], 'big')"]
                slow = block.slow_branch(pc, f"h{pc}", (offset,))
                block.sym.append(name)
                size = 32
            else:
                value = block.pop()
                fast = ([f"m[{offset}:{offset} + 32] = ({value}).to_bytes(32, 'big')"]
                        if byte == _MSTORE else [f"m[{offset}] = {value} & 0xFF"])
                slow = block.slow_branch(pc, f"h{pc}", (value, offset))
                size = 32 if byte == _MSTORE else 1
            block.body += [f"if {offset} + {size} <= len(m):", *(f"    {x}" for x in fast),
                           "else:", *(f"    {x}" for x in slow)]
            pc += 1
            continue
        if byte in (_JUMP, _JUMPI):
            block.bound(pops, max_before)
            dest = block.pop()
            cond = block.pop() if byte == _JUMPI else None
            namespace[f"h{pc}"] = handler
            operands = (dest,) if cond is None else (cond, dest)
            # Leaving the block: the stack written back, the base gas of what was compiled
            # after this jump given back.
            leave = [*block.flush_lines(), f"f.gas += {_REST}{block.gas}", f"return {dest}"]
            if not dest.isdigit():  # computed: checked against the JUMPDEST table
                go = [f"if {dest} in JD:", *(f"    {x}" for x in leave),
                      *block.slow_branch(pc, f"h{pc}", operands)]
            elif int(dest) in jumpdests:  # a constant destination: checked now, once
                if cond is None and int(dest) not in visited:
                    pc = int(dest)  # compile on from there: the jump costs its gas only
                    continue
                go = leave
            else:
                go = block.slow_branch(pc, f"h{pc}", operands)
            if cond is None:
                tail = go
                break
            # JUMPI: taken, leave; not taken, go on compiling here.
            block.body += [f"if {cond}:", *(f"    {x}" for x in go)]
            pc += 1
            continue
        # Effectful (or a jump to a computed destination): its handler, as when stepping.
        block.bound(pops, max_before)
        block.flush()
        namespace[f"h{pc}"] = handler
        tail = [f"f.pc = {pc + 1}", f"r = h{pc}(f)", "if r is not None:", "    return r",
                "return f.pc"]
        break
    fn_name = f"block_{start}"
    exec(compile(block.source(fn_name, tail), f"<zvm block {start}>", "exec"), namespace)  # noqa: S102
    return namespace[fn_name]  # type: ignore[return-value]
