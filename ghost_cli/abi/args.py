"""Values on the command line and in --json output.

Scalars are typed as themselves (`42`, `true`, `0xabc…`, `hello`); compound types
(arrays, slices, optionals, tuples, structs, enums) as JSON text: `'[1,2,3]'`,
`'{"a": 1, "b": "0x00ff"}'`, `null` for an absent optional. Inside JSON, addresses and
bytes are 0x-hex strings, integers are JSON numbers or (for values beyond 2^53) decimal or
0x strings, enums are variant names. `to_jsonable` renders decoded values the same way.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..exceptions import ArgumentError, CryptoError
from ..hexbytes import from_hex_digits
from ..strict_json import RepeatedName, unique_members
from .model import Function
from .types import (
    INT_TYPES,
    MAX_INT_DIGITS,
    AbiType,
    AddressType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    parse_int_text,
    parse_type,
)


def parse_address(text: str) -> bytes:
    """An address argument: 0x + 40 hex digits, in one case or with a correct checksum."""
    from ..crypto import address  # keccak (pycryptodome) stays out of `ghost --help`

    try:
        return address.parse_address(text)
    except CryptoError as exc:  # a bad argument, as the CLI reports it (exit 2)
        raise ArgumentError(exc.message) from exc


def format_address(raw: bytes) -> str:
    """0x + 40 hex digits, the checksum in their letter case."""
    from ..crypto import address

    return address.format_address(raw)


def parse_arg(ty: str | AbiType, text: str, abi: Any = None) -> Any:
    """Parse one command-line argument as the ABI type `ty` declares."""
    t = ty if isinstance(ty, AbiType) else None
    name = ty.name if isinstance(ty, AbiType) else ty
    if name in INT_TYPES:
        return parse_int_text(text, name)
    if name == "bool":
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ArgumentError(f"expected true or false, got {text!r}")
    if name == "address":
        return parse_address(text)
    if name == "bytes":
        h = text[2:] if text.lower().startswith("0x") else text
        raw = from_hex_digits(h)
        if raw is None:
            raise ArgumentError(f"expected hex bytes (0x...), got {text!r}")
        return raw
    if name == "string":
        return text
    t = t or parse_type(name, abi)
    if isinstance(t, FixedBytesType):
        return t.from_json(text)
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_json_number,
                           parse_int=_json_int, object_pairs_hook=unique_members)
    except RepeatedName as exc:  # which of the two counts would be a guess (readers
        # differ), and an argument is never a guess
        raise ArgumentError(f"a JSON object names field {exc.name[:64]!r} twice") from None
    except ValueError:
        # not JSON: a bare word is the JSON string it spells (`red` for an enum, `0x…` for
        # an `address?`, `hello` for a `string?`)
        if text.strip() and not text.lstrip().startswith(("{", "[", '"')):
            value = text
        else:
            raise ArgumentError(f"expected JSON for {t.name} (e.g. "
                                f"{_example(t)}), got {text!r:.80}") from None
    return t.from_json(value)


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _too_long(f"{text:.40}...")
    return int(text)


def _too_long(shown: str) -> ArgumentError:
    return ArgumentError(f"{shown} has more than {MAX_INT_DIGITS} digits: it fits no ABI "
                         "integer (at most 256 bits)")


def _json_number(text: str) -> int:
    """A JSON number with a fraction or exponent: the integer it denotes (`1e23` is exactly
    10^23, which no float is). No ABI type takes a fraction, so anything else is refused
    here, where the text is still the one written."""
    exact = Decimal(text)
    if exact != exact.to_integral_value():
        raise ArgumentError(f"expected an integer, got {text:.80}: no ABI type takes a "
                            "fraction")
    if exact.adjusted() >= MAX_INT_DIGITS:
        raise _too_long(f"{text:.40}")
    return int(exact)


def _not_json(word: str) -> Any:
    """`NaN`, `Infinity`, `-Infinity`: Python's json reads them, JSON has no such values,
    so they are bare words (strings) like any other."""
    raise ValueError(f"{word} is not JSON")


def _example(t: AbiType) -> str:
    from .types import ArrayType, OptionalType, SliceType, StructType, TupleType

    if isinstance(t, StructType):
        return "'{" + ", ".join(f'"{n}": ...' for n, _ in t.fields[:3]) + "}'"
    if isinstance(t, SliceType | ArrayType | TupleType):
        return "'[...]'"
    if isinstance(t, OptionalType):
        return "null or " + _example(t.inner)
    return "a JSON value"


def parse_args(fn: Function, texts: list[str], abi: Any = None) -> list[Any]:
    if len(texts) != len(fn.inputs):
        from .codec import _describe

        raise ArgumentError(
            f"{fn.name} takes {len(fn.inputs)} argument(s) ({_describe(fn)}), got {len(texts)}"
        )
    scope = abi if abi is not None else fn.scope
    return [parse_arg(p.type, t, scope) for p, t in zip(fn.inputs, texts, strict=True)]


def raw_value(data: bytes) -> str:
    """Bytes of unknown type: printable ASCII as text, anything else as 0x-hex."""
    if data and all(32 <= b < 127 for b in data):
        return data.decode()
    return "0x" + data.hex()


def format_fields(fields: dict[str, Any]) -> str:
    """`name=value` pairs for the terminal: text (strings, enum names) quoted, since the
    fields share a line; bools as `true`/`false`, compound values as JSON."""
    def one(v: Any) -> str:
        if isinstance(v, str) and not v.startswith("0x"):
            return repr(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict | list):
            return json.dumps(v, separators=(",", ":"))
        return str(v)

    return " ".join(f"{k}={one(v)}" for k, v in fields.items())


def to_jsonable(value: Any, ty: str | AbiType | None = None, abi: Any = None) -> Any:
    """A decoded value for --json. With its type: as the type renders it (addresses
    checksummed, enums by name, tuples as lists). Without: bytes as 0x-hex, lists, tuples
    and dicts converted item by item, integers kept exact."""
    if ty is not None:
        return parse_type(ty, abi).to_json(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


__all__ = ["parse_address", "format_address", "parse_arg", "parse_args", "raw_value",
           "format_fields", "to_jsonable", "AddressType", "BoolType", "BytesType", "IntType",
           "StringType"]
