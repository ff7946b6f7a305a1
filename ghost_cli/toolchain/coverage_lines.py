"""Which Zig lines an instruction stands for, for coverage: its own line and, for code the
compiler inlined, the line of every call that inlined it.

The line table alone names the innermost source only: `ghost.log("...")` in a contract,
inlined, is SDK code at lib/ghost.zig. DWARF's `DW_TAG_inlined_subroutine` entries give,
for each range of inlined code, the file and line of the call (`DW_AT_call_file`,
`DW_AT_call_line`); an instruction inside nested inlines stands for each of those calls.
"""

from __future__ import annotations

import bisect
from typing import Any

from .debuginfo import DebugInfo, dwarf_info, file_names


def call_sites(info: DebugInfo) -> list[tuple[int, int, str, int]]:
    """(low, high, call file, call line) of every inlined range, addresses relative to
    the code section."""
    sections = info.sections
    if ".debug_info" not in sections or ".debug_line" not in sections:
        return []
    dwarf = dwarf_info(sections)
    out: list[tuple[int, int, str, int]] = []
    for cu in dwarf.iter_CUs():
        program = dwarf.line_program_for_CU(cu)
        files = file_names(program) if program is not None else {}
        for die in cu.iter_DIEs():
            if die.tag != "DW_TAG_inlined_subroutine":
                continue
            attrs = die.attributes
            if "DW_AT_call_line" not in attrs or "DW_AT_call_file" not in attrs:
                continue
            where = (files.get(attrs["DW_AT_call_file"].value, "?"),
                     attrs["DW_AT_call_line"].value)
            out += [(low, high, *where) for low, high in _ranges(dwarf, cu, die)]
    return out


def _ranges(dwarf: Any, cu: Any, die: Any) -> list[tuple[int, int]]:
    attrs = die.attributes
    if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
        low = attrs["DW_AT_low_pc"].value
        high = attrs["DW_AT_high_pc"]
        end = high.value if high.form == "DW_FORM_addr" else low + high.value
        return [(low, end)]
    if "DW_AT_ranges" in attrs:
        lists = dwarf.range_lists()
        if lists is None:
            return []
        base = cu.get_top_DIE().attributes.get("DW_AT_low_pc")
        base_address = base.value if base is not None else 0
        out = []
        for entry in lists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu):
            if hasattr(entry, "begin_offset"):
                if getattr(entry, "is_absolute", False):
                    out.append((entry.begin_offset, entry.end_offset))
                else:
                    out.append((base_address + entry.begin_offset,
                                base_address + entry.end_offset))
            elif hasattr(entry, "base_address"):
                base_address = entry.base_address
        return out
    return []


def lines_at(info: DebugInfo, addresses: list[int]) -> dict[int, set[tuple[str, int]]]:
    """address (relative to the code section) -> every (file, line) it stands for."""
    addresses = sorted(set(addresses))
    out: dict[int, set[tuple[str, int]]] = {a: set() for a in addresses}
    for a in addresses:
        found = info.line_at(a + info.code_start)
        if found is not None:
            out[a].add(found)
    for low, high, file, line in call_sites(info):
        for a in addresses[bisect.bisect_left(addresses, low):
                           bisect.bisect_left(addresses, high)]:
            out[a].add((file, line))
    return out
