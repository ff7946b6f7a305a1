"""The parts of a WebAssembly module the lowering needs beyond wasm_module's reader:
memory, globals, tables and element segments, the start function, data segments,
function bodies and the name section.

Only what WebAssembly 1.0 can express is accepted here (constant initializers, active
segments of memory and table 0); anything else is a CompileError naming what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import CompileError
from ...vm.host_table import HOST_MODULE
from ...vm.wasm_instructions import CodeReader
from ...vm.wasm_module import FuncType, WasmModule, parse_module

_TABLE, _MEMORY, _GLOBAL, _START, _ELEMENT, _CODE, _DATA = 4, 5, 6, 8, 9, 10, 11
_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
             0x70: "funcref", 0x6F: "externref"}
PAGE = 64 * 1024


@dataclass(frozen=True)
class Memory:
    min_pages: int
    max_pages: int | None


@dataclass(frozen=True)
class Global:
    type: str
    mutable: bool
    init: int  # the constant initial value, unsigned at the type's width


@dataclass(frozen=True)
class DataSegment:
    offset: int
    data: bytes


@dataclass(frozen=True)
class Body:
    index: int  # in the function index space (imports first)
    locals: tuple[str, ...]  # declared locals, after the parameters
    start: int  # first instruction byte in the module
    end: int  # one past the final `end`


@dataclass(frozen=True)
class Program:
    module: WasmModule
    code: bytes
    imported_funcs: int
    bodies: tuple[Body, ...]
    memory: Memory | None
    globals: tuple[Global, ...]
    table: tuple[int | None, ...]  # function index per table slot (None: null)
    start: int | None
    data: tuple[DataSegment, ...]
    names: dict[int, str]  # function index -> name, from exports and the name section

    def func_type(self, index: int) -> FuncType:
        t = self.module.function_type(index)
        assert t is not None
        return t

    def describe(self, index: int) -> str:
        name = self.names.get(index)
        return f"function {name!r}" if name else f"function #{index}"


def read_program(code: bytes) -> Program:
    code = bytes(code)
    module = parse_module(code)
    imported = sum(1 for i in module.imports if i.kind == "func")
    for imp in module.imports:
        if imp.kind != "func":
            raise CompileError(f"cannot lower a module importing a {imp.kind} ({imp})")
        if imp.module != HOST_MODULE:
            raise CompileError(f"cannot lower an import from module {imp.module!r} ({imp}): "
                               f'only host functions from "{HOST_MODULE}" map to HOSTCALL')
    sections = {s.id: s for s in module.sections if s.id != 0}
    memory = None
    globals_: tuple[Global, ...] = ()
    table: tuple[int | None, ...] = ()
    start = None
    data: tuple[DataSegment, ...] = ()
    bodies: tuple[Body, ...] = ()
    if _MEMORY in sections:
        memory = _read_memory(_reader(code, sections[_MEMORY]))
    if _GLOBAL in sections:
        globals_ = _read_globals(_reader(code, sections[_GLOBAL]))
    if _TABLE in sections:
        size = _read_table_size(_reader(code, sections[_TABLE]))
        table = (None,) * size
    if _ELEMENT in sections:
        table = _read_elements(_reader(code, sections[_ELEMENT]), table)
    if _START in sections:
        start = _reader(code, sections[_START]).uleb()
    if _DATA in sections:
        data = _read_data(_reader(code, sections[_DATA]))
    if _CODE in sections:
        bodies = _read_code(_reader(code, sections[_CODE]), imported)
    if len(bodies) != len(module.function_types):
        raise CompileError(
            f"module declares {len(module.function_types)} functions but has "
            f"{len(bodies)} bodies"
        )
    names = {e.index: e.name for e in module.exports if e.kind == "func"}
    for imp_index, imp in enumerate(i for i in module.imports if i.kind == "func"):
        names[imp_index] = f"{imp.module}.{imp.name}"
    for c in module.custom_sections:
        if c.name == "name":
            for index, name in _read_function_names(c.payload).items():
                names.setdefault(index, name)
    return Program(module, code, imported, bodies, memory, globals_, table, start, data, names)


def _reader(code: bytes, s) -> CodeReader:
    return CodeReader(code, s.content_start, s.end)


def _read_memory(r: CodeReader) -> Memory | None:
    count = r.uleb()
    if count == 0:
        return None
    if count > 1:
        raise CompileError("cannot lower a module with more than one memory")
    flags = r.byte()
    if flags & ~0x01:
        raise CompileError(f"cannot lower a memory with limits flags 0x{flags:02x} "
                           "(shared or 64-bit memory)")
    low = r.uleb()
    high = r.uleb() if flags & 1 else None
    return Memory(low, high)


def _read_table_size(r: CodeReader) -> int:
    count = r.uleb()
    if count == 0:
        return 0
    if count > 1:
        raise CompileError("cannot lower a module with more than one table")
    if r.byte() != 0x70:
        raise CompileError("cannot lower a table of anything but funcref")
    flags = r.byte()
    low = r.uleb()
    if flags & 1:
        r.uleb()
    return low


def _const_expr(r: CodeReader, valtype: str) -> int:
    op = r.byte()
    if op == 0x41 and valtype == "i32":
        value = r.sleb(32) & 0xFFFF_FFFF
    elif op == 0x42 and valtype == "i64":
        value = r.sleb(64) & 0xFFFF_FFFF_FFFF_FFFF
    else:
        raise CompileError(
            f"cannot lower a {valtype} initializer starting with opcode 0x{op:02x} "
            "(only integer constants are supported)"
        )
    if r.byte() != 0x0B:
        raise CompileError("cannot lower an initializer longer than one constant")
    return value


def _read_globals(r: CodeReader) -> tuple[Global, ...]:
    out = []
    for _ in range(r.uleb()):
        valtype = _VALTYPES.get(r.byte(), "?")
        if valtype not in ("i32", "i64"):
            raise CompileError(f"cannot lower a global of type {valtype}")
        mutable = r.byte() == 1
        out.append(Global(valtype, mutable, _const_expr(r, valtype)))
    return tuple(out)


def _read_elements(r: CodeReader, table: tuple[int | None, ...]) -> tuple[int | None, ...]:
    slots = list(table)
    for _ in range(r.uleb()):
        kind = r.uleb()
        if kind not in (0, 2):
            raise CompileError(f"cannot lower element segment kind {kind} (only active "
                               "segments of function indices)")
        if kind == 2:
            if r.uleb() != 0:
                raise CompileError("cannot lower an element segment for a table other than 0")
        offset = _const_expr(r, "i32")
        if kind == 2 and r.byte() != 0x00:
            raise CompileError("cannot lower an element segment of expressions")
        funcs = [r.uleb() for _ in range(r.uleb())]
        if offset + len(funcs) > len(slots):
            raise CompileError("element segment does not fit in the table")
        slots[offset : offset + len(funcs)] = funcs
    return tuple(slots)


def _read_data(r: CodeReader) -> tuple[DataSegment, ...]:
    out = []
    for _ in range(r.uleb()):
        kind = r.uleb()
        if kind == 1:
            raise CompileError("cannot lower a passive data segment (bulk memory)")
        if kind == 2 and r.uleb() != 0:
            raise CompileError("cannot lower a data segment for a memory other than 0")
        if kind not in (0, 2):
            raise CompileError(f"cannot lower data segment kind {kind}")
        offset = _const_expr(r, "i32")
        out.append(DataSegment(offset, r.take(r.uleb())))
    return tuple(out)


def _read_code(r: CodeReader, imported: int) -> tuple[Body, ...]:
    out = []
    for i in range(r.uleb()):
        size = r.uleb()
        end = r.pos + size
        if end > r.end:
            raise r.fail("function body runs past the code section")
        body = CodeReader(r.data, r.pos, end)
        local_types: list[str] = []
        for _ in range(body.uleb()):
            n = body.uleb()
            t = _VALTYPES.get(body.byte(), "?")
            if len(local_types) + n > 50_000:
                raise CompileError(f"function #{imported + i} declares too many locals")
            local_types.extend([t] * n)
        out.append(Body(imported + i, tuple(local_types), body.pos, end))
        r.pos = end
    return tuple(out)


def _read_function_names(payload: bytes) -> dict[int, str]:
    """Subsection 1 of the name section; a malformed one is ignored (names are only
    for messages)."""
    names: dict[int, str] = {}
    r = CodeReader(payload, 0, len(payload))
    try:
        while r.pos < r.end:
            sub = r.byte()
            size = r.uleb()
            end = r.pos + size
            if sub == 1:
                for _ in range(r.uleb()):
                    index = r.uleb()
                    names[index] = r.take(r.uleb()).decode("utf-8", errors="replace")
            r.pos = end
    except Exception:  # noqa: BLE001 - names are decoration; a bad section drops them
        return names
    return names
