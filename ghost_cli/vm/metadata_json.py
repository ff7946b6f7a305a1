"""The JSON object a contract carries as its metadata (wasm's custom section, ZVMC's ABI
section): parsed the same way for both formats, hostile bytes included.

The standard library's parser refuses deep nesting only through the interpreter's
recursion limit, which a library may raise (py-evm raises it to 10,000, and a deeper
document can then exhaust a thread's C stack). orjson refuses past a fixed depth of
1,024, so it checks the depth first; `json` still decides what the document is, so
what is accepted does not change with the parser.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .. import strict_json
from ..exceptions import InvalidModuleError


def parse_metadata(payload: bytes, section: str) -> dict[str, Any]:
    """The JSON object in `payload`; InvalidModuleError naming `section` otherwise."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidModuleError(f"invalid {section}: not UTF-8 JSON ({exc})") from exc
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise InvalidModuleError(f"invalid {section}: JSON nested too deeply") from None
    try:
        # Strict JSON, as a node's request bodies are: NaN, Infinity and 1e400 are not
        # JSON and no reply could carry them: a contract recorded with one would fail
        # ghost_getContract for as long as it exists.
        data = json.loads(text, parse_constant=strict_json.refuse_constant,
                          parse_float=strict_json.finite_float)
    except ValueError as exc:
        raise InvalidModuleError(f"invalid {section}: not UTF-8 JSON ({exc})") from exc
    except RecursionError:  # a depth under orjson's that the recursion limit refuses
        raise InvalidModuleError(f"invalid {section}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidModuleError(f"invalid {section}: not a JSON object")
    return data

