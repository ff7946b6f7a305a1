"""Derive a contract's ABI from its root Zig source file.

The SDK's `exportContract(@This())` exports every top-level `pub fn` of that file whose
parameters and result are all ABI types; any other `pub fn` (pointers, allocators,
`anytype`, comptime parameters) is a helper, neither exported nor an error.
`exportFunctions(@This(), .{ "a", "b" })` exports exactly the names listed, and a listed
name that is missing or not of ABI types is an error at its file:line. This module applies
the same rule to the source text (docs/abi.md, "Exports"), so the ABI is known without
running the compiler. It also records the structs and enums the ABI uses (declared in the
file, or in a file it imports by relative path), the events emitted, and the error names.

The reader is a small scanner, not a Zig parser: it blanks out comments and string
literals, tracks brace depth to find declarations at the top level, and reads each
`pub fn` signature. Code that is not valid Zig is left for the compiler to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..abi import (
    ABI_VERSION,
    ADDRESS_LEN,
    CONSTRUCTOR,
    INT_TYPES,
    Abi,
    EventField,
    EventSpec,
    Function,
    Param,
    TypeDecl,
)
from ..abi.types import BUILTIN_TYPES, MAX_ARRAY, NAME
from ..config.defaults import SDK_MODULE
from ..exceptions import CompileError

SUPPORTED = ("u8..u256, i8..i256, bool, ghost.Address, [N]u8, []const u8, ghost.String, "
             "[N]T, []const T, ?T, tuples, structs and enum(u8) declared in the contract, "
             "void (results)")

_NAME_RULE = "[A-Za-z_][A-Za-z0-9_]*, ASCII, at most 128 characters"

#: Names the module already uses for itself; a contract function cannot take them.
_RESERVED_EXPORTS = {"memory"}

#: An identifier: plain, or quoted (`@"type"`; in the masked text its characters other
#: than ASCII letters, digits and `_` read `\x01`, so it stays one token).
_ID = r'(?:[A-Za-z_]\w*|@"[^"\n]*")'
_PUB_FN = re.compile(rf"\bpub\s+fn\s+({_ID})\s*\(")
_PARAM = re.compile(rf"\s*(?:(comptime|noalias)\s+)?({_ID})\s*:\s*(.*\S)\s*$", re.S)
_IMPORT = re.compile(r'^@import\(\s*"([^"]*)"\s*\)$')
#: `SDK.emit("Name", ...)`: the SDK's event call, topic 0 being the name.
_EMIT_ANY = re.compile(r"\b([A-Za-z_]\w*)\s*\.\s*(emit|emitEvent)\s*\(")
_EMIT = re.compile(r'\b([A-Za-z_]\w*)\s*\.\s*emit\s*\(\s*"([^"\\]{1,32})"')
#: A doc-comment line declaring an event's fields: `/// event Name(field: type [indexed], ...)`.
_EVENT_DOC = re.compile(r"^[ \t]*//[/!][ \t]*event[ \t]+([A-Za-z_]\w*)[ \t]*\((.*)\)[ \t]*$",
                        re.M)
_EVENT_FIELD = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(.*?)(\s+indexed)?\s*$", re.ASCII)


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
            if c == '"' and i > 0 and text[i - 1] == "@" and end - 1 < n and text[end - 1] == c:
                _keep_quoted_identifier(out, i + 1, end - 1)
            else:
                blank(i, end)
            i = end
        else:
            i += 1
    return "".join(out)


def _keep_quoted_identifier(out: list[str], a: int, b: int) -> None:
    """`@"name"` is an identifier, not a literal: keep it readable, with any character that
    could pass for syntax (space, bracket, comma, escape) made neutral."""
    for k in range(a, b):
        if not (out[k].isascii() and (out[k].isalnum() or out[k] == "_")):
            out[k] = "\x01"


def _unquote(ident: str) -> str:
    """The identifier `@"x"` denotes: `x` (Zig reads `@"x"` and `x` as one name)."""
    return ident[2:-1] if ident.startswith('@"') and ident.endswith('"') else ident


def _abi_name(text: str) -> str | None:
    """The ABI name of the identifier spelled `text` in the source, or None when it is no
    valid ABI name (docs/abi.md, "ABI JSON"), e.g. `@"a b"` or one with an escape."""
    name = _unquote(text)
    return name if NAME.fullmatch(name) else None


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
    return re.sub(r"\s+", "", s, flags=re.ASCII)  # a non-ASCII space is no separator


class _TypeMap:
    """Maps Zig type expressions to ABI types (docs/abi.md, "Types"), following top-level
    `const` aliases, struct and enum declarations of the file, and `name.Decl` of files it
    imports with `@import("file.zig")`. A type it cannot map is no ABI type (None)."""

    def __init__(self, src: _Source, base: Path | None = None, depth: int = 0) -> None:
        self.src, self.base, self.depth = src, base, depth
        self.aliases: dict[str, str] = {}  # name -> squashed masked type expression
        self.decl_span: dict[str, tuple[int, int]] = {}  # name -> span of its value
        self.spelled: dict[str, str] = {}  # name -> as the source writes it (`@"T 1"`)
        self.imports: dict[str, str] = {}  # name -> imported file
        self.sdk_names: set[str] = set()
        self.decls: dict[str, TypeDecl] = {}  # ABI types reached so far, in order
        #: The error for each declaration reached whose name is a built-in ABI type's
        #: (`bytes4`): raised only if the ABI ends up using it.
        self.misnamed: dict[str, CompileError] = {}
        self._resolving: set[str] = set()
        self._modules: dict[str, _TypeMap | None] = {}
        for name, spelled, a, b in _top_consts(src):
            value = _squash(src.masked[a:b])
            imp = _IMPORT.match(_squash(src.text[a:b]))
            if imp:
                if imp.group(1) == SDK_MODULE:
                    self.sdk_names.add(name)
                else:
                    self.imports[name] = imp.group(1)
            elif _is_tuple(value):
                self.aliases[name] = value  # `const P = struct { u8, bool };`: a tuple type
            elif re.match(r"^(?:(?:packed|extern)?struct|enum(?:\([^)]*\))?)\{", value):
                # (a packed struct is read, then refused: the SDK does not encode it)
                self.decl_span[name] = (a, b)
                self.spelled[name] = spelled
            else:
                self.aliases[name] = value

    def resolve(self, zig: str, seen: frozenset[str] = frozenset()) -> str | None:
        """The ABI type for `zig`, "void" for void, or None when it is no ABI type."""
        t = _unquote(_squash(zig))
        if t in self.aliases and t not in seen:
            return self.resolve(self.aliases[t], seen | {t})
        if t in INT_TYPES or t in ("bool", "void"):
            return t
        if t.startswith("?"):
            inner = self.resolve(t[1:], seen)
            return None if inner in (None, "void") or inner.endswith("?") else inner + "?"
        if t == "[:0]constu8":
            return "string"
        if t.startswith("[]const"):
            elem = self.resolve(t[len("[]const"):], seen)
            if elem in (None, "void"):
                return None
            return "bytes" if elem == "u8" else elem + "[]"
        m = re.match(r"^\[(0x[0-9a-fA-F_]+|[0-9_]+)\](.+)$", t)
        if m:
            n, elem = int(m.group(1).replace("_", ""), 0), self.resolve(m.group(2), seen)
            if elem in (None, "void") or not 1 <= n <= MAX_ARRAY:
                return None
            if elem == "u8" and n <= 32:
                return "address" if n == ADDRESS_LEN else f"bytes{n}"
            return f"{elem}[{n}]"
        if t.startswith("struct{") and t.endswith("}"):  # a tuple: `struct { u64, bool }`
            if not _is_tuple(t):
                return None  # an anonymous struct with named fields has no ABI name
            items = [x for x in _split_squashed(t[len("struct{"):-1]) if x]
            elems = [self.resolve(x, seen) for x in items]
            return None if any(e in (None, "void") for e in elems) else f"({','.join(elems)})"
        if t in self.decl_span:
            return self._declared(t)
        if "." in t:
            module, _, member = t.rpartition(".")
            member = _unquote(member)
            if module in self.sdk_names:
                return {"String": "string", "Address": "address"}.get(member)
            sub = self._module(module)
            if sub is not None and re.fullmatch(r"[A-Za-z_]\w*", member):
                out = sub.resolve(member)
                for name, decl in sub.decls.items():  # what it reached, under its names
                    if self.decls.setdefault(name, decl) != decl:
                        raise self.src.error(0, f"two different types are named {name!r}")
                self.misnamed.update(sub.misnamed)
                return out
        return None

    def _module(self, name: str) -> _TypeMap | None:
        """The type map of a file the contract imports (`const t = @import("t.zig")`),
        when it is a plain relative path that reads; None otherwise."""
        if name in self._modules:
            return self._modules[name]
        sub = None
        rel = self.imports.get(name)
        if rel and rel.endswith(".zig") and self.base is not None and self.depth < 4:
            try:
                text = (self.base / rel).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            if text is not None:
                masked = _mask(text)
                label = str(Path(self.src.label).parent / rel)
                sub = _TypeMap(_Source(text, masked, _depths(masked), label),
                               (self.base / rel).parent, self.depth + 1)
        self._modules[name] = sub
        return sub

    def _declared(self, name: str) -> str | None:
        """A struct or enum declared in this file, recorded in `decls` when it is an ABI
        type; its ABI name is its Zig name."""
        if name in self.decls:
            return name
        if name in self._resolving:
            return None  # contains itself: not encodable
        self._resolving.add(name)
        try:
            decl = self._read_decl(name)
        finally:
            self._resolving.discard(name)
        if decl is None:
            return None
        if self.decls.setdefault(name, decl) != decl:
            raise self.src.error(self.decl_span[name][0],
                                 f"two different types are named {name!r}")
        if not NAME.fullmatch(name):
            self.misnamed[name] = self.src.error(
                self.decl_span[name][0], f"the {decl.kind} {self.spelled[name]} is no valid "
                f"ABI name ({_NAME_RULE}); rename it")
        if name in BUILTIN_TYPES:
            self.misnamed[name] = self.src.error(
                self.decl_span[name][0],
                f"the {decl.kind} {name!r} has the name of a built-in ABI type: the ABI "
                f"writes types by name, and {name!r} always means the built-in; rename it")
        return name

    def _read_decl(self, name: str) -> TypeDecl | None:
        a, b = self.decl_span[name]
        m = self.src.masked
        open_brace = m.index("{", a)
        close = _matching(m, open_brace)
        if close < 0 or close > b:
            return None
        head = _squash(m[a:open_brace])
        if head.startswith("packed"):
            return None  # bit-packed: no ABI encoding
        members = _members(self.src, open_brace + 1, close)
        if head.startswith("enum"):
            return self._enum(name, head, members)
        fields = []
        for fa, fb in members:
            piece = m[fa:fb]
            fm = re.match(rf"\s*({_ID})\s*:\s*(.*?)\s*(?:align\(.*)?(?:=.*)?$", piece, re.S)
            if not fm:
                return None  # a tuple struct needs no name: it is written inline
            ty = self.resolve(fm.group(2))
            if ty in (None, "void"):
                return None
            spelled = self.src.text[fa + fm.start(1):fa + fm.end(1)]
            field = _abi_name(spelled)
            if field is None:  # an error only if the ABI uses the struct
                self.misnamed.setdefault(name, self.src.error(
                    fa + fm.start(1), f"field {spelled} of struct {name!r} is no valid ABI "
                    f"name ({_NAME_RULE}); rename it"))
            fields.append(Param(field or _unquote(spelled), ty))
        return TypeDecl("struct", name, fields=tuple(fields)) if fields else None

    def _enum(self, name: str, head: str, members: list[tuple[int, int]]) -> TypeDecl | None:
        if not re.fullmatch(r"enum(?:\(u[1-8]\))?", head):
            return None  # a wider or signed tag type: not one byte
        variants, value = [], 0
        for fa, fb in members:
            vm = re.match(r"\s*([A-Za-z_]\w*|@\"[^\"]*\")\s*(?:=\s*(.*?))?\s*$",
                          self.src.text[fa:fb], re.S)
            if not vm or vm.group(1) == "_":
                return None  # non-exhaustive or unreadable
            # `@"red"` is the identifier `red` (`@"_"` a variant named `_`): the ABI
            # records the name itself
            variant = re.sub(r'^@"(.*)"$', r"\1", vm.group(1))
            if vm.group(2) is not None:
                try:
                    value = int(vm.group(2).replace("_", ""), 0)
                except ValueError:
                    return None
            if not 0 <= value <= 255:
                return None
            variants.append((variant, value))
            value += 1
        return TypeDecl("enum", name, variants=tuple(variants)) if variants else None

    def indexed_of(self, name: str) -> tuple[list[str], int] | None:
        """The names in a struct's `pub const indexed = .{ "a", "b" };` and its position."""
        span = self.decl_span.get(name)
        if span is None:
            return None
        m = re.search(r"\bconst\s+indexed\s*=\s*\.\s*\{([^}]*)\}", self.src.text[span[0]:span[1]])
        if not m:
            return None
        return re.findall(r'"([^"\\]*)"', m.group(1)), span[0] + m.start()


def _top_consts(src: _Source) -> list[tuple[str, str, int, int]]:
    """(name, name as written, value start, value end) of each top-level
    `const NAME [: T] = value;`."""
    out = []
    for m in re.finditer(rf"\b(?:pub\s+)?const\s+({_ID})\s*(?::[^=;]*)?=", src.masked):
        if src.depth[m.start()] != 0:
            continue
        k = m.end()
        while k < len(src.masked) and src.masked[k] != ";":
            if src.masked[k] in _OPEN:
                close = _matching(src.masked, k)
                if close < 0:
                    break
                k = close
            k += 1
        out.append((_unquote(m.group(1)), src.text[m.start(1):m.end(1)], m.end(), k))
    return out


def _members(src: _Source, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the fields of a container body masked[start:end]: its declarations
    (`const`, `var`, `fn`, `comptime`, `test`, `usingnamespace`) are skipped."""
    m, out, k = src.masked, [], start
    decl = re.compile(r"\s*(?:pub\s+)?(?:const|var|fn|comptime|test|usingnamespace)\b")
    while k < end:
        dm = decl.match(m, k)
        if dm and dm.end() <= end:
            j = dm.end()
            if dm.group(0).rstrip().endswith("fn"):  # a method: skip to the end of its body
                paren = m.find("(", j, end)
                close = _matching(m, paren) if paren >= 0 else -1
                try:
                    _, body = _return_span(src, close + 1) if close >= 0 else (0, end)
                except CompileError:
                    body = end
                j = _matching(m, body) if body < end else end
            else:  # `const x = ...;` (brackets skipped whole) up to its `;`
                while j < end and m[j] != ";":
                    j = max(_matching(m, j), j) + 1 if m[j] in _OPEN else j + 1
            k = (j if j >= 0 else end) + 1
            continue
        j, depth = k, 0
        while j < end:
            c = m[j]
            if c in _OPEN:
                depth += 1
            elif c in _CLOSE:
                depth -= 1
            elif c == "," and depth == 0:
                break
            j += 1
        if m[k:j].strip():
            out.append((k, j))
        k = j + 1
    return out


def _split_squashed(t: str) -> list[str]:
    parts, depth, item = [], 0, 0
    for k, c in enumerate(t):
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(t[item:k])
            item = k + 1
    parts.append(t[item:])
    return parts


#: A field name and its colon at the start of a squashed container member (`a:u8`,
#: `@"x":u8`): what a tuple's elements never start with.
_NAMED_FIELD = re.compile(rf"^(?:comptime)?(?:{_ID})?:")


def _is_tuple(t: str) -> bool:
    """Whether the squashed type `t` is a tuple, `struct{T1,T2,...}`: every member a type
    without a field name (`[:0]constu8` holds a colon, but after its bracket)."""
    if not (t.startswith("struct{") and t.endswith("}")) or _matching(t, 6) != len(t) - 1:
        return False
    items = [x for x in _split_squashed(t[len("struct{"):-1]) if x]
    return bool(items) and not any(_NAMED_FIELD.match(x) or "=" in x for x in items)


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
            if re.search(r"\b(?:error|struct|union|enum\s*(?:\([^)]*\))?)\s*$", m[start:k]):
                close = _matching(m, k)  # an inline error set or tuple type, not the body
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


def _export_list(src: _Source) -> tuple[list[str], int] | None:
    """The names of `exportFunctions(@This(), .{ "a", "b" })` and its position, or None
    (the contract uses `exportContract`: every pub fn of ABI types is exported)."""
    for m in re.finditer(r"\bexportFunctions\s*\(", src.masked):
        close = _matching(src.masked, m.end() - 1)
        if close < 0:
            continue
        return re.findall(r'"([^"\\]*)"', src.text[m.end():close]), m.start()
    return None


@dataclass(frozen=True)
class _Signature:
    fn: Function | None  # None: not of ABI types (a helper)
    why: str  # what is not an ABI type, for exportFunctions' error
    pos: int  # where
    ret_text: str = ""
    ret_pos: int = 0


def _read_signature(src: _Source, types: _TypeMap, m: re.Match[str]) -> _Signature:
    name = _unquote(src.text[m.start(1):m.end(1)])  # `@"null"` is the function `null`
    masked = src.masked
    open_paren = m.end() - 1
    close_paren = _matching(masked, open_paren)
    if close_paren < 0:
        raise src.error(m.start(), f"unclosed parameter list of {name!r}", reason="unreadable")
    params = []
    for a, b in _split_top(masked, open_paren + 1, close_paren):
        piece = masked[a:b]
        at = a + len(piece) - len(piece.lstrip())
        pm = _PARAM.match(piece)
        if not pm:
            if piece.strip() in ("anytype", "..."):
                return _Signature(None, f"parameter {piece.strip()!r} is no ABI type", at)
            raise src.error(a, f"cannot read parameter {piece.strip()!r} of {name!r}",
                            reason="unreadable")
        if pm.group(1) == "comptime":
            return _Signature(None, f"parameter {_unquote(pm.group(2))!r} is comptime", at)
        ztype = _squash(pm.group(3))
        abi_type = types.resolve(ztype)
        if abi_type in (None, "void"):
            return _Signature(None, f"parameter {_unquote(pm.group(2))!r} has type {ztype!r}, "
                                    "which is no ABI type", at)
        params.append(Param(_unquote(src.text[a + pm.start(2):a + pm.end(2)]), abi_type))
    r_start, r_end = _return_span(src, close_paren + 1)
    ret_text = _squash(masked[r_start:r_end])
    ret, can_fail = _split_error_union(ret_text)
    output = types.resolve(ret)
    if output is None:
        return _Signature(None, f"its return type {ret_text!r} is no ABI type", r_start)
    fn = Function(name=name, inputs=tuple(params), output=None if output == "void" else output,
                  can_fail=can_fail, doc=_doc_before(src, m.start()))
    return _Signature(fn, "", m.start(), ret_text, r_start)


def _check_names(src: _Source, pos: int, fn: Function) -> None:
    """An exported function's names go into the ABI as written (`@"type"` as `type`); one
    that is no ABI name (`@"a b"`) is an error here, not a function missing from the ABI."""
    if not NAME.fullmatch(fn.name):
        raise src.error(pos, f"function {fn.name!r} is exported, but its name is no valid "
                             f"ABI name ({_NAME_RULE}); rename it")
    for p in fn.inputs:
        if not NAME.fullmatch(p.name):
            raise src.error(pos, f"parameter {p.name!r} of function {fn.name!r} is no valid "
                                 f"ABI name ({_NAME_RULE}); rename it")


def extract_abi_from_text(text: str, label: str, base: Path | None = None) -> Abi:
    """The ABI of the contract whose root source is `text`; `label` names it in messages,
    `base` is its directory (for the files it imports)."""
    masked = _mask(text)
    src = _Source(text, masked, _depths(masked), label)
    types = _TypeMap(src, base)
    listed = _export_list(src)
    signatures: dict[str, _Signature] = {}
    for m in _PUB_FN.finditer(masked):
        if src.depth[m.start()] != 0:
            continue  # a method of a nested struct, not a contract function
        name = _unquote(src.text[m.start(1):m.end(1)])
        signatures.setdefault(name, _read_signature(src, types, m))
    if listed is not None:
        names, at = listed
        for name in names:
            sig = signatures.get(name)
            if sig is None:
                raise src.error(at, f"exportFunctions lists {name!r}, but the file has no "
                                    f"top-level `pub fn {name}`")
            if sig.fn is None:
                raise src.error(sig.pos, f"exportFunctions lists {name!r}, but {sig.why} "
                                         f"(ABI types: {SUPPORTED})")
        chosen = [signatures[n] for n in dict.fromkeys(names)]
    else:
        chosen = [s for s in signatures.values() if s.fn is not None]
    functions, constructor = [], None
    for sig in chosen:
        fn = sig.fn
        assert fn is not None
        if fn.name in _RESERVED_EXPORTS or fn.name.startswith("__"):
            raise src.error(sig.pos, f"a contract function cannot be named {fn.name!r}")
        _check_names(src, sig.pos, fn)
        if fn.name != CONSTRUCTOR:
            functions.append(fn)
            continue
        if fn.output is not None:
            raise src.error(sig.ret_pos, f"the constructor {CONSTRUCTOR!r} returns "
                                         f"{sig.ret_text!r}; it must return void or !void "
                                         "(deploy returns no value)")
        constructor = fn
    events = _events(src, types)
    used = [t for f in (*functions, *([constructor] if constructor else []))
            for t in (*(p.type for p in f.inputs), f.output or "")]
    used += [f.type for e in events for f in e.fields]
    reached = _reachable(types.decls, used)
    for decl in reached:
        if decl.name in types.misnamed:
            raise types.misnamed[decl.name]
    abi = Abi(tuple(functions), version=ABI_VERSION, constructor=constructor, events=events,
              types=reached, errors=_error_names(src))
    _deployable(abi, label)
    return abi


def _deployable(abi: Abi, label: str) -> None:
    """What `ghost build` writes, a deploy accepts: the deploy's own ABI check, run on the
    ABI read from the source (names, counts, types), as a build error."""
    from ..exceptions import InvalidModuleError
    from ..vm.deploy_checks import abi_from_metadata

    try:
        abi_from_metadata({"abi": abi.to_json()})
    except InvalidModuleError as exc:
        raise CompileError(f"{label}: a deploy would refuse this contract's ABI: "
                           f"{exc.message.removeprefix('invalid contract ABI: ')}") from None


#: The words of a type string that may name a declaration (`\x01` is part of a quoted
#: name such as `@"T 1"`, so that one is reached, then refused by its name).
_TYPE_WORD = re.compile(r"[\w\x01]+")


def _reachable(decls: dict[str, TypeDecl], used: list[str]) -> tuple[TypeDecl, ...]:
    """The declarations the type strings `used` reach (an event's own struct is not one,
    unless something uses it as a type), in the order they were read."""
    seen: set[str] = set()
    todo = [n for t in used for n in _TYPE_WORD.findall(t)]
    while todo:
        name = todo.pop()
        if name in decls and name not in seen:
            seen.add(name)
            todo += [n for f in decls[name].fields for n in _TYPE_WORD.findall(f.type)]
    return tuple(d for n, d in decls.items() if n in seen)


def _error_names(src: _Source) -> tuple[str, ...]:
    """Every error name the file declares or uses: `error{A, B}` sets and `error.A`."""
    names: list[str] = []
    for m in re.finditer(r"\berror\s*(?:\{([^}]*)\}|\.\s*([A-Za-z_]\w*))", src.masked):
        found = re.findall(r"[A-Za-z_]\w*", m.group(1)) if m.group(1) is not None \
            else [m.group(2)]
        names += [n for n in found if n not in names]
    return tuple(names)


def _event_field_type(types: _TypeMap, text: str) -> str | None:
    """A declared event field's type, in Zig (`ghost.Address`, `[]const Pair`) or in the
    ABI's own spelling (`address`, `Pair[]`, `(u8,string)?`): both are documented."""
    zig = types.resolve(text)
    if zig is not None:
        return zig
    from ..abi.types import parse_type
    from ..exceptions import GhostError

    spelled = _squash(text)
    for name in re.findall(r"[A-Za-z_]\w*", spelled):
        types.resolve(name)  # a struct or enum of the contract: now in types.decls
    try:
        return parse_type(spelled, [d.to_json() for d in types.decls.values()]).name
    except GhostError:
        return None


def _events(src: _Source, types: _TypeMap) -> tuple[EventSpec, ...]:
    """Every event the source emits: typed ones, `ghost.emitEvent(Name{ ... })`, whose
    fields are the struct's; and by name, `ghost.emit("Name", ...)`, with the fields a
    doc comment declares (`/// event Name(from: ghost.Address indexed, amount: u64)`)."""
    declared: dict[str, tuple[EventField, ...]] = {}
    for m in _EVENT_DOC.finditer(src.text):
        fields = []
        for piece in filter(str.strip, _split_squashed(m.group(2))):  # tuples keep commas
            fm = _EVENT_FIELD.match(piece)
            abi_type = _event_field_type(types, fm.group(2)) if fm else None
            if fm is None or abi_type in (None, "void"):
                raise src.error(m.start(), f"cannot read field {piece.strip()!r} of event "
                                           f"{m.group(1)!r} (`name: type`, then `indexed` "
                                           f"for a topic; types: {SUPPORTED})")
            fields.append(EventField(fm.group(1), abi_type, bool(fm.group(3))))
        if sum(f.indexed for f in fields) > 3:
            raise src.error(m.start(), f"event {m.group(1)!r} has more than 3 indexed fields")
        declared[m.group(1)] = tuple(fields)
    events: dict[str, tuple[EventField, ...]] = {}
    for m in _EMIT_ANY.finditer(src.masked):
        if m.group(1) not in types.sdk_names:
            continue
        if m.group(2) == "emit":  # by name: the name is a string literal (masked)
            lit = _EMIT.match(src.text, m.start())
            if lit and lit.group(2) not in events:
                events[lit.group(2)] = declared.get(lit.group(2), ())
            continue
        typed = re.match(r"\s*([A-Za-z_][\w.]*)\s*\{", src.masked[m.end():])
        zig_name = typed.group(1) if typed else _variable_struct(src, types, m)
        if zig_name is None:
            continue  # `emitEvent(f(x))`, or a struct of another file: nothing to read
        name, fields = _typed_event(src, types, zig_name, m.start())
        events.setdefault(name, fields)
    for n, fields in declared.items():
        events.setdefault(n, fields)
    return tuple(EventSpec(n, f) for n, f in events.items())


_FN_START = re.compile(r"\bfn\s+[A-Za-z_]\w*\s*\(")


def _variable_struct(src: _Source, types: _TypeMap, emit: re.Match[str]) -> str | None:
    """The struct of `ghost.emitEvent(value)` when `value` is declared in the enclosing
    function with a struct of this file as its type: a parameter or `const value: Name`, or
    `const value = Name{...}` (the nearest such declaration wins)."""
    arg = re.match(r"\s*([A-Za-z_]\w*)\s*\)", src.masked[emit.end():])
    if arg is None:
        return None
    ident = re.escape(arg.group(1))
    decl = re.compile(rf"\b{ident}\s*:\s*([A-Za-z_][\w.]*)\s*[,)=;]"
                      rf"|\b(?:const|var)\s+{ident}\s*=\s*([A-Za-z_][\w.]*)\s*\{{")
    fns = list(_FN_START.finditer(src.masked, 0, emit.start()))
    start = fns[-1].start() if fns else 0  # the enclosing function: its parameters, locals
    found = list(decl.finditer(src.masked, start, emit.start()))
    if not found:
        return None
    zig_name = found[-1].group(1) or found[-1].group(2)
    d = types.decls.get(types.resolve(zig_name) or "")
    return zig_name if d is not None and d.kind == "struct" else None


_TOPIC_TYPES = re.compile(r"^(?:[ui](?:8|16|32|64|128|256)|bool|address|bytes\d*|string)$")


def _typed_event(src: _Source, types: _TypeMap, zig_name: str, pos: int
                 ) -> tuple[str, tuple[EventField, ...]]:
    """The event of `ghost.emitEvent(Name{...})`: the struct's fields, those named in its
    `pub const indexed = .{...}` carried in topics 1..3."""
    abi_name = types.resolve(zig_name)
    decl = types.decls.get(abi_name or "")
    if decl is None or decl.kind != "struct":
        raise src.error(pos, f"emitEvent of {zig_name!r}: an event is a struct declared in "
                             "this file whose fields are all ABI types")
    found = types.indexed_of(zig_name)
    indexed, at = found if found is not None else ([], pos)
    names = [f.name for f in decl.fields]
    for n in indexed:
        if n not in names:
            raise src.error(at, f"event {decl.name!r}: `indexed` names {n!r}, which is no "
                                f"field (fields: {', '.join(names)})")
    if len(indexed) > 3:
        raise src.error(at, f"event {decl.name!r} has more than 3 indexed fields")
    fields = []
    for f in decl.fields:
        is_topic = f.name in indexed
        if is_topic and not _TOPIC_TYPES.match(f.type) and not _is_enum(types, f.type):
            raise src.error(at, f"event {decl.name!r}: indexed field {f.name!r} is a {f.type}; "
                                "a topic holds an integer, bool, address, bytesN, enum, or "
                                "a string or bytes of at most 32 bytes")
        fields.append(EventField(f.name, f.type, is_topic))
    return decl.name, tuple(fields)


def _is_enum(types: _TypeMap, name: str) -> bool:
    d = types.decls.get(name)
    return d is not None and d.kind == "enum"


def extract_abi(source: Path, root: Path | None = None) -> Abi:
    """The ABI of the contract whose root source file is `source`.

    Messages name the file relative to `root` (the project root) when given.
    """
    label = _relative_label(source, root)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompileError(f"{label}: cannot read contract source: {exc}") from exc
    return extract_abi_from_text(text, label, Path(source).parent)


def _relative_label(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
