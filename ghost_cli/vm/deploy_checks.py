"""What a deploy must pass before the node compiles or stores anything, engine-neutral.

The executor checks, in this order and all before any compile: the deploy's gas (from the
code's size alone) against the transaction's limit; the ghost metadata and its ABI (this
module); then the engine's own checks (for WebAssembly: imports, memory, tables, and that
every ABI function is an export a call can reach), and only then compiles. Each refusal is
one line (InvalidModuleError) and leaves state as it was.
"""

from __future__ import annotations

import re
from typing import Any

from ..abi import TYPES, Abi
from ..exceptions import ArgumentError, InvalidModuleError
from . import gas

#: A contract function's name: what Zig and the CLI can both spell.
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
#: More functions than any contract needs; a bound on what a node stores per contract.
MAX_FUNCTIONS = 256
MAX_INPUTS = 32


def deploy_gas(code_size: int) -> int:
    """Gas a deploy of `code_size` bytes costs: known before the code is even parsed."""
    return gas.TX_BASE + gas.DEPLOY_PER_BYTE * code_size


def _fail(reason: str) -> InvalidModuleError:
    return InvalidModuleError(f"invalid contract ABI: {reason}")


def abi_from_metadata(metadata: Any) -> Abi:
    """The ABI in a module's ghost metadata, checked so every function in it can be called:
    names unique and well formed, every type one the codec knows. InvalidModuleError
    (one line) otherwise."""
    if not isinstance(metadata, dict) or "abi" not in metadata:
        raise InvalidModuleError(
            "module has no ghost metadata with an ABI; build it with `ghost build`")
    abi = metadata["abi"]
    if not isinstance(abi, dict):
        raise _fail("'abi' is not a JSON object")
    version = abi.get("version", 1)
    if version not in (1, 2) or isinstance(version, bool):
        raise _fail(f"version {version!r} is not supported (only 1 and 2)")
    decls = _check_decls(abi) if version == 2 else None
    functions = abi.get("functions", [])
    if not isinstance(functions, list):
        raise _fail("'functions' is not a list")
    if len(functions) > MAX_FUNCTIONS:
        raise _fail(f"{len(functions)} functions, at most {MAX_FUNCTIONS} allowed")
    seen: set[str] = set()
    for index, fn in enumerate(functions):
        name = _check_function(index, fn, decls)
        if name in seen:
            raise _fail(f"function '{name}' appears twice")
        seen.add(name)
    constructor = abi.get("constructor")
    if constructor is not None:
        name = _check_function(-1, constructor, decls)
        if name in seen:
            raise _fail(f"constructor '{name}' is also listed as a function")
    events = abi.get("events", [])
    if not isinstance(events, list) or len(events) > MAX_FUNCTIONS:
        raise _fail(f"'events' is not a list of at most {MAX_FUNCTIONS}")
    for index, event in enumerate(events):
        _check_event(index, event, decls)
    return Abi.from_json(abi)


#: Longest type text an ABI may use (`Pair[]?` is 7): a bound on what a parse costs.
MAX_TYPE_TEXT = 256


def _check_decls(abi: dict[str, Any]) -> dict[str, Any]:
    """Version 2's struct/enum declarations (by name) and error names, checked."""
    from ..abi.types import parse_type, resolve_decl

    types, errors = abi.get("types", []), abi.get("errors", [])
    if not isinstance(types, list) or len(types) > MAX_FUNCTIONS:
        raise _fail(f"'types' is not a list of at most {MAX_FUNCTIONS}")
    if not isinstance(errors, list) or len(errors) > MAX_FUNCTIONS or not all(
            isinstance(e, str) and FUNCTION_NAME.match(e) for e in errors):
        raise _fail(f"'errors' is not a list of at most {MAX_FUNCTIONS} names")
    decls: dict[str, Any] = {}
    for index, decl in enumerate(types):
        name = decl.get("name") if isinstance(decl, dict) else None
        if not isinstance(name, str) or not FUNCTION_NAME.match(name) or name in TYPES:
            raise _fail(f"type #{index} has no valid name ({name!r:.40})")
        if name in decls:
            raise _fail(f"type '{name}' is declared twice")
        decls[name] = decl
    for name, decl in decls.items():
        try:
            fields = decl.get("fields", [])
            if len(fields) > MAX_INPUTS or any(len(str(f.get("type"))) > MAX_TYPE_TEXT
                                               for f in fields):
                raise ArgumentError(f"more than {MAX_INPUTS} fields or a type too long")
            resolve_decl(decl, decls, {})
            parse_type(name, decls)
        except (ArgumentError, KeyError, TypeError, ValueError, AttributeError) as exc:
            why = exc.message if isinstance(exc, ArgumentError) else f"malformed ({exc!r:.40})"
            raise _fail(f"type '{name}': {why}") from None
    return decls


def _check_event(index: int, event: Any, decls: dict[str, Any] | None = None) -> None:
    if not isinstance(event, dict):
        raise _fail(f"event #{index} is not a JSON object")
    name = event.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME.match(name):
        raise _fail(f"event #{index} has no valid name ({name!r:.40})")
    fields = event.get("fields", [])
    if not isinstance(fields, list) or len(fields) > MAX_INPUTS:
        raise _fail(f"event '{name}': 'fields' is not a list of at most {MAX_INPUTS}")
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) \
                or not isinstance(field.get("indexed", False), bool):
            raise _fail(f"event '{name}': a field is not {{\"name\", \"type\", \"indexed\"}}")
        if not _known_type(field.get("type"), decls):
            raise _fail(f"event '{name}' uses unknown type {field.get('type')!r:.40}")
    if sum(bool(f.get("indexed")) for f in fields) > 3:
        raise _fail(f"event '{name}' has more than 3 indexed fields")


def _check_function(index: int, fn: Any, decls: dict[str, Any] | None = None) -> str:
    if not isinstance(fn, dict):
        raise _fail(f"function #{index} is not a JSON object")
    name = fn.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME.match(name):
        raise _fail(f"function #{index} has no valid name ({name!r:.40})")
    inputs = fn.get("inputs", [])
    if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
        raise _fail(f"function '{name}': 'inputs' is not a list of at most {MAX_INPUTS}")
    for param in inputs:
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            raise _fail(f"function '{name}': an input is not {{\"name\", \"type\"}}")
        _check_type(name, param.get("type"), decls)
    output = fn.get("output")
    if output is not None:
        _check_type(name, output, decls)
    for key, kind in (("can_fail", bool), ("doc", str)):
        if key in fn and not isinstance(fn[key], kind):
            raise _fail(f"function '{name}': '{key}' is not a {kind.__name__}")
    return name


def _known_type(ty: Any, decls: dict[str, Any] | None) -> bool:
    """Version 1: one of its scalar types; version 2: any type parse_type reads."""
    if not isinstance(ty, str):
        return False
    if decls is None or ty in TYPES:
        return ty in TYPES
    from ..abi.types import parse_type

    try:
        return len(ty) <= MAX_TYPE_TEXT and parse_type(ty, decls) is not None
    except ArgumentError:
        return False


def _check_type(function: str, ty: Any, decls: dict[str, Any] | None = None) -> None:
    if not _known_type(ty, decls):
        raise _fail(f"function '{function}' uses unknown type {ty!r:.40}")
