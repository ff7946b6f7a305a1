"""What a module must pass before it is compiled, checked from its bytes alone.

`precheck` reads the module with the pure-Python reader (vm/wasm_module.py) and
refuses, with one line each: more than MAX_FUNCTIONS functions or MAX_GLOBALS globals,
code whose compile would outrun its deploy gas (`check_compile_cost`), imports the host
ABI does not provide, a memory that is not exported as `memory` or starts above the
memory limit, too many or too large tables or tables of anything but funcref, a
malformed ghost metadata section or ABI (vm/deploy_checks.py), and ABI functions that are
not exported as `() -> ()` functions. None of it compiles anything, so a refused deploy
costs the node a parse, not a compile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import wasmtime

from ghost_cli.exceptions import InvalidModuleError, UnknownImportError
from ghost_cli.vm.deploy_checks import abi_from_metadata
from ghost_cli.vm.host_table import ABI_VERSION, BY_NAME, HOST_MODULE
from ghost_cli.vm.types import Limits

from .traps import WASM_PAGE, one_line, size_text

MEMORY_EXPORT = "memory"
ENTRY_SIGNATURE = "() -> ()"
#: Functions a module may define. Compile time grows with the count far more than with
#: bytes (25,000 one-instruction functions, 547 KB: 12 s to compile on a loaded machine);
#: ghost's Zig contracts define 8-90 (about 420 built in Debug).
MAX_FUNCTIONS = 4096
#: Globals a module may define. Each is set up at every call, paid by no gas: 50,000 added
#: 0.42 ms to each call, which then ran at 31 gas per µs. ghost's Zig contracts define 1.
MAX_GLOBALS = 1024
#: Cranelift gives a loop header a block parameter per local live across it, and its
#: compile of a function grew with locals squared times loops (about 1 ns each, measured
#: 2026-12-07 from 100 to 8,000 locals and 1 to 4,000 nested loops), whatever the
#: module's size: 2,000 locals across 2,000 loops is a 26 KB module that took 11 s and
#: hundreds of MB to compile, for 5 million gas of deploy. The sum over a module's
#: functions is kept under this, about 0.3 s of compile; ghost's Zig contracts come to
#: a few thousand (at most 52 locals and 3 loops in a function).
MAX_LOCAL_LOOPS = 300_000_000
#: Cranelift's compile of a function also grew with the square of its basic blocks,
#: whatever its locals (fuel and epoch checks add a variable live through every block):
#: 10,000 `br_if`s in one function took 1.0 s, 20,000 took 3.6 s; 8,000 flat loops
#: 2.8 s; 20,000 `call_indirect`s 5.5 s (measured 2026-12-07, about 10-16 ns per
#: block-making instruction squared, 4 times that for a `loop`, 2.5 ns per br_table
#: label). Each function's count of them (`_BLOCK_BYTES`, a loop counting twice)
#: squared, summed over the module, is kept under this, about 0.3 s of compile; ghost's
#: Zig contracts come to at most 500,000 (in-contract Ed25519 and ML-DSA-65 verifiers,
#: every optimize mode).
MAX_BLOCKS_SQUARED = 20_000_000
#: A function's `call` instructions cost its compile about 8 µs each (fuel is saved and
#: reloaded around every call): 250,000 in one 500 KB function took 2.5 s. A module may
#: hold at most this many, about 0.3 s; ghost's Zig contracts hold at most 3,800.
MAX_CALLS = 32_768
#: Every local is a value Cranelift sets up and compiled code zeroes, whether used or
#: not: 200 functions of 50,000 unused locals, a 1.6 KB module, took 0.5 s of CPU and
#: 1 GB of memory to compile (4,096 of them would have exhausted the machine). A module's
#: locals (parameters included) may come to this in all, about 10 MB and 5 ms; ghost's
#: Zig contracts come to at most 7,100.
MAX_LOCALS = 100_000
#: Float arithmetic and conversions are compiled with NaN canonicalization (the same NaN
#: bits on every machine), about 17-21 µs of compile and 2-4 KB of memory each, 1 byte of
#: code: 520,000 `f64.sqrt`s took 20 s and 900 MB. A module may hold this many, about
#: 0.35 s; ghost's Zig contracts hold none.
MAX_FLOAT_OPS = 16_384
#: Table instructions (reference types, which wasmtime cannot turn off) compile to about
#: 35-170 µs each: 20,000 `table.grow`s took 3 s and 420 MB. A module may hold this many,
#: about 0.3 s; ghost's Zig contracts hold none.
MAX_TABLE_OPS = 2_048
#: A local read after many blocks since it was set costs Cranelift's SSA construction a
#: walk back through them: 4,000 `if`s each setting one of 4,000 locals, all read after,
#: a 56 KB module, took 2.0 s and 560 MB (about 0.13 µs per local and block). Each
#: function's locals times its weighted blocks, summed over the module, is kept under
#: this, about 0.5 s; ghost's Zig contracts come to at most 610,000 (a Debug build).
MAX_LOCALS_BLOCKS = 4_000_000
#: A local set inside `if`s nested deep needs a merge at every level out: one local set
#: in each of 4,000 nested ifs took 30 s and 2.4 GB for 56 KB (1.3-1.9 µs per local and
#: level). Each function's distinct locals set times its deepest nesting, summed over the
#: module, is kept under this, about 0.5 s; ghost's Zig contracts come to at most 20,000.
MAX_SETS_DEPTH = 250_000
#: Block-making instructions by opcode: block, loop (counting twice), if, else, br,
#: br_if, call_indirect, and the tail calls 0x12 and 0x13 (which the decoder does not
#: read: they only ever count in a bound). A `br_table` (0x0E) counts its distinct
#: labels, each an edge Cranelift gives a block of its own (20 tables of 1,000 labels
#: took 1.0 s, 40 of them 3.6 s).
_BLOCK_BYTES = {0x02: 1, 0x03: 2, 0x04: 1, 0x05: 1, 0x0C: 1, 0x0D: 1,
                0x11: 1, 0x12: 1, 0x13: 1}
_OPENERS = (0x02, 0x03, 0x04)  # block, loop, if: a label's depth is below their count
_LOOP, _END, _CALL, _BR_TABLE = 0x03, 0x0B, 0x10, 0x0E
#: f32/f64 arithmetic (0x8B-0xA6), truncations to integers (0xA8-0xAB, 0xAE-0xB1),
#: conversions, demote and promote (0xB2-0xBB); with 0xFC, the saturating truncations.
_FLOAT_OPS = frozenset(range(0x8B, 0xA7)) | frozenset(range(0xA8, 0xAC)) | frozenset(
    range(0xAE, 0xBC))
#: table.get, table.set; with 0xFC, table.grow, table.size and table.fill.
_TABLE_OPS = frozenset((0x25, 0x26))
_SETS = (0x21, 0x22)  # local.set, local.tee
_PREFIX_FC = 0xFC
_FC_TABLE_OPS = ("table.grow", "table.size", "table.fill")
#: The saturating truncations: 0xFC instructions without immediates.
_FRAMED_UNSUPPORTED = ("i32.trunc_sat_", "i64.trunc_sat_")
_CODE_SECTION = 10


def signature_text(params: tuple[str, ...] | tuple[tuple[str, str], ...],
                   results: tuple[str, ...]) -> str:
    """A signature as the engine prints wasmtime's: `(i32, i32) -> i32`, `() -> ()`."""
    names = [p[1] if isinstance(p, tuple) else p for p in params]
    inner = ", ".join(results)
    out = f"({inner})" if len(results) != 1 else inner
    return f"({', '.join(names)}) -> {out}"


def check_import(name: str, known: bool, is_func: bool, got: str | None,
                 want: str | None) -> None:
    if not known:
        raise UnknownImportError(
            f"module imports {name}, which host ABI v{ABI_VERSION} does not provide")
    if not is_func:
        raise UnknownImportError(
            f"module imports {name} as a non-function; host ABI v{ABI_VERSION} provides "
            "it as a function")
    if got != want:
        raise UnknownImportError(
            f"module imports {name} with type {got}; host ABI v{ABI_VERSION} has {want}")


def check_memory_min(pages: int, limits: Limits) -> None:
    minimum = pages * WASM_PAGE
    if minimum > limits.memory_bytes:
        raise InvalidModuleError(
            f"invalid WebAssembly module: its memory starts at {size_text(minimum)}, above "
            f"the {size_text(limits.memory_bytes)} limit")


def invalid_module(exc: wasmtime.WasmtimeError) -> InvalidModuleError:
    """wasmtime's refusal of a module, as one line."""
    if "bulk memory support is not enabled" in str(exc):
        return InvalidModuleError(
            "module uses bulk-memory instructions (memory.copy/memory.fill), which "
            "cannot be metered; build it with `ghost build` (Zig -mcpu=mvp)")
    if "multi-value" in str(exc):
        return InvalidModuleError(
            "module uses multi-value (a function with several results, or a block with "
            "parameters or several results), which is off: it can cost far more to compile "
            "than a deploy pays for; build it with `ghost build` (Zig -mcpu=mvp)")
    message = one_line(str(exc))
    if "pooling allocator" in message:  # an instance too big for a slot (slots.py)
        reason = message.split(": ", 1)[-1].split("; breakdown")[0]
        return InvalidModuleError(f"module does not fit a call's instance slot: {reason}")
    return InvalidModuleError(f"invalid WebAssembly module: {message}")


#: The WebAssembly binary section that names a start function.
_START_SECTION = 8


def precheck(code: bytes, limits: Limits) -> None:
    from ghost_cli.vm.wasm_module import parse_module, read_metadata

    module = parse_module(code)
    if len(module.function_types) > MAX_FUNCTIONS:
        raise InvalidModuleError(
            f"invalid WebAssembly module: it defines {len(module.function_types)} functions, "
            f"at most {MAX_FUNCTIONS} allowed")
    if module.globals > MAX_GLOBALS:
        raise InvalidModuleError(
            f"invalid WebAssembly module: it defines {module.globals} globals, at most "
            f"{MAX_GLOBALS} allowed (each is set up at every call)")
    check_compile_cost(code, module)
    for imp in module.imports:
        row = BY_NAME.get(imp.name) if imp.module == HOST_MODULE else None
        want = signature_text(row.params, row.results) if row else None
        got = signature_text(imp.type.params, imp.type.results) if imp.type else None
        check_import(f"{imp.module}.{imp.name}", row is not None, imp.kind == "func", got,
                     want)
    if any(section.id == _START_SECTION for section in module.sections):
        raise InvalidModuleError(
            "invalid WebAssembly module: it has a start function, which would run at every "
            "call before the function called (a contract's code runs only as its ABI "
            "functions)")
    memory = module.export(MEMORY_EXPORT)
    if memory is None or memory.kind != "memory":
        raise InvalidModuleError(
            f"invalid WebAssembly module: it must export its memory as '{MEMORY_EXPORT}'")
    if memory.index < len(module.memories):
        check_memory_min(module.memories[memory.index].min, limits)
    if len(module.tables) > limits.max_tables:
        raise InvalidModuleError(
            f"invalid WebAssembly module: {len(module.tables)} tables, at most "
            f"{limits.max_tables} allowed")
    for index, element in enumerate(module.table_elements):
        if element != "funcref":  # an externref table needs a GC heap a call never has
            raise InvalidModuleError(
                f"invalid WebAssembly module: table {index} holds {element}; contract "
                "tables hold funcref")
    for index, table in enumerate(module.tables):
        if table.min > limits.max_table_elements:
            raise InvalidModuleError(
                f"invalid WebAssembly module: table {index} starts at {table.min} "
                f"elements, above the {limits.max_table_elements}-element limit")
    metadata = read_metadata(code)
    if metadata is None or "abi" not in metadata:
        return  # a bare module (tests, tools); a deploy requires the metadata
    for fn in abi_from_metadata(metadata).functions:
        export = module.export(fn.name)
        if export is None:
            raise InvalidModuleError(f"invalid contract: ABI function '{fn.name}' is not exported")
        if export.kind != "func":
            raise InvalidModuleError(
                f"invalid contract: ABI function '{fn.name}' is exported as a {export.kind}, "
                "not a function")
        ty = module.export_type(fn.name)
        sig = signature_text(ty.params, ty.results) if ty else "unknown"
        if sig != ENTRY_SIGNATURE:
            raise InvalidModuleError(
                f"invalid contract: ABI function '{fn.name}' is exported with type {sig}; "
                f"contract functions take and return nothing ({ENTRY_SIGNATURE})")


@dataclass(frozen=True)
class _Counts:
    """One body's loops, weighted block-making instructions, calls, float and table
    instructions, the locals it sets and how deep its blocks nest."""

    loops: int
    blocks: int
    calls: int
    floats: int
    tables: int
    sets: int  # distinct locals set (local.set, local.tee)
    depth: int  # deepest nesting of block, loop and if

    @classmethod
    def bound(cls, code: bytes, start: int, end: int) -> _Counts:
        """Every byte that could be one taken for one: never fewer than there are. A
        `br_table` reaches at most one label per enclosing block plus the function's, and
        its labels take a byte each."""
        tables = code.count(_BR_TABLE, start, end)
        labels = sum(code.count(b, start, end) for b in _OPENERS) + 1
        prefixed = code.count(_PREFIX_FC, start, end)
        return cls(code.count(_LOOP, start, end),
                   sum(w * code.count(b, start, end) for b, w in _BLOCK_BYTES.items())
                   + min(tables * labels, end - start),
                   code.count(_CALL, start, end),
                   sum(code.count(b, start, end) for b in _FLOAT_OPS) + prefixed,
                   sum(code.count(b, start, end) for b in _TABLE_OPS) + prefixed,
                   sum(code.count(b, start, end) for b in _SETS),
                   labels - 1)

    def __add__(self, other: _Counts) -> _Counts:
        """A decoded part and a bound for the rest: an upper bound of the whole (the
        deepest nesting is at most the part's plus every opener after it)."""
        return _Counts(self.loops + other.loops, self.blocks + other.blocks,
                       self.calls + other.calls, self.floats + other.floats,
                       self.tables + other.tables, self.sets + other.sets,
                       self.depth + other.depth)


#: What a module's compile may cost, each summed over its functions: (limit, what of a
#: function with `n` locals and `c` counts, how the refusal names it).
_COMPILE_LIMITS: tuple[tuple[int, Callable[[int, _Counts], int], str], ...] = (
    (MAX_LOCAL_LOOPS, lambda n, c: n * n * c.loops, "its functions' locals squared times loops"),
    (MAX_BLOCKS_SQUARED, lambda n, c: c.blocks * c.blocks,
     "its functions' blocks and branches squared"),
    (MAX_CALLS, lambda n, c: c.calls, "its call instructions"),
    (MAX_FLOAT_OPS, lambda n, c: c.floats, "its float arithmetic and conversion instructions"),
    (MAX_TABLE_OPS, lambda n, c: c.tables, "its table instructions"),
    (MAX_LOCALS_BLOCKS, lambda n, c: n * c.blocks, "its functions' locals times blocks"),
    (MAX_SETS_DEPTH, lambda n, c: min(n, c.sets) * c.depth,
     "its functions' locals set times nesting depth"),
)


def check_compile_cost(code: bytes, module) -> None:
    """Refuse a module whose compile would take far longer than its deploy gas pays for
    (`_COMPILE_LIMITS`). Every measure starts as an upper bound from byte counts (every
    0x03 byte taken for a `loop`, and so on); the largest bodies are decoded for exact
    counts only while a bound could pass its limit, so an ordinary contract is not
    decoded at all."""
    from ghost_cli.vm.wasm_module import ByteReader

    section = next((s for s in module.sections if s.id == _CODE_SECTION), None)
    if section is None:
        return
    r = ByteReader(code, section.content_start, section.end)
    bodies = []  # (measures from bounds, locals, start, end)
    for index in range(r.u32()):
        size = r.u32()
        body = ByteReader(code, r.pos, r.pos + size)
        r.take(size)
        kind = module.function_types[index] if index < len(module.function_types) else None
        n_locals = len(module.types[kind].params) if kind is not None else 0
        for _ in range(body.u32()):  # (count, type) runs; every local counts alike
            n_locals += body.u32()
            body.byte()
        bound = _Counts.bound(code, body.pos, body.end)
        bodies.append(([f(n_locals, bound) for _, f, _ in _COMPILE_LIMITS],
                       n_locals, body.pos, body.end))
    _within(sum(b[1] for b in bodies), MAX_LOCALS, "its functions' locals")  # exact now
    totals = [sum(b[0][i] for b in bodies) for i in range(len(_COMPILE_LIMITS))]
    limits = [limit for limit, _, _ in _COMPILE_LIMITS]
    # Largest first: a bomb is found after a body or two, an ordinary module's big
    # functions bring the bounds under the limits before its small ones are read.
    for measures, n_locals, start, end in sorted(
            bodies, key=lambda b: sum(m / limit for m, limit in zip(b[0], limits, strict=True)),
            reverse=True):
        if all(t <= limit for t, limit in zip(totals, limits, strict=True)):
            return
        exact = _count(code, start, end)
        for i, (_, f, _) in enumerate(_COMPILE_LIMITS):
            totals[i] += f(n_locals, exact) - measures[i]
    for total, (limit, _, what) in zip(totals, _COMPILE_LIMITS, strict=True):
        _within(total, limit, what)


def _within(total: int, limit: int, what: str) -> None:
    if total > limit:
        raise InvalidModuleError(
            f"invalid WebAssembly module: {what} come to {total:,}, at most {limit:,} "
            "allowed (it would take longer to compile than a deploy pays for)")


def _count(code: bytes, start: int, end: int) -> _Counts:
    """One body's counts, decoded; from the first instruction the decoder cannot frame,
    bounds from its bytes."""
    from ghost_cli.vm.wasm_instructions import CodeReader, UnsupportedEncoding, read_instr

    r = CodeReader(code, start, end)
    loops = blocks = calls = floats = tables = depth = deepest = 0
    sets: set[int] = set()
    while r.pos < r.end:
        try:
            instr = read_instr(r)
        except UnsupportedEncoding as exc:
            # 0xFC instructions the decoder names but refuses: read on after their
            # immediates (none, or a table index)
            if exc.name.startswith(_FRAMED_UNSUPPORTED):
                floats += 1
                continue
            if exc.name in _FC_TABLE_OPS:
                r.uleb()
                tables += 1
                continue
            return (_Counts(loops, blocks, calls, floats, tables, len(sets), deepest)
                    + _Counts.bound(code, exc.offset, end))
        op = instr.op
        loops += op == _LOOP
        blocks += _BLOCK_BYTES.get(op, 0)
        calls += op == _CALL
        floats += op in _FLOAT_OPS
        tables += op in _TABLE_OPS
        if op == _BR_TABLE:
            targets, default = instr.imm
            blocks += len({*targets, default})
        elif op in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif op == _END:
            depth -= 1
        elif op in _SETS:
            sets.add(instr.imm)  # type: ignore[arg-type]
    return _Counts(loops, blocks, calls, floats, tables, len(sets), deepest)
