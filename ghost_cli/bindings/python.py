"""`ghost bindings python`: a typed Python client module generated from a contract's ABI.

The module holds the ABI it was generated from, a dataclass per struct, a StrEnum per
enum, a dataclass per event, and one class for the contract with a method per function.
Every call goes through ghost_cli.bindings.runtime.Binding, so the same class works over
the sandbox, a node and the test fixtures."""

from __future__ import annotations

import functools
import keyword
import pprint
import re
import textwrap
from typing import Any

from ..abi import Abi, parse_type
from ..abi.types import (
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    EnumType,
    FixedBytesType,
    IntType,
    OptionalType,
    SliceType,
    StringType,
    StructType,
    TupleType,
)
from ..exceptions import GhostError

#: Names a generated contract class keeps for itself; a function so named gets a `_`.
_RESERVED = {"address", "binding", "events", "last_receipt", "deploy", "ABI"}


def class_name(name: str) -> str:
    """`my_token` -> `MyToken`: split at every character that is no ASCII letter or digit,
    each part's first letter upper-cased (the rest kept); `C` before a leading digit."""
    out = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", name) if p)
    return out if out and not out[0].isdigit() else f"C{out}"


#: Soft keywords renamed like keywords: a fixed list, not `keyword.softkwlist`, so the
#: generated names do not depend on the Python that generates them (3.12 added `type`).
_SOFT = frozenset({"match", "case", "_"})

#: What a generated `deploy` classmethod takes besides the constructor's arguments, and
#: the module's deploy helper its body calls.
_DEPLOY_ARGS = frozenset({"cls", "target", "code", "signer", "gas_limit", "_deploy"})
#: What a generated method takes besides the function's arguments.
_CALL_ARGS = frozenset({"self", "query", "gas_limit"})


#: Names the module imports or defines for itself: a struct or enum so named gets a `_`.
_MODULE_NAMES = frozenset({"Any", "Binding", "ABI", "dataclass", "field", "enum",
                           "annotations"})


def _taken(cls: str) -> bool:
    """A class name the module cannot use as is: one it imports, or a keyword (`None`,
    `True`, `False`: `class None:` does not compile)."""
    return cls in _MODULE_NAMES or keyword.iskeyword(cls)


def type_class(name: str) -> str:
    """The class of a struct or enum `name` (`Pair`; `Any_` where the module needs `Any`,
    `None_` for a struct `None`)."""
    out = class_name(name)
    return f"{out}_" if _taken(out) else out


def py_name(name: str, reserved: set[str] | frozenset[str] = frozenset()) -> str:
    if name.startswith("__") and name != "__":
        return f"v{name}"  # Python would mangle `__x` inside the class (`_Pair__x`)
    return f"{name}_" if keyword.iskeyword(name) or name in reserved or name in _SOFT \
        else name


def _is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and "_" not in (name[1], name[-2])


def member_name(name: str) -> str:
    """An enum variant's member: also a trailing `_` for the names Enum refuses or keeps
    for itself (`_x_`, `mro`), which would fail the import or make no member."""
    py = py_name(name)
    return f"{py}_" if _is_sunder(py) or py == "mro" else py


def _distinct(contract: str, pairs: list[tuple[str, str]], where: str = "") -> None:
    """Each (what, Python name) of one scope names a different thing: two ABI names that
    become the same Python name would silently overwrite one another."""
    seen: dict[str, str] = {}
    for what, py in pairs:
        if py in seen:
            raise GhostError(
                f"cannot generate Python bindings for {contract!r}: {seen[py]} and {what}"
                f"{where} both become `{py}` in Python; rename one of them in the contract")
        seen[py] = what


def _classes(contract: str, abi: Abi) -> tuple[str, dict[str, str], dict[str, str]]:
    """The contract's class, and the class of each struct/enum and each event with fields
    (by ABI name), every one distinct (docs/bindings.md, "Python clients")."""
    types = {t.name: type_class(t.name) for t in abi.types}
    events = {}
    for e in abi.events:
        if e.fields:
            cls = f"{class_name(e.name)}Event"
            events[e.name] = f"{cls}_" if cls in types.values() else cls  # `TransferEvent`
    cls = class_name(contract)
    if cls in {*types.values(), *events.values()} or _taken(cls):
        cls += "Contract"  # a contract `token` with a struct `Token`: the contract yields
    kinds = {t.name: t.kind for t in abi.types}
    _distinct(contract, [*((f"{kinds[n]} {n!r}", c) for n, c in types.items()),
                         *((f"event {n!r}", c) for n, c in events.items()),
                         (f"the contract {contract!r}", cls)])
    return cls, types, events


def _check_members(contract: str, abi: Abi) -> None:
    """Fields, enum members, methods and each method's parameters: distinct in Python."""
    for t in abi.types:
        members = [n for n, _ in t.variants] or [f.name for f in t.fields]
        rename = member_name if t.kind == "enum" else py_name
        _distinct(contract, [(f"{t.kind} member {n!r}", rename(n)) for n in members],
                  f" of {t.name!r}")
    for e in abi.events:
        _distinct(contract, [(f"field {f.name!r}", py_name(f.name)) for f in e.fields],
                  f" of event {e.name!r}")
    _distinct(contract, [(f"function {f.name!r}", py_name(f.name, _RESERVED))
                         for f in abi.functions])
    for fn in abi.functions:
        _distinct(contract, [(f"argument {p.name!r}", py_name(p.name, _CALL_ARGS))
                             for p in fn.inputs], f" of {fn.name!r}")
    if abi.constructor is not None:
        _distinct(contract, [(f"argument {p.name!r}", py_name(p.name, _DEPLOY_ARGS))
                             for p in abi.constructor.inputs], " of the constructor")


#: The builtins the generated annotations name.
_BUILTINS = frozenset({"bool", "int", "bytes", "str", "list", "tuple"})


def builtin(name: str, shadow: frozenset[str] | set[str] = frozenset()) -> str:
    """A builtin's name in an annotation written inside a class whose body binds `shadow`
    (its fields or methods): `builtins.int` where a field or method `int` would be what
    a type checker reads `int` as there."""
    return f"builtins.{name}" if name in shadow and name in _BUILTINS else name


def hint(ty: AbiType, shadow: frozenset[str] | set[str] = frozenset()) -> str:
    """The Python type hint for an ABI type, in a class body that binds `shadow`."""
    b = functools.partial(builtin, shadow=shadow)
    if isinstance(ty, BoolType):
        return b("bool")
    if isinstance(ty, IntType):
        return b("int")
    if isinstance(ty, AddressType | FixedBytesType | BytesType):
        return b("bytes")
    if isinstance(ty, StringType):
        return b("str")
    if isinstance(ty, ArrayType | SliceType):
        return f"{b('list')}[{hint(ty.elem, shadow)}]"
    if isinstance(ty, OptionalType):
        return f"{hint(ty.inner, shadow)} | None"
    if isinstance(ty, TupleType):
        return f"{b('tuple')}[" + ", ".join(hint(t, shadow) for t in ty.elems) + "]"
    if isinstance(ty, StructType | EnumType):
        return type_class(ty.name)
    return "Any"


def _field(name: str, ty: str, abi: Abi, shadow: set[str], comment: str = "") -> str:
    py = py_name(name)
    call = "dataclasses.field" if "field" in shadow else "field"  # a field named `field`
    meta = f" = {call}(metadata={{'abi': {name!r}}})" if py != name else ""
    return f"    {py}: {hint(parse_type(ty, abi), shadow)}{meta}{comment}"


def _doc(text: str, indent: str) -> list[str]:
    # A quote followed by a quote is escaped, so no two unescaped quotes meet and the doc
    # cannot close the docstring; a quote at the end would meet the closing `"""`.
    text = re.sub(r'"(?="|$)', r'\\"', text.strip().replace("\\", "\\\\"))
    if not text:
        return []
    lines = text.splitlines()
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}', *(f"{indent}{ln}" if ln else "" for ln in lines[1:]),
            f'{indent}"""']


def generate(name: str, abi: Abi, raw: dict[str, Any] | None = None) -> str:
    """The client module's source for contract `name`."""
    raw = raw if raw is not None else abi.to_json()
    cls, classes, event_class = _classes(name, abi)
    _check_members(name, abi)
    has_enum = any(t.kind == "enum" for t in abi.types)
    renamed = any(py_name(f.name) != f.name for t in abi.types for f in t.fields) or any(
        py_name(f.name) != f.name for e in abi.events for f in e.fields)
    prefix = "ABI: dict[str, Any] = "
    abi_text = textwrap.indent(pprint.pformat(raw, width=100 - len(prefix), sort_dicts=False),
                               " " * len(prefix)).lstrip()
    out = [f'"""Typed client for the `{name}` contract, generated by `ghost bindings python` '
           'from its ABI.', "", "Do not edit: regenerate after changing the contract. "
           "Usage (sandbox, node or test fixture):", "",
           f"    c = {cls}(network, address)  # a Sandbox or RemoteNetwork",
           f"    c = {cls}(deploy({name!r}))  # the `deploy` test fixture's Contract",
           '"""', "", "from __future__ import annotations", "",
           *(["import enum"] if has_enum else []),
           "from dataclasses import dataclass" + (", field" if renamed else ""),
           "from typing import Any", "",
           "from ghost_cli.bindings.runtime import Binding",
           "from ghost_cli.bindings.runtime import deploy as _deploy", "",
           prefix + abi_text, "", "__all__ = ["]
    i_body = len(out)
    names = [cls]
    body: list[str] = []
    for t in abi.types:
        names.append(classes[t.name])
        body += ["", ""]
        if t.kind == "enum":
            body.append(f"class {classes[t.name]}(enum.StrEnum):")
            body += [f"    {member_name(n)} = {n!r}  # {v}" for n, v in t.variants]
        else:
            body += ["@dataclass", f"class {classes[t.name]}:"]
            shadow = {py_name(p.name) for p in t.fields}
            body += [_field(p.name, p.type, abi, shadow) for p in t.fields]
    event_classes = []
    for e in abi.events:
        if not e.fields:
            continue
        ecls = event_class[e.name]
        names.append(ecls)
        event_classes.append((e.name, ecls))
        body += ["", "", "@dataclass", f"class {ecls}:",
                 f'    """Event `{e.name}` (indexed fields come from its topics)."""']
        shadow = {py_name(f.name) for f in e.fields}
        body += [_field(f.name, f.type, abi, shadow, "  # indexed" if f.indexed else "")
                 for f in e.fields]
    out[-1] = "__all__ = [" + ", ".join(repr(n) for n in names) + "]"
    out += body
    # the contract class binds its methods: a method `int` makes `int` in the class's
    # annotations that method (to a type checker), so those are written `builtins.int`
    shadow = {"deploy", "events", "last_receipt",
              *(py_name(f.name, _RESERVED) for f in abi.functions)}
    b = functools.partial(builtin, shadow=shadow)
    types = ", ".join(f"{t.name!r}: {classes[t.name]}" for t in abi.types)
    events = ", ".join(f"{n!r}: {c}" for n, c in event_classes)
    out += ["", "", f"_CLASSES: dict[str, type] = {{{types}}}",
            f"_EVENTS: dict[str, type] = {{{events}}}", "", "",
            f"class {cls}:",
            f'    """The `{name}` contract. Methods send a transaction, or with `query=True` '
            'run', '    read-only (functions the ABI marks as not mutating query by default). '
            '`last_receipt`', '    holds the last transaction\'s receipt."""', "",
            f"    def __init__(self, target: Any, address: {b('bytes')} | {b('str')} | None = "
            "None, *,",
            "                 signer: Any = None) -> None:",
            "        self.binding = Binding(ABI, _CLASSES, target, address, signer=signer)",
            f"        self.address: {b('bytes')} = self.binding.address", "",
            "    @property", "    def last_receipt(self) -> Any:",
            "        return self.binding.last_receipt", "",
            f"    def events(self, receipt: Any = None) -> {b('list')}[Any]:",
            "        \"\"\"This contract's events in `receipt` (default: the last transaction's)"
            ",\n           decoded into the event classes.\"\"\"",
            "        return self.binding.events(receipt if receipt is not None else "
            "self.last_receipt, _EVENTS)", ""]
    ctor = abi.constructor
    cparams = [(py_name(p.name, _DEPLOY_ARGS), p) for p in (ctor.inputs if ctor else ())]
    sig = "".join(f", {n}: {hint(parse_type(p.type, abi), shadow)}" for n, p in cparams)
    head = f"    def deploy(cls, target: Any{sig}, *, code: {b('bytes')} | None = None,"
    out += ["    @classmethod"]
    if len(head) <= 100:
        out += [head, f"               signer: Any = None, gas_limit: {b('int')} | None = None)"
                      f" -> {cls}:"]
    else:  # one parameter a line, as for a long method
        out += ["    def deploy(", "            cls,", "            target: Any,",
                *(f"            {n}: {hint(parse_type(p.type, abi), shadow)},"
                  for n, p in cparams),
                "            *,", f"            code: {b('bytes')} | None = None,",
                "            signer: Any = None,",
                f"            gas_limit: {b('int')} | None = None,", f"    ) -> {cls}:"]
    call = f"        bound, address = _deploy(target, {name!r}, " \
        f"[{', '.join(n for n, _ in cparams)}], code=code,"
    out += [f'        """Deploy `{name}` (through the `ghost_env` test fixture, or on a '
            'network with its',
            '           `code`), running its constructor with these arguments."""',
            *([call, "                                 signer=signer, gas_limit=gas_limit)"]
              if len(call) <= 100 else
              [f"        bound, address = _deploy(target, {name!r}, [",
               *(f"            {n}," for n, _ in cparams),
               "        ], code=code, signer=signer, gas_limit=gas_limit)"]),
            "        return cls(bound, address, signer=signer)"]
    for fn in abi.functions:
        params = [(py_name(p.name, _CALL_ARGS), p) for p in fn.inputs]
        sig = "".join(f", {n}: {hint(parse_type(p.type, abi), shadow)}" for n, p in params)
        result = hint(parse_type(fn.output, abi), shadow) if fn.output else "None"
        view = fn.mutates is False  # provably no state write: a query by default
        head = f"    def {py_name(fn.name, _RESERVED)}(self{sig}, *, "
        tail = (f"query: {b('bool')} = {view}, gas_limit: {b('int')} | None = None) -> "
                f"{result}:")
        if len(head + tail) <= 100:
            out += ["", head + tail]
        elif len(head) <= 101 and len(tail) <= 88:
            out += ["", head.rstrip(), " " * 12 + tail]
        else:  # one parameter a line
            out += ["", f"    def {py_name(fn.name, _RESERVED)}(", "            self,",
                    *(f"            {n}: {hint(parse_type(p.type, abi), shadow)},"
                      for n, p in params),
                    "            *,", f"            query: {b('bool')} = {view},",
                    f"            gas_limit: {b('int')} | None = None,", f"    ) -> {result}:"]
        doc = fn.doc.strip()
        if fn.can_fail:
            fails = "Can fail: reverts with a Zig error's name" + (
                f" ({', '.join(abi.errors)})." if abi.errors else ".")
            doc += ("\n\n" if doc else "") + "\n".join(textwrap.wrap(fails, 88))
        out += _doc(doc, "        ")
        call = (f"        return self.binding.call({fn.name!r}, "
                f"[{', '.join(n for n, _ in params)}],")
        rest = " query=query, gas_limit=gas_limit)"
        out += [call + rest] if len(call + rest) <= 100 else [
            call, " " * 36 + rest.lstrip()]
    if not any(" = field(" in line for line in out[i_body:]):  # only dataclasses.field
        out = [ln.replace("dataclass, field", "dataclass") if ln.startswith("from dataclasses")
               else ln for ln in out]
    at = out.index("from __future__ import annotations") + 2
    if any("dataclasses.field(" in line for line in out[i_body:]):
        out.insert(at, "import dataclasses")
    if any("builtins." in line for line in out[i_body:]):
        out.insert(at, "import builtins")
    return "\n".join(out) + "\n"
