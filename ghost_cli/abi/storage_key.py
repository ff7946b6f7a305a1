"""The storage keys of the SDK's typed storage (docs/abi.md, "Storage layout").

`ghost.Value(T, "name")`, `ghost.Map(K, V, "name")` and `ghost.Vec(T, "name")` keep their
values ABI-encoded under keys derived from their name; these functions compute the same
keys, so a tool can read a contract's storage without running it:

    Value:  name
    Map:    name ++ 0x00 ++ ABI(key)
    Vec:    name ++ 0x00 ++ "len"           (the length, an ABI u64)
            name ++ 0x01 ++ ABI(u64 index)  (element `index`)

A name holds no 0x00 or 0x01 byte, so keys of different names never collide (a Value
named "a" is "a", a Map "a" only ever writes "a\\x00...").
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ArgumentError
from .codec import encode_value

MAP_SEPARATOR = b"\x00"
VEC_LEN_SUFFIX = b"\x00len"
VEC_ITEM_SEPARATOR = b"\x01"


def _name(name: str | bytes) -> bytes:
    raw = name.encode() if isinstance(name, str) else bytes(name)
    if not raw or b"\x00" in raw or b"\x01" in raw:
        raise ArgumentError(f"a storage name is non-empty without 0x00 or 0x01 bytes, "
                            f"got {name!r:.80}")
    return raw


def value_key(name: str | bytes) -> bytes:
    """The key of `ghost.Value(T, name)`."""
    return _name(name)


def map_key(name: str | bytes, ktype: str, key: Any, abi: Any = None) -> bytes:
    """The key under which `ghost.Map(K, V, name)` keeps the value of `key` (K = `ktype`)."""
    return _name(name) + MAP_SEPARATOR + encode_value(ktype, key, abi)


def vec_len_key(name: str | bytes) -> bytes:
    """The key of `ghost.Vec(T, name)`'s length (an ABI u64; unset means 0)."""
    return _name(name) + VEC_LEN_SUFFIX


def vec_item_key(name: str | bytes, index: int) -> bytes:
    """The key of element `index` of `ghost.Vec(T, name)`."""
    return _name(name) + VEC_ITEM_SEPARATOR + encode_value("u64", index)
