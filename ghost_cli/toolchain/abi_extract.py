"""Derive a contract's ABI from its root Zig source file.

The SDK's `exportContract(@This())` exports every top-level `pub fn` of that file, and its
call-data codec supports a fixed set of types. This module reads the same declarations
from the source text, so the ABI is known without running the compiler and an
unsupported type is reported at its own file:line rather than deep inside the SDK.

The reader is a small scanner, not a Zig parser: it blanks out comments and string
literals, tracks brace depth to find declarations at the top level, and reads each
`pub fn` signature. Code that is not valid Zig is left for the compiler to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..abi import CONSTRUCTOR, INT_TYPES, Abi, EventField, EventSpec, Function, Param
from ..config.defaults import SDK_MODULE
from ..exceptions import CompileError

SUPPORTED = "u8..u256, i8..i256, bool, []const u8, ghost.String, ghost.Address, void (results)"

#: Names the module already uses for itself; a contract function cannot take them.
_RESERVED_EXPORTS = {"memory"}

_PUB_FN = re.compile(r"\bpub\s+fn\s+([A-Za-z_]\w*)\s*\(")
_CONST = re.compile(r"\b(?:pub\s+)?const\s+([A-Za-z_]\w*)\s*(?::[^=]*)?=\s*([^;]*);")
_PARAM = re.compile(r"\s*(?:(comptime|noalias)\s+)?([A-Za-z_]\w*)\s*:\s*(.*\S)\s*$", re.S)
_IMPORT = re.compile(r'^@import\(\s*"([^"]*)"\s*\)$')
#: `SDK.emit("Name", ...)`: the SDK's event call, topic 0 being the name.
_EMIT = re.compile(r'\b([A-Za-z_]\w*)\s*\.\s*emit\s*\(\s*"([^"\\]{1,32})"')
#: A doc-comment line declaring an event's fields: `/// event Name(field: type [indexed], ...)`.
_EVENT_DOC = re.compile(r"^[ \t]*//[/!][ \t]*event[ \t]+([A-Za-z_]\w*)[ \t]*\(([^)]*)\)[ \t]*$",
                        re.M)
_EVENT_FIELD = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(.*?)(\s+indexed)?\s*$")


@dataclass(frozen=True)
class _Source:
    text: str  # the original text
    masked: str  # same length; comments and literals blanked, newlines kept
    depth: tuple[int, ...]  # brace depth before each character
    label: str  # the file as messages name it

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def error(self, pos: int, message: str, **details: object) -> CompileError:
        return CompileError(f"{self.label}:{self.line_of(pos)}: {message}", **details)


def _mask(text: str) -> str:
    """Blank out comments, string and character literals, keeping offsets and newlines."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i) or text.startswith("\\\\", i):
            # line comment, or a line of a multiline string literal: both run to end of line
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            end = min(j + 1, n)
            blank(i, end)
            i = end
        else:
            i += 1
    return "".join(out)


def _depths(masked: str) -> tuple[int, ...]:
    depth, out = 0, []
    for c in masked:
        out.append(depth)
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
    return tuple(out)


_OPEN, _CLOSE = "([{", ")]}"


def _matching(masked: str, pos: int) -> int:
    """Index of the bracket closing the one at `pos`, or -1."""
    depth = 0
    for k in range(pos, len(masked)):
        c = masked[k]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _split_top(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the comma-separated items in masked[start:end], ignoring nested commas."""
    spans, depth, item = [], 0, start
    for k in range(start, end):
        c = masked[k]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif c == "," and depth == 0:
            spans.append((item, k))
            item = k + 1
    spans.append((item, end))
    return [(a, b) for a, b in spans if masked[a:b].strip()]


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


class _TypeMap:
    """Maps Zig type expressions to ABI types, following top-level `const` aliases."""

    def __init__(self, src: _Source) -> None:
        self.aliases: dict[str, str] = {}
        self.sdk_names: set[str] = set()
        for m in _CONST.finditer(src.masked):
            if src.depth[m.start()] != 0:
                continue
            name = m.group(1)
            value = _squash(src.text[m.start(2) : m.end(2)])
            imp = _IMPORT.match(value)
            if imp:
                if imp.group(1) == SDK_MODULE:
                    self.sdk_names.add(name)
            else:
                self.aliases[name] = value

    def resolve(self, zig: str, seen: frozenset[str] = frozenset()) -> str | None:
        """The ABI type for `zig`, "void" for void, or None when unsupported."""
        t = _squash(zig)
        if t in self.aliases and t not in seen:
            return self.resolve(self.aliases[t], seen | {t})
        if t in INT_TYPES or t in ("bool", "void"):
            return t
        if t == "[]constu8":
            return "bytes"
        if t == "[20]u8":
            return "address"
        if "." in t:
            module, _, member = t.rpartition(".")
            if module in self.sdk_names:
                return {"String": "string", "Address": "address"}.get(member)
        return None


def _split_error_union(ret: str) -> tuple[str, bool]:
    """`E!T`, `error{A,B}!T` or `!T` -> (T, True); anything else -> (ret, False)."""
    depth = 0
    for k, c in enumerate(ret):
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif c == "!" and depth == 0:
            return ret[k + 1 :], True
    return ret, False


def _return_span(src: _Source, start: int) -> tuple[int, int]:
    """Span of the return type that starts at `start` and ends before the body's `{`."""
    m = src.masked
    k = start
    while k < len(m):
        c = m[k]
        if c == "{":
            if re.search(r"\berror\s*$", m[start:k]):
                close = _matching(m, k)  # an inline error set, `error{A, B}`
                if close < 0:
                    break
                k = close + 1
                continue
            return start, k
        if c in "([":
            close = _matching(m, k)
            if close < 0:
                break
            k = close + 1
            continue
        if c == ";":
            break
        k += 1
    raise src.error(start, "cannot read the return type of this function", reason="unreadable")


def _doc_before(src: _Source, pos: int) -> str:
    """The `///` doc comment lines directly above the line holding `pos`."""
    lines = src.text[: src.text.rfind("\n", 0, pos) + 1].splitlines()
    doc: list[str] = []
    for line in reversed(lines):
        s = line.strip()
        if not s.startswith("///") or s.startswith("////"):
            break
        line = s[4:] if s.startswith("/// ") else s[3:]
        if not _EVENT_DOC.match(s):  # an event declaration is not the function's doc
            doc.append(line)
    return "\n".join(reversed(doc)).strip()


def extract_abi_from_text(text: str, label: str) -> Abi:
    """The ABI of the contract whose root source is `text`; `label` names it in messages."""
    masked = _mask(text)
    src = _Source(text, masked, _depths(masked), label)
    types = _TypeMap(src)
    functions = []
    constructor = None
    for m in _PUB_FN.finditer(masked):
        if src.depth[m.start()] != 0:
            continue  # a method of a nested struct, not a contract function
        name = m.group(1)
        if name in _RESERVED_EXPORTS or name.startswith("__"):
            raise src.error(m.start(), f"a contract function cannot be named {name!r}")
        open_paren = m.end() - 1
        close_paren = _matching(masked, open_paren)
        if close_paren < 0:
            raise src.error(m.start(), f"unclosed parameter list of {name!r}", reason="unreadable")

        params = []
        for a, b in _split_top(masked, open_paren + 1, close_paren):
            piece = masked[a:b]
            pm = _PARAM.match(piece)
            if not pm:
                raise src.error(
                    a, f"cannot read parameter {piece.strip()!r} of {name!r}", reason="unreadable"
                )
            if pm.group(1) == "comptime":
                raise src.error(a, f"parameter {pm.group(2)!r} of {name!r} is comptime; "
                                   "contract functions take runtime values only")
            ztype = _squash(pm.group(3))
            abi_type = types.resolve(ztype)
            if abi_type is None or abi_type == "void":
                raise src.error(
                    a + len(piece) - len(piece.lstrip()),
                    f"unsupported type {ztype!r} for parameter {pm.group(2)!r} of {name!r} "
                    f"(supported: {SUPPORTED})",
                )
            params.append(Param(pm.group(2), abi_type))

        r_start, r_end = _return_span(src, close_paren + 1)
        ret_text = _squash(masked[r_start:r_end])
        ret, can_fail = _split_error_union(ret_text)
        output = types.resolve(ret)
        if output is None:
            raise src.error(
                r_start,
                f"unsupported return type {ret_text!r} of {name!r} (supported: {SUPPORTED})",
            )
        fn = Function(
            name=name,
            inputs=tuple(params),
            output=None if output == "void" else output,
            can_fail=can_fail,
            doc=_doc_before(src, m.start()),
        )
        if name != CONSTRUCTOR:
            functions.append(fn)
            continue
        if fn.output is not None:
            raise src.error(r_start, f"the constructor {CONSTRUCTOR!r} returns {ret_text!r}; "
                                     "it must return void or !void (deploy returns no value)")
        constructor = fn
    return Abi(tuple(functions), constructor=constructor, events=_events(src, types))


def _events(src: _Source, types: _TypeMap) -> tuple[EventSpec, ...]:
    """Every event the source emits by name (`ghost.emit("Name", ...)`), with the fields a
    doc comment declares (`/// event Name(from: ghost.Address indexed, amount: u64)`)."""
    declared: dict[str, tuple[EventField, ...]] = {}
    for m in _EVENT_DOC.finditer(src.text):
        fields = []
        for piece in filter(str.strip, m.group(2).split(",")):
            fm = _EVENT_FIELD.match(piece)
            abi_type = types.resolve(fm.group(2)) if fm else None
            if fm is None or abi_type in (None, "void"):
                raise src.error(m.start(), f"cannot read field {piece.strip()!r} of event "
                                           f"{m.group(1)!r} (`name: type`, then `indexed` "
                                           f"for a topic; types: {SUPPORTED})")
            fields.append(EventField(fm.group(1), abi_type, bool(fm.group(3))))
        if sum(f.indexed for f in fields) > 3:
            raise src.error(m.start(), f"event {m.group(1)!r} has more than 3 indexed fields")
        declared[m.group(1)] = tuple(fields)
    names: list[str] = []
    for m in _EMIT.finditer(src.text):
        # a real call: the SDK's name, and not inside a comment or string (masked there)
        if m.group(1) in types.sdk_names and src.masked[m.start()] != " " \
                and m.group(2) not in names:
            names.append(m.group(2))
    names += [n for n in declared if n not in names]
    return tuple(EventSpec(n, declared.get(n, ())) for n in names)


def extract_abi(source: Path, root: Path | None = None) -> Abi:
    """The ABI of the contract whose root source file is `source`.

    Messages name the file relative to `root` (the project root) when given.
    """
    label = _relative_label(source, root)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompileError(f"{label}: cannot read contract source: {exc}") from exc
    return extract_abi_from_text(text, label)


def _relative_label(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
