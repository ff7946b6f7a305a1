"""Strict JSON for what strangers and users hand ghost: a request body, a tx.json file,
contract metadata, a call argument. The standard library reads more than JSON (NaN,
Infinity, numbers past a double's range) and resolves an object naming a member twice
to its last value, where other readers take the first; these hooks refuse all of it, so
every reader ghost has agrees on what a document says.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Digits of a JSON integer read at all (the interpreter's default limit on converting a
#: decimal string): past it `int` refuses with advice about `sys` meant for an operator.
MAX_NUMBER_DIGITS = 4300


class RepeatedName(ValueError):
    """An object names member `name` twice."""

    def __init__(self, name: str) -> None:
        shown = name if len(name) <= 64 else name[:64] + "..."
        super().__init__(f"an object names member {shown!r} twice")
        self.name = name


def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook`: the object, or RepeatedName for a member named twice."""
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise RepeatedName(name)
            seen.add(name)
    return doc


def refuse_constant(name: str) -> Any:
    """`parse_constant`: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


def finite_float(text: str) -> float:
    """`parse_float`: a number past a double's range (1e400 reads as infinity) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:32]} is out of range")
    return value


def bounded_int(text: str) -> int:
    """`parse_int`: an integer of more than MAX_NUMBER_DIGITS digits is refused in our words."""
    if len(text) > MAX_NUMBER_DIGITS + (text[0] == "-"):
        raise ValueError(f"a number of more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def loads(text: str) -> Any:
    """`json.loads` refusing what is not strict JSON: NaN/Infinity, a member named twice
    (RepeatedName) and an integer of more than MAX_NUMBER_DIGITS digits are ValueError; a
    crafted nesting is RecursionError. A node's request bodies and tx.json files."""
    return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=unique_members,
                      parse_int=bounded_int)
