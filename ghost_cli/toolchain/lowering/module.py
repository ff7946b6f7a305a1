"""A whole module to ZVM code: start-up, dispatcher, functions, shared routines, traps,
and the data blob that start-up copies into linear memory.

    start-up    frame pointer, memory size, globals, data segments (CODECOPY), start fn
    dispatcher  selector -> exported body, called with a return address that HALTs
    functions   every function reachable from the ABI's exports
    routines    2/4/8-byte loads and stores, call_indirect tables, one trap site per kind
    HALT, then the data blob (never executed; padded so no PUSH in it is truncated)
"""

from __future__ import annotations

from typing import Any

from ...abi import Abi
from ...exceptions import CompileError
from .callgraph import build_callgraph
from .dispatcher import dispatcher, entries
from .emitter import TRAP_BYTE, Asm, immediate_overrun
from .function import FunctionCompiler, jump_entry
from .hostcalls import spill_words
from .layout import FP_SLOT, PAGES_SLOT, Layout, plan
from .memory import MemoryOps
from .wasm_code import PAGE, Program, read_program


class ModuleLowering:
    def __init__(self, program: Program, layout: Layout, shadow_stack: bool = False) -> None:
        self.program = program
        self.layout = layout
        # global 0 is Zig's shadow stack pointer (a module `ghost build` compiled)
        self.shadow_stack = shadow_stack
        self.memory = MemoryOps(layout)
        self.asm = Asm()
        self.traps: dict[str, str] = {}
        self.loads: dict[int, str] = {}
        self.stores: dict[int, str] = {}
        self.tables: dict[int, str] = {}
        # pc-map marks: label -> (wasm function index, the instruction's module offset)
        self.marks: dict[str, tuple[int, int]] = {}

    def mark(self, func: int, offset: int) -> str:
        """A label (no code) before the lowering of the wasm instruction at `offset`."""
        label = f"_at{len(self.marks)}"
        self.marks[label] = (func, offset)
        return label

    def func_label(self, index: int) -> str:
        return f"fn{index}"

    def trap(self, kind: str) -> str:
        if kind not in self.traps:
            # a label is a word: the kind's words, anything else in them dropped
            self.traps[kind] = "trap_" + "_".join("".join(c for c in w if c.isalnum() or c == "_")
                                                  for w in kind.split())
        return self.traps[kind]

    def load_routine(self, n: int) -> str:
        return self.loads.setdefault(n, f"load{n}")

    def store_routine(self, n: int) -> str:
        return self.stores.setdefault(n, f"store{n}")

    def indirect_table(self, type_index: int) -> str:
        return self.tables.setdefault(type_index, f"table_type{type_index}")

    def routines(self) -> list[str]:
        out: list[str] = []
        for n, label in sorted(self.loads.items()):
            out += [f"{label}: JUMPDEST", *self._traps(self.memory.load_routine(n))]
        for n, label in sorted(self.stores.items()):
            out += [f"{label}: JUMPDEST", *self._traps(self.memory.store_routine(n))]
        for type_index, label in sorted(self.tables.items()):
            wanted = self.program.module.types[type_index]
            out.append(f"{label}:")
            for slot in self.program.table:
                if slot is None:
                    target = self.trap("uninitialized element")
                elif self.program.func_type(slot) != wanted:
                    target = self.trap("indirect call type mismatch")
                elif slot < self.program.imported_funcs:
                    raise CompileError("cannot lower a table holding a host function")
                else:
                    target = self.func_label(slot)
                out += jump_entry(target)
        for label in sorted(self.traps.values()):
            out += [f"{label}: JUMPDEST", f".byte 0x{TRAP_BYTE:02x}"]
        return out

    def _traps(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            if line.startswith("TRAP:"):
                out += [f"PUSH @{self.trap(line[5:])}", "JUMPI"]
            else:
                out.append(line)
        return out


def lower(wasm: bytes, abi: Abi) -> bytes:
    """Lower a ghost contract's WebAssembly module to ZVM bytecode (without the ZVMC
    container); CompileError names the first construct that ZVM cannot run."""
    return lower_with_debug(wasm, abi)[0]


def lower_with_debug(wasm: bytes, abi: Abi,
                     shadow_stack: bool = False) -> tuple[bytes, dict[str, Any]]:
    """`lower`, and the map that locates a ZVM pc in the wasm module: `pcs` (ascending)
    and `marks` ([function, module offset] of the wasm instruction lowered from each pc
    on), with the frame layout (`static` frame addresses, `words` per frame, `fp_slot`)
    that finds the return addresses of a backtrace, and `traps` (trap byte pc -> the
    wasm trap it stands for) (toolchain/debuginfo.py). `shadow_stack`: global 0 is Zig's
    stack pointer, checked on every update so running out is a stack overflow."""
    program = read_program(wasm)
    exports = {e.name: e.index for e in program.module.exports if e.kind == "func"}
    roots = []
    for fn in entries(abi):
        if fn.name not in exports:
            raise CompileError(f"ABI function {fn.name!r} is not exported by the module")
        roots.append(exports[fn.name])
    if program.start is not None:
        roots.append(program.start)
    for root in roots:
        if root < program.imported_funcs:
            raise CompileError(f"cannot lower a module that exports or starts with an imported "
                               f"function ({program.describe(root)})")
    graph = build_callgraph(program, roots)
    grows = any(ins.name == "memory.grow" for f in graph.reachable for ins in graph.code[f])
    host = [i.name for i in program.module.imports if i.kind == "func"]
    spill = max((spill_words(host[ins.imm]) for f in graph.reachable for ins in graph.code[f]
                 if ins.name == "call" and ins.imm < program.imported_funcs), default=0)
    memory = program.memory
    layout = plan(
        {f: len(program.func_type(f).params)
         + len(program.bodies[f - program.imported_funcs].locals) for f in graph.reachable},
        graph.recursive, len(program.globals),
        memory.min_pages if memory else 0, memory.max_pages if memory else None, grows,
        spill,
    )
    mod = ModuleLowering(program, layout, shadow_stack)
    asm = mod.asm
    _startup(mod)
    asm.lines += dispatcher(abi, {fn.name: mod.func_label(exports[fn.name])
                                  for fn in entries(abi)})
    for f in graph.reachable:
        asm.lines += FunctionCompiler(mod, f, graph.code[f]).compile()
    asm.lines += mod.routines()
    asm.op("HALT")
    for k, seg in enumerate(program.data):
        asm.mark(f"data{k}")
        asm.raw(seg.data)
    blob = b"".join(seg.data for seg in program.data)
    offsets: dict[str, int] = {}
    code = asm.assemble(offsets)
    pad = immediate_overrun(code, len(code) - len(blob))
    at = sorted((offsets[label], func, offset) for label, (func, offset) in mod.marks.items())
    debug = {
        "pcs": [pc for pc, _, _ in at], "marks": [[f, o] for _, f, o in at],
        "static": {str(f): a for f, a in layout.static_frames.items()},
        "words": {str(f): n for f, n in layout.frame_words.items()},
        "fp_slot": FP_SLOT,
        # the trap byte of each trap site (after its JUMPDEST) -> the wasm trap it stands for
        "traps": {str(offsets[label] + 1): kind for kind, label in mod.traps.items()},
    }
    return code + bytes(max(pad, 0)), debug


def _startup(mod: ModuleLowering) -> None:
    layout, program, asm = mod.layout, mod.program, mod.asm
    if mod.layout.stack_top != mod.layout.stack_limit:
        asm.op(f"PUSH {layout.stack_top}", f"PUSH {FP_SLOT}", "MSTORE")
    if layout.grows:
        asm.op(f"PUSH {layout.initial_pages}", f"PUSH {PAGES_SLOT}", "MSTORE")
    for i, g in enumerate(program.globals):
        if g.mutable and g.init:
            asm.op(f"PUSH {g.init}", f"PUSH {layout.global_addr(i)}", "MSTORE")
    for k, seg in enumerate(program.data):
        if seg.offset + len(seg.data) > layout.initial_pages * PAGE:
            raise CompileError(
                f"data segment at {seg.offset} ({len(seg.data)} bytes) does not fit in the "
                f"module's {layout.initial_pages} page(s) of memory"
            )
        if seg.data:
            # CODECOPY pops the destination, the code offset, then the length
            asm.op(f"PUSH {len(seg.data)}", f"PUSH @data{k}",
                   f"PUSH {layout.mem_base + seg.offset}", "CODECOPY")
    if program.start is not None:
        back = asm.fresh("started")
        asm.op(f"PUSH @{back}", f"PUSH @{mod.func_label(program.start)}", "JUMP")
        asm.label(back)
