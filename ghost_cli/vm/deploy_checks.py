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
from ..exceptions import InvalidModuleError
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
    if version != 1 or isinstance(version, bool):
        raise _fail(f"version {version!r} is not supported (only 1)")
    functions = abi.get("functions", [])
    if not isinstance(functions, list):
        raise _fail("'functions' is not a list")
    if len(functions) > MAX_FUNCTIONS:
        raise _fail(f"{len(functions)} functions, at most {MAX_FUNCTIONS} allowed")
    seen: set[str] = set()
    for index, fn in enumerate(functions):
        name = _check_function(index, fn)
        if name in seen:
            raise _fail(f"function '{name}' appears twice")
        seen.add(name)
    constructor = abi.get("constructor")
    if constructor is not None:
        name = _check_function(-1, constructor)
        if name in seen:
            raise _fail(f"constructor '{name}' is also listed as a function")
    events = abi.get("events", [])
    if not isinstance(events, list) or len(events) > MAX_FUNCTIONS:
        raise _fail(f"'events' is not a list of at most {MAX_FUNCTIONS}")
    for index, event in enumerate(events):
        _check_event(index, event)
    return Abi.from_json(abi)


def _check_event(index: int, event: Any) -> None:
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
        if field.get("type") not in TYPES:
            raise _fail(f"event '{name}' uses unknown type {field.get('type')!r:.40}")
    if sum(bool(f.get("indexed")) for f in fields) > 3:
        raise _fail(f"event '{name}' has more than 3 indexed fields")


def _check_function(index: int, fn: Any) -> str:
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
        _check_type(name, param.get("type"))
    output = fn.get("output")
    if output is not None:
        _check_type(name, output)
    for key, kind in (("can_fail", bool), ("doc", str)):
        if key in fn and not isinstance(fn[key], kind):
            raise _fail(f"function '{name}': '{key}' is not a {kind.__name__}")
    return name


def _check_type(function: str, ty: Any) -> None:
    if not isinstance(ty, str) or ty not in TYPES:
        raise _fail(f"function '{function}' uses unknown type {ty!r:.40}")
