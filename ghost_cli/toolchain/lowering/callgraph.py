"""Which functions the lowering compiles, and which of them may recurse.

Only functions reachable from the ABI's exports (and the start function) are lowered, so
an unsupported instruction in dead code does not block a build. A function that can
reach itself is given frames on a stack in ZVM memory; every other function keeps its
locals at a fixed address, which is cheaper to reach (no frame pointer arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import CompileError
from ...vm.wasm_instructions import CodeReader, Instr, UnsupportedEncoding, read_instr
from .wasm_code import Program


@dataclass(frozen=True)
class CallGraph:
    reachable: tuple[int, ...]  # defined functions to lower, in index order
    recursive: frozenset[int]  # those that can call themselves, directly or not
    code: dict[int, tuple[Instr, ...]]  # decoded bodies of the reachable functions
    indirect: bool  # whether any reachable function uses call_indirect


def decode_body(program: Program, index: int) -> tuple[Instr, ...]:
    body = program.bodies[index - program.imported_funcs]
    r = CodeReader(program.code, body.start, body.end)
    out = []
    try:
        while r.pos < r.end:
            out.append(read_instr(r))
    except UnsupportedEncoding as exc:
        raise CompileError(
            f"cannot lower {exc.name} in {program.describe(index)} (byte {exc.offset}): "
            "not supported on ZVM",
            function=program.describe(index), instruction=exc.name,
        ) from None
    return tuple(out)


def build_callgraph(program: Program, roots: list[int]) -> CallGraph:
    imported = program.imported_funcs
    code: dict[int, tuple[Instr, ...]] = {}
    edges: dict[int, set[int]] = {}
    table_funcs = sorted({f for f in program.table if f is not None and f >= imported})
    indirect = False
    todo = [r for r in roots if r >= imported]
    while todo:
        f = todo.pop()
        if f in code:
            continue
        code[f] = decode_body(program, f)
        out: set[int] = set()
        for ins in code[f]:
            if ins.name == "call" and isinstance(ins.imm, int) and ins.imm >= imported:
                out.add(ins.imm)
            elif ins.name == "call_indirect":
                indirect = True
                out.update(table_funcs)
        edges[f] = out
        todo.extend(out - code.keys())
    return CallGraph(tuple(sorted(code)), _recursive(edges), code, indirect)


def _recursive(edges: dict[int, set[int]]) -> frozenset[int]:
    """Functions on a cycle of the call graph (Tarjan's strongly connected components,
    iterative so a deep graph cannot overflow Python's stack)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: set[int] = set()
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    out.update(component)
    return frozenset(out)
