"""A small pure-Python reader for the WebAssembly binary format.

Enough of the format to inspect a contract before it runs: validate the header and the
section framing, list imports and exports with function signatures, list custom
sections, and add a custom section. Code and data are skipped, not validated;
the engine validates them when it compiles the module.

Every malformed input raises InvalidModuleError with a one-line message saying what was
wrong and at which byte offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidModuleError
from ..formats import WASM
from .metadata_json import parse_metadata

VERSION = b"\x01\0\0\0"
HEADER = WASM.magic + VERSION

#: The custom section ghost writes at build time: JSON with the ABI and build facts.
METADATA_SECTION = "ghost.metadata"

_CUSTOM = 0
_TYPE = 1
_IMPORT = 2
_FUNCTION = 3
_TABLE = 4
_MEMORY = 5
_GLOBAL = 6
_EXPORT = 7
_LAST_KNOWN_SECTION = 13  # 12 is data count, 13 is tag (exception handling)

_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_VALTYPES = {
    0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
    0x70: "funcref", 0x6F: "externref",
}
_FUNC_FORM = 0x60


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str  # func | table | memory | global | tag
    type: FuncType | None = None  # the signature, for functions

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"module": self.module, "name": self.name, "kind": self.kind}
        if self.type is not None:
            out["params"] = list(self.type.params)
            out["results"] = list(self.type.results)
        return out


@dataclass(frozen=True)
class Export:
    name: str
    kind: str  # func | table | memory | global | tag
    index: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class CustomSection:
    name: str
    payload: bytes
    offset: int  # where the section (its id byte) starts in the module


@dataclass(frozen=True)
class Section:
    id: int
    start: int  # offset of the id byte
    content_start: int
    end: int  # one past the last content byte


@dataclass(frozen=True)
class Limits:
    """A table's or memory's declared size: minimum and optional maximum."""

    min: int
    max: int | None = None


@dataclass(frozen=True)
class WasmModule:
    sections: tuple[Section, ...]
    types: tuple[FuncType, ...]
    imports: tuple[Import, ...]
    exports: tuple[Export, ...]
    custom_sections: tuple[CustomSection, ...]
    function_types: tuple[int, ...] = ()  # type index of each defined (not imported) function
    tables: tuple[Limits, ...] = ()  # defined (not imported) tables, in elements
    memories: tuple[Limits, ...] = ()  # defined (not imported) memories, in 64 KiB pages
    table_elements: tuple[str, ...] = ()  # each defined table's element type ("funcref")
    globals: int = 0  # defined (not imported) globals

    def export(self, name: str) -> Export | None:
        return next((e for e in self.exports if e.name == name), None)

    def function_type(self, index: int) -> FuncType | None:
        """Signature of function `index` in the function index space (imports first)."""
        func_imports = [i for i in self.imports if i.kind == "func"]
        if index < len(func_imports):
            return func_imports[index].type
        local = index - len(func_imports)
        if local < len(self.function_types):
            return self.types[self.function_types[local]]
        return None

    def export_type(self, name: str) -> FuncType | None:
        """Signature of an exported function; None when absent or not a function."""
        e = self.export(name)
        if e is None or e.kind != "func":
            return None
        return self.function_type(e.index)


class ByteReader:
    """A cursor over bytes; every read is bounds-checked against `end`."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, what: str) -> InvalidModuleError:
        return InvalidModuleError(f"invalid WebAssembly module: {what} at byte {self.pos}")

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail(f"length {n} runs past the end")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        """Unsigned LEB128, at most 5 bytes, value below 2**32."""
        result = shift = 0
        for _ in range(5):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                if result >= 1 << 32:
                    raise self.fail("integer too large for u32")
                return result
            shift += 7
        raise self.fail("integer encoding longer than 5 bytes")

    def name(self) -> str:
        raw = self.take(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("name is not valid UTF-8") from None

    def valtype(self) -> str:
        b = self.byte()
        if b not in _VALTYPES:
            raise self.fail(f"unknown value type 0x{b:02x}")
        return _VALTYPES[b]

    def limits(self) -> Limits:
        flags = self.byte()
        if flags & ~0x07:
            raise self.fail(f"unknown limits flags 0x{flags:02x}")
        # memory64 (flag 4) stores u64 bounds; 10 LEB bytes at most.
        read = self._u64 if flags & 0x04 else self.u32
        minimum = read()
        return Limits(minimum, read() if flags & 0x01 else None)

    def _u64(self) -> int:
        result = shift = 0
        for _ in range(10):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
        raise self.fail("integer encoding longer than 10 bytes")

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise self.fail(f"{what} has {self.end - self.pos} unexpected trailing byte(s)")


def parse_module(code: bytes) -> WasmModule:
    """Parse the framing of every section and the type, import, export and custom ones."""
    code = bytes(code)
    if len(code) < len(HEADER):
        raise InvalidModuleError(
            f"invalid WebAssembly module: {len(code)} bytes is shorter than the 8-byte header"
        )
    if code[:4] != WASM.magic:
        raise InvalidModuleError("invalid WebAssembly module: missing the \\0asm magic number")
    if code[4:8] != VERSION:
        raise InvalidModuleError(
            f"invalid WebAssembly module: unsupported binary version {code[4:8].hex()}"
        )

    r = ByteReader(code, len(HEADER))
    sections: list[Section] = []
    types: tuple[FuncType, ...] = ()
    imports: tuple[Import, ...] = ()
    exports: tuple[Export, ...] = ()
    function_types: tuple[int, ...] = ()
    tables: tuple[Limits, ...] = ()
    table_elements: tuple[str, ...] = ()
    globals_ = 0
    memories: tuple[Limits, ...] = ()
    customs: list[CustomSection] = []
    seen: set[int] = set()
    while r.pos < len(code):
        start = r.pos
        sid = r.byte()
        size = r.u32()
        content_start = r.pos
        if sid > _LAST_KNOWN_SECTION:
            r.pos = start
            raise r.fail(f"unknown section id {sid}")
        if content_start + size > len(code):
            r.pos = start
            raise r.fail(f"section {sid} of {size} bytes runs past the end of the module")
        if sid != _CUSTOM:
            if sid in seen:
                r.pos = start
                raise r.fail(f"section {sid} appears twice")
            seen.add(sid)
        body = ByteReader(code, content_start, content_start + size)
        if sid == _CUSTOM:
            name = body.name()
            customs.append(CustomSection(name, code[body.pos : body.end], start))
        elif sid == _TYPE:
            types = _parse_types(body)
        elif sid == _IMPORT:
            imports = _parse_imports(body, types)
        elif sid == _FUNCTION:
            function_types = _parse_functions(body, len(types))
        elif sid == _TABLE:
            tables, table_elements = _parse_tables(body)
        elif sid == _GLOBAL:
            globals_ = body.u32()  # the count is all the checks need
        elif sid == _MEMORY:
            memories = _parse_memories(body)
        elif sid == _EXPORT:
            exports = _parse_exports(body)
        sections.append(Section(sid, start, content_start, content_start + size))
        r.pos = content_start + size
    return WasmModule(
        tuple(sections), types, imports, exports, tuple(customs), function_types, tables,
        memories, table_elements, globals_,
    )


def _parse_types(r: ByteReader) -> tuple[FuncType, ...]:
    out = []
    for _ in range(r.u32()):
        form = r.byte()
        if form != _FUNC_FORM:
            r.pos -= 1
            raise r.fail(f"unsupported type form 0x{form:02x}")
        params = tuple(r.valtype() for _ in range(r.u32()))
        results = tuple(r.valtype() for _ in range(r.u32()))
        out.append(FuncType(params, results))
    r.expect_end("the type section")
    return tuple(out)


def _parse_imports(r: ByteReader, types: tuple[FuncType, ...]) -> tuple[Import, ...]:
    out = []
    for _ in range(r.u32()):
        module, name = r.name(), r.name()
        kind_byte = r.byte()
        functype = None
        if kind_byte == 0:
            index = r.u32()
            if index >= len(types):
                raise r.fail(f"import {module}.{name} uses undefined type {index}")
            functype = types[index]
        elif kind_byte == 1:
            r.valtype()  # element reference type
            r.limits()
        elif kind_byte == 2:
            r.limits()
        elif kind_byte == 3:
            r.valtype()
            if r.byte() not in (0, 1):
                raise r.fail(f"bad mutability flag for global import {module}.{name}")
        elif kind_byte == 4:
            r.byte()  # tag attribute, always 0
            r.u32()
        else:
            raise r.fail(f"unknown import kind 0x{kind_byte:02x}")
        out.append(Import(module, name, _KINDS[kind_byte], functype))
    r.expect_end("the import section")
    return tuple(out)


def _parse_functions(r: ByteReader, type_count: int) -> tuple[int, ...]:
    out = []
    for _ in range(r.u32()):
        index = r.u32()
        if index >= type_count:
            raise r.fail(f"function uses undefined type {index}")
        out.append(index)
    r.expect_end("the function section")
    return tuple(out)


def _parse_tables(r: ByteReader) -> tuple[tuple[Limits, ...], tuple[str, ...]]:
    out, elements = [], []
    for _ in range(r.u32()):
        elements.append(r.valtype())  # element reference type
        out.append(r.limits())
    r.expect_end("the table section")
    return tuple(out), tuple(elements)


def _parse_memories(r: ByteReader) -> tuple[Limits, ...]:
    out = [r.limits() for _ in range(r.u32())]
    r.expect_end("the memory section")
    return tuple(out)


def _parse_exports(r: ByteReader) -> tuple[Export, ...]:
    out = []
    names: set[str] = set()
    for _ in range(r.u32()):
        name = r.name()
        kind_byte = r.byte()
        if kind_byte not in _KINDS:
            raise r.fail(f"unknown export kind 0x{kind_byte:02x}")
        if name in names:
            raise r.fail(f"export {name!r} appears twice")
        names.add(name)
        out.append(Export(name, _KINDS[kind_byte], r.u32()))
    r.expect_end("the export section")
    return tuple(out)


def encode_uleb(n: int) -> bytes:
    """`n` as unsigned LEB128, as the wasm binary format writes counts and sizes."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def add_custom_section(code: bytes, name: str, payload: bytes) -> bytes:
    """Return `code` with a custom section `name` holding `payload` appended at the end.

    Any earlier custom section of the same name is dropped, so the module carries exactly
    one and re-running a build step gives the same bytes.
    """
    module = parse_module(code)
    kept = bytearray(code[: len(HEADER)])
    for s in module.sections:
        if s.id == _CUSTOM and _custom_name(code, s) == name:
            continue
        kept += code[s.start : s.end]
    raw_name = name.encode("utf-8")
    content = encode_uleb(len(raw_name)) + raw_name + bytes(payload)
    return bytes(kept) + bytes([_CUSTOM]) + encode_uleb(len(content)) + content


def _custom_name(code: bytes, s: Section) -> str:
    return ByteReader(code, s.content_start, s.end).name()


def read_metadata(code: bytes) -> dict[str, Any] | None:
    """The JSON object in the `ghost.metadata` custom section, or None when there is none."""
    found = [c for c in parse_module(code).custom_sections if c.name == METADATA_SECTION]
    if not found:
        return None
    if len(found) > 1:
        raise InvalidModuleError(
            f"invalid WebAssembly module: {len(found)} {METADATA_SECTION} sections, expected one"
        )
    return parse_metadata(found[0].payload, f"{METADATA_SECTION} section")
