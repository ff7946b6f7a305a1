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
import math
from typing import Any

import orjson

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
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except ValueError as exc:
        raise InvalidModuleError(f"invalid {section}: not UTF-8 JSON ({exc})") from exc
    except RecursionError:  # a depth under orjson's that the recursion limit refuses
        raise InvalidModuleError(f"invalid {section}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidModuleError(f"invalid {section}: not a JSON object")
    return data


# Strict JSON, as a node's request bodies are: NaN, Infinity and a number past a double's
# range (1e400, which reads as infinity) are not JSON, and no reply could carry them: a
# contract recorded with one would fail ghost_getContract for as long as it exists.


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:32]} is out of range")
    return value
