"""One wasm function body to ZVM assembly.

The wasm operand stack is the ZVM stack; the compiler tracks its height to know what a
branch must discard. Locals live in the function's frame in ZVM memory (layout.py).
Calls push a return address and jump; the callee's prologue stores the return address
and pops its arguments into its frame, its epilogue jumps back with the results on the
stack. Blocks and ifs branch forward to a JUMPDEST at their end, loops back to one at
their start. Code after an unconditional branch is dead until the enclosing block ends
and is not emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...exceptions import CompileError
from ...vm.wasm_instructions import Instr
from .hostcalls import host_call, lower_host_call, unlowered
from .layout import FP_SLOT
from .memory import ACCESS
from .numeric import MASK, NUMERIC
from .zeroing import locals_to_zero

if TYPE_CHECKING:
    from .module import ModuleLowering

UNREACHABLE = "unreachable"
STACK_EXHAUSTED = "call stack exhausted"
#: Zig's shadow stack (in linear memory, below its data) ran out: see global_set.
SHADOW_STACK_EXHAUSTED = "shadow stack exhausted"
UNDEFINED_ELEMENT = "undefined element"
_INTS = ("i32", "i64")


@dataclass
class _Ctrl:
    kind: str  # func | block | loop | if
    target: str  # where a branch to this frame goes
    end: str
    else_: str | None  # an if's else label
    height: int  # operand stack height on entry
    results: int
    dead: bool = False  # opened inside dead code: nothing of it is emitted
    unreachable: bool = False  # the current position in this frame is dead

    @property
    def branch_arity(self) -> int:
        return 0 if self.kind == "loop" else self.results


class FunctionCompiler:
    def __init__(self, mod: ModuleLowering, index: int, code: tuple[Instr, ...]) -> None:
        self.mod = mod
        self.index = index
        self.code = code
        self.program = mod.program
        self.type = self.program.func_type(index)
        body = self.program.bodies[index - self.program.imported_funcs]
        self.locals = (*self.type.params, *body.locals)
        self.zeroed = locals_to_zero(code, len(self.type.params), len(body.locals))
        self.static = mod.layout.is_static(index)
        self.frame = mod.layout.static_frames.get(index)
        self.frame_bytes = 32 * mod.layout.frame_words[index]
        self.out: list[str] = []
        self.height = 0
        self.ctrls: list[_Ctrl] = []

    # ---- helpers ---------------------------------------------------------------------

    def fail(self, what: str, ins: Instr | None = None) -> CompileError:
        where = self.program.describe(self.index)
        at = f" (byte {ins.offset})" if ins is not None else ""
        return CompileError(
            f"cannot lower {what} in {where}{at}: not supported on ZVM",
            function=where, instruction=what,
        )

    def emit(self, *lines: str) -> None:
        for line in lines:
            if line.startswith("TRAP:"):
                self.out += [f"PUSH @{self.mod.trap(line[5:])}", "JUMPI"]
            else:
                self.out.append(line)

    def label(self, name: str) -> None:
        self.out.append(f"{name}: JUMPDEST")

    def local_addr(self, i: int) -> list[str]:
        off = self.mod.layout.local_offset(i)
        if self.static:
            return [f"PUSH {self.frame + off}"]
        return [f"PUSH {FP_SLOT}", "MLOAD", f"PUSH {off}", "ADD"]

    # ---- prologue and epilogue -------------------------------------------------------

    def prologue(self) -> None:
        nparams = len(self.type.params)
        self.label(self.mod.func_label(self.index))
        if self.static:
            # [args.., ret]: the return address, then the arguments, last one on top
            self.emit(f"PUSH {self.frame}", "MSTORE")
            for i in reversed(range(nparams)):
                self.emit(*self.local_addr(i), "MSTORE")
            for i in self.zeroed:
                self.emit("PUSH 0", *self.local_addr(i), "MSTORE")
            return
        size = self.frame_bytes
        limit = self.mod.layout.stack_limit + size
        self.emit(f"PUSH {FP_SLOT}", "MLOAD",  # [args.., ret, old]
                  f"PUSH {limit}", "DUP2", "LT", f"TRAP:{STACK_EXHAUSTED}",
                  f"PUSH {size}", "SWAP1", "SUB",  # [args.., ret, new]
                  "DUP1", f"PUSH {FP_SLOT}", "MSTORE",
                  "SWAP1", "DUP2", "MSTORE")  # [args.., new]
        for i in reversed(range(nparams)):
            self.emit("SWAP1", "DUP2", f"PUSH {self.mod.layout.local_offset(i)}", "ADD",
                      "MSTORE")
        for i in self.zeroed:
            self.emit("PUSH 0", "DUP2", f"PUSH {self.mod.layout.local_offset(i)}", "ADD",
                      "MSTORE")
        self.emit("POP")

    def epilogue(self) -> None:
        """[results..] -> jump to the return address, the caller's frame restored."""
        if self.static:
            self.emit(f"PUSH {self.frame}", "MLOAD", "JUMP")
        else:
            self.emit(f"PUSH {FP_SLOT}", "MLOAD", "DUP1", "MLOAD", "SWAP1",
                      f"PUSH {self.frame_bytes}", "ADD", f"PUSH {FP_SLOT}", "MSTORE", "JUMP")

    # ---- driver ----------------------------------------------------------------------

    def compile(self) -> list[str]:
        for t in (*self.locals, *self.type.results):
            if t not in _INTS:
                raise self.fail(f"a {t} value")
        if len(self.type.results) > 1:
            raise self.fail("a function with several results")
        self.prologue()
        end = self.mod.asm.fresh("ret")
        self.ctrls.append(_Ctrl("func", end, end, None, 0, len(self.type.results)))
        for ins in self.code:
            self.step(ins)
        if self.ctrls:
            raise CompileError(f"{self.program.describe(self.index)}: body ends inside a block")
        return self.out

    def step(self, ins: Instr) -> None:
        name = ins.name
        top = self.ctrls[-1]
        if top.unreachable or top.dead:
            if name in ("block", "loop", "if"):
                self.ctrls.append(_Ctrl(name, "", "", None, self.height, 0, dead=True))
            elif name in ("else", "end"):
                self.structure(ins)
            return
        self.out.append(f"{self.mod.mark(self.index, ins.offset)}:")  # for the pc map
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, ins)
        elif name in NUMERIC:
            seq, pops = NUMERIC[name]
            self.emit(*seq)
            self.height += 1 - pops
        elif name in ACCESS:
            self.memory_access(ins)
        else:
            raise self.fail(name, ins)

    # ---- control ---------------------------------------------------------------------

    def block_results(self, ins: Instr) -> int:
        if ins.imm is None:
            return 0
        if ins.imm in _INTS:
            return 1
        if isinstance(ins.imm, tuple):
            raise self.fail(f"a {ins.name} with a multi-value type", ins)
        raise self.fail(f"a {ins.name} of {ins.imm} values", ins)

    def structure(self, ins: Instr) -> None:
        name = ins.name
        if name in ("block", "loop"):
            results = self.block_results(ins)
            label = self.mod.asm.fresh(name)
            self.ctrls.append(_Ctrl(name, label, label, None, self.height, results))
            if name == "loop":
                self.label(label)
        elif name == "if":
            results = self.block_results(ins)
            self.height -= 1
            end, else_ = self.mod.asm.fresh("endif"), self.mod.asm.fresh("else")
            self.emit("ISZERO", f"PUSH @{else_}", "JUMPI")
            self.ctrls.append(_Ctrl("if", end, end, else_, self.height, results))
        elif name == "else":
            c = self.ctrls[-1]
            if c.dead:
                return
            if not c.unreachable:
                self.emit(f"PUSH @{c.end}", "JUMP")
            assert c.else_ is not None
            self.label(c.else_)
            c.else_ = None
            c.unreachable = False
            self.height = c.height
        else:  # end
            c = self.ctrls.pop()
            if c.dead:
                return
            if c.else_ is not None:  # an if without else
                self.label(c.else_)
            if c.kind != "loop":
                self.label(c.end)
            self.height = c.height + c.results
            if c.kind == "func":
                self.epilogue()

    def discard_to(self, target: _Ctrl) -> None:
        """Drop what lies between the target's entry height and the values it takes."""
        keep = target.branch_arity
        extra = self.height - target.height - keep
        if extra < 0:
            raise CompileError(f"{self.program.describe(self.index)}: stack underflow at a branch")
        self.emit(*(["SWAP1", "POP"] if keep else ["POP"]) * extra)

    def dead(self) -> None:
        self.ctrls[-1].unreachable = True

    def br(self, ins: Instr) -> None:
        target = self.ctrls[-1 - ins.imm]
        self.discard_to(target)
        self.emit(f"PUSH @{target.target}", "JUMP")
        self.dead()

    def br_if(self, ins: Instr) -> None:
        target = self.ctrls[-1 - ins.imm]
        self.height -= 1
        extra = self.height - target.height - target.branch_arity
        if extra == 0:
            self.emit(f"PUSH @{target.target}", "JUMPI")
            return
        skip = self.mod.asm.fresh("nobr")
        self.emit("ISZERO", f"PUSH @{skip}", "JUMPI")
        saved = self.height
        self.discard_to(target)
        self.height = saved
        self.emit(f"PUSH @{target.target}", "JUMP")
        self.label(skip)

    def br_table(self, ins: Instr) -> None:
        targets, default = ins.imm
        self.height -= 1
        saved = self.height
        inside, table = self.mod.asm.fresh("brt_in"), self.mod.asm.fresh("brt")
        self.emit("DUP1", f"PUSH {len(targets)}", "GT", f"PUSH @{inside}", "JUMPI", "POP")
        self.discard_to(self.ctrls[-1 - default])
        self.emit(f"PUSH @{self.ctrls[-1 - default].target}", "JUMP")
        self.label(inside)
        self.emit(f"PUSH {ENTRY_BYTES}", "MUL", f"PUSH @{table}", "ADD", "JUMP")
        stubs: dict[int, str] = {}
        for depth in dict.fromkeys(targets):
            self.height = saved
            target = self.ctrls[-1 - depth]
            if self.height - target.height - target.branch_arity == 0:
                stubs[depth] = target.target
                continue
            stubs[depth] = self.mod.asm.fresh("brt_stub")
            self.label(stubs[depth])
            self.discard_to(target)
            self.emit(f"PUSH @{target.target}", "JUMP")
        self.out.append(f"{table}:")
        for depth in targets:
            self.out += jump_entry(stubs[depth])
        self.height = saved
        self.dead()

    def return_(self, ins: Instr) -> None:
        self.discard_to(self.ctrls[0])
        self.emit(f"PUSH @{self.ctrls[0].target}", "JUMP")
        self.dead()

    def unreachable(self, ins: Instr) -> None:
        self.emit(f"PUSH @{self.mod.trap(UNREACHABLE)}", "JUMP")
        self.dead()

    # ---- calls -----------------------------------------------------------------------

    def call(self, ins: Instr) -> None:
        callee = ins.imm
        ftype = self.program.func_type(callee)
        if callee < self.program.imported_funcs:
            imp = [i for i in self.program.module.imports if i.kind == "func"][callee]
            why = unlowered(imp.name)
            if why is not None:
                raise self.fail(why, ins)
            self.emit(*lower_host_call(host_call(imp.name), self.mod.memory))
        else:
            ret = self.mod.asm.fresh("back")
            self.emit(f"PUSH @{ret}", f"PUSH @{self.mod.func_label(callee)}", "JUMP")
            self.label(ret)
        self.height += len(ftype.results) - len(ftype.params)

    def call_indirect(self, ins: Instr) -> None:
        type_index, table_index = ins.imm
        if table_index != 0:
            raise self.fail("call_indirect through a table other than 0", ins)
        ftype = self.program.module.types[type_index]
        if any(t not in _INTS for t in (*ftype.params, *ftype.results)):
            raise self.fail(f"call_indirect of type {ftype}", ins)
        ret = self.mod.asm.fresh("back")
        size = len(self.program.table)
        self.emit(f"PUSH @{ret}", "SWAP1",  # [args.., ret, idx]
                  "DUP1", f"PUSH {size}", "GT", "ISZERO", f"TRAP:{UNDEFINED_ELEMENT}",
                  f"PUSH {ENTRY_BYTES}", "MUL", f"PUSH @{self.mod.indirect_table(type_index)}",
                  "ADD", "JUMP")
        self.label(ret)
        self.height += len(ftype.results) - len(ftype.params) - 1

    # ---- variables -------------------------------------------------------------------

    def local_get(self, ins: Instr) -> None:
        self.emit(*self.local_addr(self.local_index(ins)), "MLOAD")
        self.height += 1

    def local_set(self, ins: Instr) -> None:
        self.emit(*self.local_addr(self.local_index(ins)), "MSTORE")
        self.height -= 1

    def local_tee(self, ins: Instr) -> None:
        self.emit("DUP1", *self.local_addr(self.local_index(ins)), "MSTORE")

    def local_index(self, ins: Instr) -> int:
        if ins.imm >= len(self.locals):
            raise CompileError(f"{self.program.describe(self.index)}: no local {ins.imm}")
        return ins.imm

    def global_get(self, ins: Instr) -> None:
        g = self.program.globals[ins.imm]
        if g.mutable:
            self.emit(f"PUSH {self.mod.layout.global_addr(ins.imm)}", "MLOAD")
        else:
            self.emit(f"PUSH {g.init}")
        self.height += 1

    def global_set(self, ins: Instr) -> None:
        g = self.program.globals[ins.imm]
        if ins.imm == 0 and self.mod.shadow_stack and g.type == "i32":
            # Zig's __stack_pointer, global 0, counts down from its initial value; below
            # address 0 it wraps to a huge one. Stop there, as a stack overflow, rather
            # than at the next access as an out-of-bounds one.
            self.emit("DUP1", f"PUSH {g.init}", "LT", f"TRAP:{SHADOW_STACK_EXHAUSTED}")
        self.emit(f"PUSH {self.mod.layout.global_addr(ins.imm)}", "MSTORE")
        self.height -= 1

    # ---- stack and constants ---------------------------------------------------------

    def const(self, ins: Instr) -> None:
        self.emit(f"PUSH {ins.imm & MASK[32 if ins.name == 'i32.const' else 64]}")
        self.height += 1

    def drop(self, ins: Instr) -> None:
        self.emit("POP")
        self.height -= 1

    def select(self, ins: Instr) -> None:
        if ins.imm is not None and any(t not in (0x7F, 0x7E) for t in ins.imm):
            raise self.fail("select of non-integer values", ins)
        # [a, b, c] -> c ? a : b, branch-free: b ^ ((a ^ b) * (c != 0))
        self.emit("ISZERO", "ISZERO", "DUP3", "DUP3", "XOR", "MUL", "XOR", "SWAP1", "POP")
        self.height -= 2

    def nop(self, ins: Instr) -> None:
        pass

    # ---- memory ----------------------------------------------------------------------

    def memory_access(self, ins: Instr) -> None:
        n, signed, bits = ACCESS[ins.name]
        offset = ins.imm[1]
        mem = self.mod.memory
        if bits:  # a load: [addr] -> [value]
            if offset:
                self.emit(f"PUSH {offset}", "ADD")
            if n == 1:
                self.emit(*mem.load_byte())
            else:
                ret = self.mod.asm.fresh("back")
                self.emit(f"PUSH @{ret}", "SWAP1", f"PUSH @{self.mod.load_routine(n)}", "JUMP")
                self.label(ret)
            if signed:
                self.emit(f"PUSH {n - 1}", "SIGNEXTEND", f"PUSH {MASK[bits]}", "AND")
            return
        # a store: [addr, value] -> []
        if offset:
            self.emit("SWAP1", f"PUSH {offset}", "ADD", "SWAP1")
        if n == 1:
            self.emit(*mem.store_byte())
        else:
            ret = self.mod.asm.fresh("back")
            self.emit(f"PUSH @{ret}", "SWAP2", f"PUSH @{self.mod.store_routine(n)}", "JUMP")
            self.label(ret)
        self.height -= 2

    def memory_size(self, ins: Instr) -> None:
        if self.mod.layout.grows:
            self.emit(*self.mod.memory.current_size(), "PUSH 16", "SHR")
        else:
            self.emit(f"PUSH {self.mod.layout.initial_pages}")
        self.height += 1

    def memory_grow(self, ins: Instr) -> None:
        asm = self.mod.asm
        self.emit(*self.mod.memory.grow(asm.fresh("grow_fail"), asm.fresh("grow_done")))


#: Bytes of one jump-table entry: JUMPDEST, PUSH4 target, JUMP.
ENTRY_BYTES = 7


def jump_entry(label: str) -> list[str]:
    return ["JUMPDEST", f"PUSH4 @{label}", "JUMP"]


_HANDLERS = {
    "block": FunctionCompiler.structure, "loop": FunctionCompiler.structure,
    "if": FunctionCompiler.structure, "else": FunctionCompiler.structure,
    "end": FunctionCompiler.structure,
    "br": FunctionCompiler.br, "br_if": FunctionCompiler.br_if,
    "br_table": FunctionCompiler.br_table, "return": FunctionCompiler.return_,
    "unreachable": FunctionCompiler.unreachable, "nop": FunctionCompiler.nop,
    "call": FunctionCompiler.call, "call_indirect": FunctionCompiler.call_indirect,
    "local.get": FunctionCompiler.local_get, "local.set": FunctionCompiler.local_set,
    "local.tee": FunctionCompiler.local_tee,
    "global.get": FunctionCompiler.global_get, "global.set": FunctionCompiler.global_set,
    "i32.const": FunctionCompiler.const, "i64.const": FunctionCompiler.const,
    "drop": FunctionCompiler.drop, "select": FunctionCompiler.select,
    "memory.size": FunctionCompiler.memory_size, "memory.grow": FunctionCompiler.memory_grow,
}
