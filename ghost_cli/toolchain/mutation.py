"""Which exported functions can change contract state, read from the built module.

A function *mutates* when its export's static call graph can reach a host import that
writes state: `storage_write`, `storage_delete` or `emit_event` (the rows of
vm/host_table.py marked `writes_state`). The graph is conservative, so `False` means no
path to a state write exists in the code:

- `call` follows its target; `call_indirect` (and `return_call_indirect`, `call_ref`)
  may reach every function whose reference the module can make: each function listed
  in an element segment or named by a `ref.func` anywhere in the module;
- an import that is not a known host function counts as a write, and so does an imported
  table (its contents are unknown);
- a start function that reaches a write makes every export mutate (it runs first);
- code this reader cannot frame (an instruction it does not know) counts as a write.

Branches are not evaluated: a function that writes only on a path never taken still
mutates. The ABI records the answer per function (`"mutates"`, docs/abi.md).
No I/O: bytes in, answer out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exceptions import InvalidModuleError
from ..vm.host_table import BY_NAME, HOST_MODULE
from ..vm.wasm_instructions import (
    BLOCKTYPE,
    CALL_INDIRECT,
    F32,
    F64,
    I32,
    I64,
    INDEX,
    LABEL,
    MEMARG,
    OPCODES,
    REFTYPE,
    SELECT_T,
    TABLE,
    ZERO,
    CodeReader,
    read_blocktype,
)
from ..vm.wasm_module import parse_module

_GLOBAL, _ELEMENT, _CODE = 6, 9, 10
_CALL, _CALL_INDIRECT, _RETURN_CALL, _RETURN_CALL_INDIRECT = 0x10, 0x11, 0x12, 0x13
_CALL_REF, _RETURN_CALL_REF, _REF_FUNC, _END = 0x14, 0x15, 0xD2, 0x0B
#: Immediates of the 0xFC-prefixed instructions: how many u32s, then reserved bytes.
_FC_IMMEDIATES = {**{k: (0, 0) for k in range(8)}, 8: (1, 1), 9: (1, 0), 10: (0, 2),
                  11: (0, 1), 12: (2, 0), 13: (1, 0), 14: (2, 0), 15: (1, 0), 16: (1, 0),
                  17: (1, 0)}


class _Unframed(Exception):
    """An instruction this reader does not know: its function counts as writing."""


@dataclass
class _Code:
    calls: set[int] = field(default_factory=set)
    indirect: bool = False
    refs: set[int] = field(default_factory=set)  # ref.func targets
    unknown: bool = False


def mutating_exports(code: bytes) -> dict[str, bool]:
    """For each exported function of the module `code`: whether it can write state."""
    module = parse_module(code)
    funcs = [i for i in module.imports if i.kind == "func"]
    imported = len(funcs)
    sections = {s.id: s for s in module.sections if s.id != 0}
    exports = {e.name: e.index for e in module.exports if e.kind == "func"}
    try:
        bodies = _bodies(code, sections.get(_CODE), imported)
        taken = _element_refs(code, sections.get(_ELEMENT)) | _global_refs(
            code, sections.get(_GLOBAL))
    except (InvalidModuleError, _Unframed):
        return dict.fromkeys(exports, True)  # unreadable: assume the worst
    for b in bodies.values():
        taken |= b.refs
    unknown_table = any(i.kind == "table" for i in module.imports)
    writes = {i for i, imp in enumerate(funcs) if _import_writes(imp.module, imp.name)}
    writes |= {f for f, b in bodies.items() if b.unknown or (b.indirect and unknown_table)}
    # Reverse edges: who calls whom; a function reaches a write when a callee does.
    callers: dict[int, set[int]] = {}
    for f, b in bodies.items():
        for callee in b.calls | (taken if b.indirect else set()):
            callers.setdefault(callee, set()).add(f)
    reaching = set(writes)
    todo = list(writes)
    while todo:
        for caller in callers.get(todo.pop(), ()):
            if caller not in reaching:
                reaching.add(caller)
                todo.append(caller)
    start = _start(code, sections.get(8))
    if start is not None and start in reaching:
        return dict.fromkeys(exports, True)
    return {name: index in reaching for name, index in exports.items()}


def _import_writes(module: str, name: str) -> bool:
    host = BY_NAME.get(name) if module == HOST_MODULE else None
    return host is None or host.writes_state


def _reader(code: bytes, section) -> CodeReader:
    return CodeReader(code, section.content_start, section.end)


def _start(code: bytes, section) -> int | None:
    return None if section is None else _reader(code, section).uleb()


def _bodies(code: bytes, section, imported: int) -> dict[int, _Code]:
    out: dict[int, _Code] = {}
    if section is None:
        return out
    r = _reader(code, section)
    for i in range(r.uleb()):
        size = r.uleb()
        end = r.pos + size
        if end > r.end:
            raise r.fail("function body runs past the code section")
        body = CodeReader(code, r.pos, end)
        for _ in range(body.uleb()):  # local declarations: count and type
            body.uleb()
            body.byte()
        found = _Code()
        try:
            _scan(body, found, until_end=False)
        except _Unframed:
            found.unknown = True
        out[imported + i] = found
        r.pos = end
    return out


def _scan(r: CodeReader, found: _Code, *, until_end: bool) -> None:
    """Walk instructions to the reader's end (a body) or to the first `end` (a constant
    expression), noting calls, indirect calls and function references."""
    while r.pos < r.end:
        op = r.byte()
        if op == 0xFC:
            sub = r.uleb()
            if sub not in _FC_IMMEDIATES:
                raise _Unframed
            words, reserved = _FC_IMMEDIATES[sub]
            for _ in range(words):
                r.uleb()
            r.take(reserved)
            continue
        if op in (_RETURN_CALL, _RETURN_CALL_INDIRECT, _CALL_REF, _RETURN_CALL_REF):
            imm = r.uleb()
            if op == _RETURN_CALL:
                found.calls.add(imm)
            else:
                found.indirect = True
                if op == _RETURN_CALL_INDIRECT:
                    r.uleb()
            continue
        info = OPCODES.get(op)
        if info is None:
            raise _Unframed  # SIMD, exceptions, GC...: not in a contract built for MVP
        if op == _END and until_end:
            return
        kind = info.imm
        if kind == BLOCKTYPE:
            read_blocktype(r)
        elif kind in (LABEL, INDEX):
            imm = r.uleb()
            if op == _CALL:
                found.calls.add(imm)
            elif op == _REF_FUNC:
                found.refs.add(imm)
        elif kind == TABLE:
            for _ in range(r.uleb() + 1):
                r.uleb()
        elif kind in (CALL_INDIRECT, MEMARG):
            r.uleb()
            r.uleb()
            found.indirect = found.indirect or kind == CALL_INDIRECT
        elif kind == ZERO or kind == REFTYPE:
            r.byte()
        elif kind == I32:
            r.sleb(32)
        elif kind == I64:
            r.sleb(64)
        elif kind in (F32, F64):
            r.take(4 if kind == F32 else 8)
        elif kind == SELECT_T:
            r.take(r.uleb())


def _expr_refs(r: CodeReader) -> set[int]:
    found = _Code()
    _scan(r, found, until_end=True)
    return found.refs


def _element_refs(code: bytes, section) -> set[int]:
    """Every function an element segment lists (active, passive or declarative)."""
    out: set[int] = set()
    if section is None:
        return out
    r = _reader(code, section)
    for _ in range(r.uleb()):
        flags = r.uleb()
        if flags > 7:
            raise _Unframed
        if flags & 0b11 == 0b10:  # active, with a table index
            r.uleb()
        if not flags & 1:  # active: an offset expression
            _expr_refs(r)
        if flags & 0b11 != 0:  # not the plain form: an element kind or reference type
            r.byte()
        count = r.uleb()
        for _ in range(count):
            if flags & 4:
                out |= _expr_refs(r)
            else:
                out.add(r.uleb())
    return out


def _global_refs(code: bytes, section) -> set[int]:
    """Functions named by `ref.func` in global initializers."""
    out: set[int] = set()
    if section is None:
        return out
    r = _reader(code, section)
    for _ in range(r.uleb()):
        r.byte()  # value type
        r.byte()  # mutability
        out |= _expr_refs(r)
    return out
