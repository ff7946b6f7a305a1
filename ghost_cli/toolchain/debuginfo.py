"""Debug info kept beside a build's artifact, and failures located with it.

`ghost build` compiles each contract once with DWARF and the wasm `name` section, then
splits the module: the deployed artifact gets every section but those (the same bytes as a
stripped compile), and `<out_dir>/<name>.debug.wasm` gets the whole unstripped module. For
the ZVM target the sidecar also holds the lowering's pc map (pc -> wasm function and byte
offset) and frame layout, as a `ghost.zvm_debug` custom section.

`locate(error, out_dir, contract)` turns the raw backtrace an engine put in an error's
details (`frames`: wasm function index and module byte offset, innermost first; or `pc`
and the frame memory on ZVM) into function names and Zig `file:line`s, read with
pyelftools from the sidecar's DWARF line table.
"""

from __future__ import annotations

import bisect
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..vm.wasm_module import ByteReader, parse_module

#: The suffix of the sidecar beside `<out_dir>/<name>.wasm` or `.zvmc`.
DEBUG_SUFFIX = ".debug.wasm"
ZVM_DEBUG_SECTION = "ghost.zvm_debug"
_CUSTOM = 0
_CODE = 10
#: Rows shown in a backtrace.
MAX_SHOWN = 8


def is_debug_section(name: str) -> bool:
    return name in ("name", "producers") or name.startswith(".debug_")


def strip_debug(code: bytes) -> bytes:
    """`code` without DWARF sections and the `name` section: what a stripped build gives."""
    module = parse_module(code)
    out = bytearray(code[:8])
    for s in module.sections:
        if s.id == _CUSTOM and is_debug_section(ByteReader(code, s.content_start, s.end).name()):
            continue
        out += code[s.start:s.end]
    return bytes(out)


def sidecar_path(out_dir: Path, contract: str, target: str = "wasm") -> Path:
    """`<name>.debug.wasm` beside `<name>.wasm`; `<name>.zvm.debug.wasm` beside `.zvmc`
    (a ZVM build compiles with a smaller stack, so its module differs)."""
    middle = "" if target == "wasm" else f".{target}"
    return out_dir / f"{contract}{middle}{DEBUG_SUFFIX}"


@dataclass(frozen=True)
class Location:
    function: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f" ({self.file}:{self.line})" if self.file else ""
        return f"{self.function}{where}"

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "file": self.file, "line": self.line}


class DebugInfo:
    """The sidecar of one contract: function names, line table and (ZVM) pc map."""

    def __init__(self, code: bytes) -> None:
        module = parse_module(code)
        self.sections: dict[str, bytes] = {
            c.name: c.payload for c in module.custom_sections}
        code_section = next((s for s in module.sections if s.id == _CODE), None)
        self.code_start = code_section.content_start if code_section else 0
        self.names = _function_names(self.sections.get("name", b""))
        # an exported contract function is best known by its ABI name
        self.names.update({e.index: e.name for e in module.exports if e.kind == "func"})
        self.lines = _line_table(self.sections)
        self.addresses = [a for a, _, _ in self.lines]
        raw = self.sections.get(ZVM_DEBUG_SECTION)
        self.zvm: dict[str, Any] | None = json.loads(raw) if raw else None

    def function(self, index: int) -> str:
        return self.names.get(index, f"wasm function {index}")

    def line_at(self, module_offset: int) -> tuple[str, int] | None:
        """The Zig file and line of the instruction at `module_offset`."""
        address = module_offset - self.code_start
        i = bisect.bisect_right(self.addresses, address) - 1
        if i < 0 or not self.lines:
            return None
        _, file, line = self.lines[i]
        return (file, line) if line else None

    def zvm_location(self, pc: int) -> Location | None:
        """The Zig function and line the lowered instruction at ZVM `pc` came from."""
        if self.zvm is None:
            return None
        i = bisect.bisect_right(self.zvm["pcs"], pc) - 1
        if i < 0:
            return None
        function, offset = self.zvm["marks"][i]
        return self.locate(function, offset)

    def zvm_step_name(self, pc: int) -> str:
        """How a trace names the ZVM instruction at `pc`: its Zig function and line, or
        `(dispatcher)` for code the lowering generated (the ABI dispatcher has no source)."""
        found = self.zvm_location(pc)
        return "(dispatcher)" if found is None else str(found)

    def locate(self, index: int, module_offset: int | None) -> Location:
        found = None  # no offset (a frame that overflowed on entry), or an old client's 2**64-1
        if module_offset is not None and module_offset < 1 << 32:
            found = self.line_at(module_offset)
        return Location(self.function(index), *(found or (None, None)))


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> DebugInfo:
    return DebugInfo(Path(path).read_bytes())


def load(out_dir: Path, contract: str, target: str = "wasm") -> DebugInfo | None:
    path = sidecar_path(out_dir, contract, target)
    try:
        return _load(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None
    except Exception:  # noqa: BLE001 - a sidecar we cannot read locates nothing, never fails the command
        return None


def backtrace(error_details: dict[str, Any], info: DebugInfo) -> list[Location]:
    """The located frames of an error, innermost first, SDK frames (the panic handler and
    the call-data codec) dropped so the first one is where the contract failed."""
    frames = [(int(f), None if o is None else int(o))
              for f, o in error_details.get("frames") or []]
    if not frames and "pc" in error_details and info.zvm is not None:
        frames = zvm_frames(info.zvm, int(error_details["pc"]),
                            error_details.get("_zvm_memory", b""))
    located = [info.locate(f, o) for f, o in frames]
    # wasmtime gives no offset for a frame that overflowed the stack on entry: when its
    # caller is the same function (recursion), that row says nothing more
    located = [loc for i, loc in enumerate(located)
               if loc.file or i + 1 >= len(located) or located[i + 1].function != loc.function]
    user = [loc for loc in located if not _in_sdk(loc)]
    if user:
        return user
    # Every line is the SDK's: the compiler merged the failed check's call into the export
    # wrapper the contract function was inlined into (its debug info keeps no line of the
    # contract there). Name the contract function, not the panic handler, without a line.
    outer = [Location(loc.function) for loc in located
             if not loc.function.startswith(("ghost.", "debug."))]
    return outer or located


def _in_sdk(loc: Location) -> bool:
    return (loc.file or "").endswith("ghost.zig") or loc.function.startswith(
        ("ghost.panic", "debug.", "ghost.Text"))


def locate(error: Any, out_dir: Path, contract: str) -> Any:
    """Locate `error` (an ExecutionError) in `contract`'s sidecar under `out_dir`: adds
    `details["backtrace"]`, `function` and `location`, and names the innermost located
    frame in the message. Returns the error to raise: `error` itself, or on ZVM, for a
    lowered trap site, the error the same trap gives on wasm (e.g. a stack overflow)."""
    details = error.details
    if "backtrace" in details:
        return error
    # a ZVM error carries a pc, a wasm one its frames
    info = load(out_dir, contract, "zvm" if "pc" in details else "wasm")
    if info is None:
        return error
    if error.code == "invalid_opcode" and info.zvm is not None and "pc" in details:
        return _zvm_trap(error, info.zvm, contract)
    if not (details.get("frames") or "pc" in details):
        return error
    memory = getattr(error, "zvm_memory", b"")
    located = backtrace({**details, "_zvm_memory": memory}, info)
    if not located:
        return error
    shown = _collapse(located)[:MAX_SHOWN]
    details["backtrace"] = shown
    first = next((loc for loc in located if loc.file), located[0])
    details["function"] = first.function
    where = ""
    if first.file:
        details["location"] = f"{first.file}:{first.line}"
        where = f" at {first.file}:{first.line}"
    name = first.function if first.function.startswith(f"{contract}.") \
        else f"{contract}.{first.function}"
    error.message = f"{error.message} ({name}{where})"
    error.args = (error.message,)
    return error


def _collapse(located: list[Location]) -> list[dict[str, Any]]:
    """Backtrace rows; a frame repeated in a row (recursion) is one row with `repeat`."""
    rows: list[dict[str, Any]] = []
    for loc in located:
        row = loc.to_json()
        if rows and {k: rows[-1][k] for k in row} == row:
            rows[-1]["repeat"] = rows[-1].get("repeat", 1) + 1
        else:
            rows.append(row)
    return rows


def _stack_ran_out(kind: str) -> str:
    """What ran out, for a ZVM stack trap: the lowering's frame stack (recursion only) or
    Zig's stack in linear memory (recursion, or one function's large locals)."""
    from ..config.defaults import ZVM_STACK_BYTES
    from .lowering.function import STACK_EXHAUSTED

    if kind == STACK_EXHAUSTED:
        return "the recursion ran past the bottom of the ZVM frame stack"
    return f"the call needed more than the {ZVM_STACK_BYTES // 1024} KiB stack of a ZVM build"


def _zvm_trap(error: Any, zvm: dict[str, Any], contract: str) -> Any:
    from ..exceptions import HostMemoryError, StackOverflowError, TrapError
    from .lowering.function import SHADOW_STACK_EXHAUSTED, STACK_EXHAUSTED
    from .lowering.hostcalls import HOST_RANGE_TRAP

    kind = zvm.get("traps", {}).get(str(error.details["pc"]))
    if kind is None:
        return error
    details = {k: v for k, v in error.details.items() if k != "pc"}
    details["trap_kind"] = kind
    if kind in (STACK_EXHAUSTED, SHADOW_STACK_EXHAUSTED):
        replaced: Any = StackOverflowError(
            f"stack overflow: {_stack_ran_out(kind)} (in {contract})",
            gas_used=error.gas_used, **details)
    elif kind.startswith(HOST_RANGE_TRAP):
        replaced = HostMemoryError(f"{kind} (in {contract})", gas_used=error.gas_used,
                                   **details)
    else:
        replaced = TrapError(f"trap: {kind} (in {contract})", gas_used=error.gas_used,
                             **details)
    return replaced


def describe_failure(details: dict[str, Any]) -> list[str]:
    """The backtrace, then the debug logs the call made before it failed."""
    lines = describe_backtrace(details)
    logs = details.get("logs") or []
    if logs:
        lines.append("logs before the failure:")
        # contract text: control characters shown escaped, never sent to the terminal
        lines += ["  " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(m))
                  for m in logs]
    return lines


def describe_backtrace(details: dict[str, Any]) -> list[str]:
    """Lines for a terminal: `  at function (file:line)`, innermost first."""
    out = []
    for b in details.get("backtrace") or []:
        times = f" ({b['repeat']} frames)" if b.get("repeat") else ""
        out.append(f"  at {Location(b['function'], b.get('file'), b.get('line'))}{times}")
    return out


# ---- readers -------------------------------------------------------------------------------


def _function_names(payload: bytes) -> dict[int, str]:
    """Subsection 1 (function names) of the wasm `name` section."""
    names: dict[int, str] = {}
    r = ByteReader(payload)
    while r.pos < r.end:
        kind = r.byte()
        size = r.u32()
        end = r.pos + size
        if kind == 1:
            sub = ByteReader(payload, r.pos, end)
            for _ in range(sub.u32()):
                index = sub.u32()
                names[index] = sub.name()
        r.pos = end
    return names


def _line_table(sections: dict[str, bytes]) -> list[tuple[int, str, int]]:
    """(address in the code section, file, line) rows of every DWARF line program, sorted."""
    if ".debug_info" not in sections or ".debug_line" not in sections:
        return []
    dwarf = dwarf_info(sections)
    rows: list[tuple[int, str, int]] = []
    for cu in dwarf.iter_CUs():
        program = dwarf.line_program_for_CU(cu)
        if program is None:
            continue
        files = file_names(program)
        last: tuple[str, int] = ("", 0)
        for entry in program.get_entries():
            st = entry.state
            if st is None:
                continue
            if st.end_sequence:
                rows.append((st.address, "", 0))
                last = ("", 0)
                continue
            if st.line:  # line 0 is code the compiler made up: keep the line before it
                last = (files.get(st.file, "?"), st.line)
            rows.append((st.address, *last))
    rows.sort(key=lambda r: r[0])
    return rows


def dwarf_info(sections: dict[str, bytes]) -> Any:
    """pyelftools' DWARFInfo over the sidecar's DWARF sections."""
    from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

    def section(name: str) -> DebugSectionDescriptor | None:
        data = sections.get(name)
        if data is None:
            return None
        return DebugSectionDescriptor(io.BytesIO(data), name, None, len(data), 0)

    return DWARFInfo(
        config=DwarfConfig(little_endian=True, machine_arch="wasm", default_address_size=4),
        debug_info_sec=section(".debug_info"), debug_aranges_sec=None,
        debug_abbrev_sec=section(".debug_abbrev"), debug_frame_sec=None, eh_frame_sec=None,
        debug_str_sec=section(".debug_str"), debug_loc_sec=section(".debug_loc"),
        debug_ranges_sec=section(".debug_ranges"), debug_line_sec=section(".debug_line"),
        debug_pubtypes_sec=None, debug_pubnames_sec=None, debug_addr_sec=None,
        debug_str_offsets_sec=None, debug_line_str_sec=section(".debug_line_str"),
        debug_loclists_sec=section(".debug_loclists"),
        debug_rnglists_sec=section(".debug_rnglists"), debug_sup_sec=None,
        gnu_debugaltlink_sec=None, debug_types_sec=None,
    )


def file_names(program: Any) -> dict[int, str]:
    """A line program's file table: file index -> path as `_short` shows it."""
    header = program.header
    dirs = [_text(d.DW_LNCT_path if hasattr(d, "DW_LNCT_path") else d)
            for d in header.get("include_directory", [])]
    out: dict[int, str] = {}
    version = header["version"]
    for i, entry in enumerate(header.get("file_entry", [])):
        name = _text(entry.DW_LNCT_path if hasattr(entry, "DW_LNCT_path") else entry.name)
        d = entry.DW_LNCT_directory_index if hasattr(entry, "DW_LNCT_directory_index") \
            else entry.dir_index
        base = dirs[d] if 0 <= d < len(dirs) else ""
        path = name if name.startswith("/") or not base else f"{base}/{name}"
        out[i if version >= 5 else i + 1] = _short(path)
    return out


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _short(path: str) -> str:
    """Zig's std lives in the toolchain: show it as std/...; project files stay relative."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith("/") and "std" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("std"):])
    while parts and parts[0] in (".", ""):
        parts = parts[1:]
    return "/".join(parts)


# ---- ZVM ---------------------------------------------------------------------------------


def zvm_frames(zvm: dict[str, Any], pc: int, memory: bytes) -> list[tuple[int, int]]:
    """The wasm (function, module offset) frames of a ZVM panic at `pc`: the frame at pc,
    then each caller, read from the return addresses in the frames (lowering/layout.py)."""
    pcs: list[int] = zvm["pcs"]
    marks: list[list[int]] = zvm["marks"]  # [function, module offset] at each pc in `pcs`
    static: dict[str, int] = zvm["static"]
    words: dict[str, int] = zvm["words"]

    def at(p: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(pcs, p) - 1
        return (marks[i][0], marks[i][1]) if i >= 0 else None

    def word(address: int) -> int | None:
        if address < 0 or address + 32 > len(memory):
            return None
        return int.from_bytes(memory[address:address + 32], "big")

    out: list[tuple[int, int]] = []
    fp = word(zvm["fp_slot"])
    here = at(pc)
    while here is not None and len(out) < 64:
        out.append(here)
        func = str(here[0])
        if func in static:
            ret = word(static[func])
        elif func in words and fp is not None:
            ret = word(fp)
            fp = fp + 32 * words[func]
        else:
            break
        if ret is None or ret == 0:
            break
        # the return address follows the call's JUMP: the call itself is just before it
        here = at(ret - 1)
    return out
