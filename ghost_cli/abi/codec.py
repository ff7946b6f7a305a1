"""Encode and decode values, call data, results and events by their ABI types.

Call data is the arguments' encodings concatenated; return data is the single result's
encoding; nothing else is on the wire (no selector, padding or alignment). Decoding is
strict the way the SDK's is: the same bytes the contract refuses are refused here, with
the same reason (AbiError.reason, e.g. `ghost: call data too long`).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import AbiError, ArgumentError
from .model import Abi, Function
from .types import TOO_LONG, AbiType, BytesType, StringType, parse_type


def encode_value(ty: str | AbiType, value: Any, abi: Any = None) -> bytes:
    """The encoding of `value` as ABI type `ty` (struct/enum names resolved in `abi`)."""
    return parse_type(ty, abi).encode(value)


def decode_value(ty: str | AbiType, data: bytes, pos: int = 0, abi: Any = None
                 ) -> tuple[Any, int]:
    """Decode one value at `pos`; return it and the position after it."""
    return parse_type(ty, abi).decode(bytes(data), pos)


def decode_exact(ty: str | AbiType, data: bytes, abi: Any = None) -> Any:
    """The one value `data` holds, refusing bytes left over (`ghost: call data too long`)."""
    value, end = decode_value(ty, data, 0, abi)
    if end != len(data):
        raise AbiError(TOO_LONG, f"{len(data) - end} byte(s) after the {parse_type(ty, abi)}")
    return value


def _scope(fn: Function, abi: Any) -> Any:
    return abi if abi is not None else fn.scope


def encode_call(fn: Function, args: list[Any] | tuple[Any, ...], abi: Any = None) -> bytes:
    """Encode typed Python values as call data for `fn`, checking count and types first."""
    if len(args) != len(fn.inputs):
        raise ArgumentError(
            f"{fn.name} takes {len(fn.inputs)} argument(s) ({_describe(fn)}), got {len(args)}"
        )
    scope = _scope(fn, abi)
    out = []
    for p, a in zip(fn.inputs, args, strict=True):
        try:
            out.append(encode_value(p.type, a, scope))
        except AbiError:
            raise
        except ArgumentError as exc:
            if len(fn.inputs) == 1:
                raise
            raise ArgumentError(f"argument {p.name!r} ({p.type}): {exc.message}") from None
    return b"".join(out)


def decode_call(fn: Function, data: bytes, abi: Any = None) -> list[Any]:
    """The arguments call data holds, decoded as the contract's SDK does."""
    scope, pos, out = _scope(fn, abi), 0, []
    for p in fn.inputs:
        value, pos = decode_value(p.type, data, pos, scope)
        out.append(value)
    if pos != len(data):
        raise AbiError(TOO_LONG, f"{len(data) - pos} byte(s) after the last argument of "
                                 f"{fn.name}")
    return out


def decode_result(fn: Function, data: bytes, abi: Any = None) -> Any:
    """The result return data holds; a `void` function's is empty, like its call data
    without parameters (any byte is `ghost: call data too long`)."""
    if fn.output is None:
        if data:
            raise AbiError(TOO_LONG, f"{fn.name} returns nothing, got {len(data)} byte(s)")
        return None
    value, end = decode_value(fn.output, data, 0, _scope(fn, abi))
    if end != len(data):
        raise AbiError(TOO_LONG, f"{fn.name} returned {len(data) - end} unexpected trailing "
                                 "byte(s)")
    return value


def _describe(fn: Function) -> str:
    return ", ".join(f"{p.name}: {p.type}" for p in fn.inputs) or "none"


def topic_value(ty: str | AbiType, topic: bytes, abi: Any = None) -> Any:
    """An indexed field from its topic: left-aligned, zero-padded, integers little-endian
    (the SDK's `ghost.topic`). Byte strings lose their zero padding."""
    t = parse_type(ty, abi)
    if isinstance(t, BytesType | StringType):
        raw = topic.rstrip(b"\0")
        return raw.decode(errors="replace") if isinstance(t, StringType) else raw
    value, _ = t.decode(bytes(topic).ljust(max(t.min_size, 32), b"\0"))
    return value


def event_fields(abi: Abi, spec: Any, topics: tuple[bytes, ...] | list[bytes],
                 data: bytes) -> dict[str, tuple[AbiType, Any]] | None:
    """{field: (type, decoded value)} of one event by its spec, or None when the bytes do
    not fit it: indexed fields from topics 1..3 in order, the others from the data."""
    out: dict[str, tuple[AbiType, Any]] = {}
    later = list(topics[1:])
    pos = 0
    try:
        for f in spec.fields:
            ty = parse_type(f.type, abi)
            if f.indexed:
                if not later:
                    return None
                out[f.name] = (ty, topic_value(ty, later.pop(0), abi))
            else:
                value, pos = ty.decode(bytes(data), pos)
                out[f.name] = (ty, value)
    except ArgumentError:
        return None
    return out if pos == len(data) and not later else None


def decode_event(abi: Abi | None, name: str, topics: tuple[bytes, ...] | list[bytes],
                 data: bytes) -> dict[str, Any] | None:
    """The event's fields by the ABI ({field: value}, each as `to_jsonable` renders it:
    addresses in checksum case, bytes as 0x-hex), or None when the ABI does not declare
    its fields or the bytes do not fit them."""
    spec = abi.event(name) if abi is not None else None
    if spec is None or not spec.fields:
        return None
    fields = event_fields(abi, spec, topics, data)
    return None if fields is None else {k: ty.to_json(v) for k, (ty, v) in fields.items()}
