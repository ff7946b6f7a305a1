"""Which declared locals a function might read before writing them.

WebAssembly locals start at zero; lowered frames are reused between calls, so the
prologue zeroes a local unless every path writes it before reading it. This is a
must-assign analysis over structured control flow: a block's state at its end is the
intersection of its fall-through and of every branch to it; a loop's start is its entry
state (back edges only add writes); dead code assigns everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...vm.wasm_instructions import Instr

_ALL = None  # the state of dead code: every local counts as written


@dataclass
class _Frame:
    kind: str
    entry: frozenset[int] | None
    at_end: frozenset[int] | None = _ALL  # intersection of states branching to the end
    then_end: frozenset[int] | None = _ALL
    has_else: bool = False
    branched: bool = field(default=False)


def _meet(a: frozenset[int] | None, b: frozenset[int] | None) -> frozenset[int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def locals_to_zero(code: tuple[Instr, ...], first: int, count: int) -> list[int]:
    """Locals in [first, first + count) that some path may read before writing."""
    state: frozenset[int] | None = frozenset()
    frames = [_Frame("func", state)]
    out: set[int] = set()

    def branch(depth: int) -> None:
        target = frames[-1 - depth]
        if target.kind != "loop":
            target.at_end = _meet(target.at_end, state) if target.branched else state
            target.branched = True

    for ins in code:
        name = ins.name
        if name == "local.get":
            if ins.imm >= first and state is not None and ins.imm not in state:
                out.add(ins.imm)
        elif name in ("local.set", "local.tee"):
            if state is not None:
                state = state | {ins.imm}
        elif name in ("block", "loop", "if"):
            frames.append(_Frame(name, state))
        elif name == "else":
            frames[-1].then_end, frames[-1].has_else = state, True
            state = frames[-1].entry
        elif name == "end":
            f = frames.pop()
            if f.kind == "loop":
                continue  # fall-through is the only way out of a loop's end
            end = state
            if f.kind == "if":
                end = _meet(end, f.then_end) if f.has_else else _meet(end, f.entry)
            if f.branched:
                end = _meet(end, f.at_end)
            state = end
        elif name == "br":
            branch(ins.imm)
            state = _ALL
        elif name == "br_if":
            branch(ins.imm)
        elif name == "br_table":
            targets, default = ins.imm
            for depth in (*targets, default):
                branch(depth)
            state = _ALL
        elif name in ("return", "unreachable"):
            state = _ALL
    return sorted(i for i in out if first <= i < first + count)
