"""What a deploy must pass before the node compiles or stores anything, engine-neutral.

The executor checks, in this order and all before any compile: the engine's checks of the
module (for WebAssembly: its structure, imports, memory and tables, then the ghost
metadata and its ABI, this module, then that every ABI function is an export a call can
reach, then wasmtime's validation); the ABI again for the executor's own use; then the
deploy's gas (from the code's size alone) against the transaction's limit, so that a
refusal never depends on the limit; and only then compiles. Each refusal is one line
(InvalidModuleError) and leaves state as it was.
"""

from __future__ import annotations

from typing import Any

from ..abi import TYPES, Abi
from ..abi.types import BUILTIN_TYPES, NAME, StructType, parse_type, resolve_decl
from ..exceptions import ArgumentError, InvalidModuleError
from . import gas

#: More functions than any contract needs; a bound on what a node stores per contract.
MAX_FUNCTIONS = 256
MAX_INPUTS = 32
#: Longest type text an ABI may use (`Pair[]?` is 7): a bound on what a parse costs.
MAX_TYPE_TEXT = 256
_NAME_RULE = "[A-Za-z_][A-Za-z0-9_]*, at most 128 characters"


def deploy_gas(code_size: int) -> int:
    """Gas a deploy of `code_size` bytes costs: known before the code is even parsed."""
    return gas.TX_BASE + gas.DEPLOY_PER_BYTE * code_size


def _fail(reason: str) -> InvalidModuleError:
    return InvalidModuleError(f"invalid contract ABI: {reason}")


def abi_from_metadata(metadata: Any) -> Abi:
    """The ABI in a module's ghost metadata, checked so every function in it can be called
    and every reader reads it alike: names well formed and unique where they share a
    scope, every type one the codec knows, spelled canonically. InvalidModuleError (one
    line) otherwise."""
    if not isinstance(metadata, dict) or "abi" not in metadata:
        raise InvalidModuleError(
            "module has no ghost metadata with an ABI; build it with `ghost build`")
    abi = metadata["abi"]
    if not isinstance(abi, dict):
        raise _fail("'abi' is not a JSON object")
    version = abi.get("version", 1)
    if version not in (1, 2) or not isinstance(version, int) or isinstance(version, bool):
        raise _fail(f"version {version!r} is not supported (only 1 and 2)")
    scope = _check_decls(abi) if version == 2 else None
    functions = abi.get("functions", [])
    if not isinstance(functions, list):
        raise _fail("'functions' is not a list")
    if len(functions) > MAX_FUNCTIONS:
        raise _fail(f"{len(functions)} functions, at most {MAX_FUNCTIONS} allowed")
    seen: set[str] = set()
    for index, fn in enumerate(functions):
        name = _check_function(f"function #{index}", fn, scope)
        if name in seen:
            raise _fail(f"function '{name}' appears twice")
        seen.add(name)
    constructor = abi.get("constructor")
    if constructor is not None:
        name = _check_function("the constructor", constructor, scope)
        if name in seen:
            raise _fail(f"constructor '{name}' is also listed as a function")
    _check_events(abi.get("events", []), scope)
    return Abi.from_json(abi)


class _Scope:
    """Version 2's declarations, with one parse cache for the whole check: parse_type
    reads an object's `types` and `_type_cache` as it reads an Abi's."""

    def __init__(self, decls: dict[str, Any]) -> None:
        self.types = decls
        self._type_cache: dict[str, Any] = {}


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise _fail(f"{what} has no valid name ({value!r:.40}; a name is {_NAME_RULE})")
    return value


def _named(where: str, owner: dict[str, Any], key: str, noun: str,
           limit: int) -> list[dict[str, Any]]:
    """`owner[key]` (inputs, fields, variants): a list of at most `limit` JSON objects,
    each with a valid name no other in the list has."""
    items = owner.get(key, [])
    if not isinstance(items, list) or len(items) > limit:
        raise _fail(f"{where}: '{key}' is not a list of at most {limit}")
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _fail(f"{where}: {noun} #{index} is not a JSON object")
        name = _name(item.get("name"), f"{where}: {noun} #{index}")
        if name in seen:
            raise _fail(f"{where}: two {noun}s are named '{name}'")
        seen.add(name)
    return items


def _check_decls(abi: dict[str, Any]) -> _Scope:
    """Version 2's struct/enum declarations (by name) and error names, checked."""
    _check_errors(abi.get("errors", []))
    types = abi.get("types", [])
    if not isinstance(types, list) or len(types) > MAX_FUNCTIONS:
        raise _fail(f"'types' is not a list of at most {MAX_FUNCTIONS}")
    decls: dict[str, Any] = {}
    for index, decl in enumerate(types):
        name = _name(decl.get("name") if isinstance(decl, dict) else None, f"type #{index}")
        if name in BUILTIN_TYPES:
            raise _fail(f"type '{name}' has the name of a built-in ABI type: the type "
                        f"string '{name}' always means the built-in, so no struct or enum "
                        "may be named so")
        if name in decls:
            raise _fail(f"type '{name}' is declared twice")
        decls[name] = decl
    scope = _Scope(decls)
    for name, decl in decls.items():
        where = f"type '{name}'"
        if decl.get("kind") == "enum":
            _named(where, decl, "variants", "variant", 256)
        else:
            for f in _named(where, decl, "fields", "field", MAX_INPUTS):
                if not isinstance(f.get("type"), str) or len(f["type"]) > MAX_TYPE_TEXT:
                    raise _fail(f"{where}: field '{f['name']}' has no type of at most "
                                f"{MAX_TYPE_TEXT} characters")
        _resolve(where, name, decl, scope)
    return scope


def _resolve(where: str, name: str, decl: dict[str, Any], scope: _Scope) -> None:
    """The declaration resolves (enum values, no struct containing itself), and its field
    types are spelled canonically."""
    cache = scope._type_cache
    try:
        ty = cache[name] if name in cache else resolve_decl(decl, scope.types, cache)
    except (ArgumentError, KeyError, TypeError, ValueError, AttributeError) as exc:
        why = exc.message if isinstance(exc, ArgumentError) else f"malformed ({exc!r:.40})"
        raise _fail(f"{where}: {why}") from None
    if isinstance(ty, StructType):
        for (field, parsed), f in zip(ty.fields, decl["fields"], strict=True):
            _canonical(f"{where}: field '{field}'", f["type"], parsed.name)


def _canonical(where: str, text: str, canonical: str) -> None:
    if text != canonical:
        raise _fail(f"{where} spells a type {text!r:.40}, not canonically: an ABI records "
                    f"{canonical!r:.40} (docs/abi.md, \"ABI JSON\")")


def _check_errors(errors: Any) -> None:
    if not isinstance(errors, list) or len(errors) > MAX_FUNCTIONS:
        raise _fail(f"'errors' is not a list of at most {MAX_FUNCTIONS} names")
    seen: set[str] = set()
    for index, error in enumerate(errors):
        if _name(error, f"error #{index}") in seen:
            raise _fail(f"error '{error}' is listed twice")
        seen.add(error)


def _check_events(events: Any, scope: _Scope | None) -> None:
    for event in _named("the ABI", {"events": events}, "events", "event", MAX_FUNCTIONS):
        name = event["name"]
        fields = _named(f"event '{name}'", event, "fields", "field", MAX_INPUTS)
        for field in fields:
            if not isinstance(field.get("indexed", False), bool):
                raise _fail(f"event '{name}': field '{field['name']}': 'indexed' is not a "
                            "bool")
            _check_type(f"event '{name}'", field.get("type"), scope)
        if sum(bool(f.get("indexed")) for f in fields) > 3:
            raise _fail(f"event '{name}' has more than 3 indexed fields")


def _check_function(what: str, fn: Any, scope: _Scope | None) -> str:
    if not isinstance(fn, dict):
        raise _fail(f"{what} is not a JSON object")
    name = _name(fn.get("name"), what)
    where = f"function '{name}'"
    for param in _named(where, fn, "inputs", "input", MAX_INPUTS):
        _check_type(where, param.get("type"), scope)
    output = fn.get("output")
    if output is not None:
        _check_type(where, output, scope)
    for key, kind in (("can_fail", bool), ("doc", str), ("mutates", bool)):
        if key in fn and not isinstance(fn[key], kind):
            raise _fail(f"{where}: '{key}' is not a {kind.__name__}")
    return name


def _check_type(where: str, ty: Any, scope: _Scope | None) -> None:
    """Version 1: one of its scalar types; version 2: any type parse_type reads, in its
    canonical spelling (the text the node records is what every reader parses)."""
    if isinstance(ty, str) and ty in TYPES:
        return
    if scope is None or not isinstance(ty, str) or len(ty) > MAX_TYPE_TEXT:
        raise _fail(f"{where} uses unknown type {ty!r:.40}")
    try:
        canonical = parse_type(ty, scope).name
    except ArgumentError as exc:
        why = exc.message.split(": ", 1)[-1]  # without the "invalid ABI type 'T'" it repeats
        raise _fail(f"{where} uses unknown type {ty!r:.40} ({why:.80})") from None
    _canonical(where, ty, canonical)
