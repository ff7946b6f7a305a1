"""ABI types as a tree: parse a type string once, then encode, decode and convert values.

Grammar (docs/abi.md, "Types"): a base type, then any number of suffixes read left to right:
`T[N]` (array of N), `T[]` (slice), `T?` (optional). Base types: `bool`, `u8`..`u256`,
`i8`..`i256`, `address`, `bytes1`..`bytes32`, `bytes`, `string`, a tuple `(T1,T2,...)`, or
the name of a struct or enum declared in the ABI's `types`. So `u64[][4]` is an array of
four slices of u64, and `Pair?[]` a slice of optional Pairs. Tokens may be separated by
ASCII spaces; `.name` is the canonical spelling, without them (the one an ABI records).
Only ASCII is read: no other space or digit stands for one.

Every type encodes to at least one byte (`min_size`): a decoder checks a slice's count
against what remains of the input before building anything, so a count of 2^32-1 in a
short input is refused at once ("call data too short").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import AbiError, ArgumentError
from ..hexbytes import from_hex_digits

ADDRESS_LEN = 20
INT_WIDTHS = (8, 16, 32, 64, 128, 256)
INT_TYPES = frozenset(f"{s}{w}" for s in "ui" for w in INT_WIDTHS)
#: The scalar types of ABI version 1 (what every reader has always accepted).
TYPES = INT_TYPES | {"bool", "bytes", "string", "address"}
#: Largest length or count a `bytes`, `string` or slice may carry (its u32 prefix).
MAX_LENGTH = (1 << 32) - 1
#: Largest N of a fixed array `T[N]`.
MAX_ARRAY = (1 << 32) - 1

# The revert reasons of the SDK's decoder, word for word (AbiError.reason).
TOO_SHORT = "ghost: call data too short"
TOO_LONG = "ghost: call data too long"
BAD_BOOL = "ghost: invalid bool"
BAD_UTF8 = "ghost: invalid utf-8"
BAD_OPTIONAL = "ghost: invalid optional tag"
BAD_ENUM = "ghost: invalid enum value"
REASONS = (TOO_SHORT, TOO_LONG, BAD_BOOL, BAD_UTF8, BAD_OPTIONAL, BAD_ENUM)

#: A name in an ABI (function, input, type, field, variant, event, error): what Zig and
#: the CLI can both spell, at most 128 characters.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}", re.ASCII)

#: An integer written as text (docs/abi.md, "Python values and JSON values"): an optional
#: `-`, then decimal digits without a leading zero or `0x`/`0X` and hex digits; a `_` may
#: stand between two digits. No `+`, spaces, `0b`/`0o` or other digits.
_INT_TEXT = re.compile(r"-?(?:0[xX][0-9a-fA-F]+(?:_[0-9a-fA-F]+)*|0|[1-9][0-9]*(?:_[0-9]+)*)")


#: Longest integer read, as text or as a JSON number (a u256 has 78 decimal digits, 64
#: hex): longer is refused before Python's int would parse it (it refuses decimal beyond
#: 4,300 digits anyway).
MAX_INT_DIGITS = 100


def parse_int_text(text: str, type_name: str) -> int:
    """The integer `text` spells by the grammar above; ArgumentError otherwise."""
    if not _INT_TEXT.fullmatch(text):
        raise ArgumentError(f"expected an integer ({type_name}): decimal without leading "
                            f"zeros or 0x-hex, `_` only between digits; got {text!r:.80}")
    digits = text.replace("_", "")
    magnitude = digits.lstrip("-").removeprefix("0x").removeprefix("0X").lstrip("0")
    if len(magnitude) > MAX_INT_DIGITS:  # beyond any ABI integer; int() could refuse it
        raise ArgumentError(f"{text:.40}... ({len(magnitude)} digits) fits no ABI integer "
                            f"(at most 256 bits), let alone {type_name}")
    return int(digits, 0)


class AbiType:
    """One node of a type tree. `name` is its canonical text (what parse_type reads back)."""

    name: str = ""
    min_size: int = 1  # fewest bytes any value of the type encodes to

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        """The value at `pos` and the position after it; AbiError if the bytes do not fit."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """A decoded value as JSON: bytes as 0x-hex, addresses checksummed, tuples as lists,
        enums by name, integers exact."""
        return value

    def from_json(self, value: Any) -> Any:
        """A Python value from its JSON form (the CLI's `'{"a": 1}'`); ArgumentError if it
        does not fit."""
        return value

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<abi type {self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbiType) and type(other) is type(self) \
            and other.name == self.name and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self.name)

    def _key(self) -> Any:
        return ()


def _take(data: bytes, pos: int, n: int, what: str) -> bytes:
    if n > len(data) - pos:
        raise AbiError(TOO_SHORT, f"{what} at byte {pos} needs {n} byte(s), "
                                  f"{max(len(data) - pos, 0)} remain")
    return data[pos:pos + n]


def _as_written(value: Any) -> str:
    """A refused value in an error message, at most 80 characters: as JSON when it is
    JSON's (`true`, `null`, `[1, true]`: what the command line or a JSON document held),
    else as Python writes it (a string quoted, bytes as b'...')."""
    import json

    if isinstance(value, bool | float | list | tuple | dict) or value is None:
        try:
            return json.dumps(value)[:80]
        except (TypeError, ValueError):  # bytes inside, a float NaN: Python's spelling
            pass
    return repr(value)[:80]


def _hex_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        t = value[2:] if value[:2].lower() == "0x" else value
        raw = from_hex_digits(t)
        if raw is not None:
            return raw
    raise ArgumentError(f"expected 0x-hex bytes for {what}, got {_as_written(value)}")


class BoolType(AbiType):
    name = "bool"

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, bool):
            raise ArgumentError(f"expected true or false for bool, got {_as_written(value)}")
        return b"\x01" if value else b"\x00"

    def from_json(self, value: Any) -> Any:
        self.encode(value)
        return value

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        b = _take(data, pos, 1, "bool")[0]
        if b > 1:
            raise AbiError(BAD_BOOL, f"byte {pos} is {b}, a bool is 0 or 1")
        return b == 1, pos + 1


class IntType(AbiType):
    def __init__(self, signed: bool, width: int) -> None:
        self.signed, self.width, self.size = signed, width, width // 8
        self.name = f"{'i' if signed else 'u'}{width}"
        self.min_size = self.size
        self.lo = -(1 << (width - 1)) if signed else 0
        self.hi = (1 << (width - 1)) - 1 if signed else (1 << width) - 1

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentError(f"expected an integer for {self.name}, got {_as_written(value)}")
        if not self.lo <= value <= self.hi:
            raise ArgumentError(f"{_shown(value)} does not fit in {self.name} "
                                f"({self.lo}..{self.hi})")
        return value.to_bytes(self.size, "little", signed=self.signed)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        raw = _take(data, pos, self.size, self.name)
        return int.from_bytes(raw, "little", signed=self.signed), pos + self.size

    def from_json(self, value: Any) -> Any:
        if isinstance(value, str):  # "123", "0x7b", "1_000": integers beyond 2^53 in JSON
            value = parse_int_text(value, self.name)
        elif isinstance(value, float) and value.is_integer():
            value = _exact_float(value, self.name)
        self.encode(value)  # range and type check
        return value


def _shown(value: int) -> str:
    """An integer for a message: in full up to 100 digits, else by its size (Python
    refuses to print a decimal of more than 4,300 digits, and nobody reads one)."""
    if value.bit_length() <= 330:
        return str(value)
    return f"{'-' if value < 0 else ''}an integer of {value.bit_length()} bits"


def _exact_float(value: float, type_name: str) -> int:
    """An integral float from JSON (`1.0`). Only up to 2^53 is it surely the integer
    written: `1e23` reads as 99999999999999991611392, so a larger one is refused rather
    than silently changed (the CLI reads such numbers exactly, args.py)."""
    if abs(value) > 2**53:
        raise ArgumentError(
            f"{value!r} is a JSON number beyond 2^53, where a float may not be the integer "
            f"written; give {type_name} values that large as a string (\"12345...\")")
    return int(value)


class AddressType(AbiType):
    name = "address"
    min_size = ADDRESS_LEN

    def encode(self, value: Any) -> bytes:
        from .args import parse_address

        raw = bytes(value) if isinstance(value, bytes | bytearray) else parse_address(str(value))
        if len(raw) != ADDRESS_LEN:
            raise ArgumentError(f"an address is {ADDRESS_LEN} bytes, got {len(raw)}")
        return raw

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        return _take(data, pos, ADDRESS_LEN, "address"), pos + ADDRESS_LEN

    def to_json(self, value: Any) -> Any:
        from .args import format_address

        return format_address(bytes(value))

    def from_json(self, value: Any) -> Any:
        from .args import parse_address

        if not isinstance(value, str):
            raise ArgumentError(f"expected a 0x address, got {_as_written(value)}")
        return parse_address(value)


class FixedBytesType(AbiType):
    def __init__(self, n: int) -> None:
        self.n = self.min_size = n
        self.name = f"bytes{n}"

    def encode(self, value: Any) -> bytes:
        raw = _hex_bytes(value, self.name)
        if len(raw) != self.n:
            raise ArgumentError(f"{self.name} is {self.n} bytes, got {len(raw)}")
        return raw

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        return _take(data, pos, self.n, self.name), pos + self.n

    def to_json(self, value: Any) -> Any:
        return "0x" + bytes(value).hex()

    def from_json(self, value: Any) -> Any:
        raw = _hex_bytes(value, self.name)
        self.encode(raw)
        return raw


def _length(data: bytes, pos: int, what: str) -> tuple[int, int]:
    return int.from_bytes(_take(data, pos, 4, f"length of {what}"), "little"), pos + 4


class BytesType(AbiType):
    name = "bytes"
    min_size = 4

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray):
            raise ArgumentError(f"expected bytes, got {_as_written(value)}")
        if len(value) > MAX_LENGTH:
            raise ArgumentError(f"bytes of {len(value)} bytes exceed the u32 length")
        return len(value).to_bytes(4, "little") + bytes(value)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        n, pos = _length(data, pos, self.name)
        return _take(data, pos, n, self.name), pos + n

    def to_json(self, value: Any) -> Any:
        return "0x" + bytes(value).hex()

    def from_json(self, value: Any) -> Any:
        return _hex_bytes(value, "bytes")


class StringType(AbiType):
    name = "string"
    min_size = 4

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise ArgumentError(f"expected a string, got {_as_written(value)}")
        try:
            raw = value.encode()
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8 at all
            raise ArgumentError(f"{_as_written(value)} is not valid Unicode text") from None
        return BytesType().encode(raw)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        n, start = _length(data, pos, self.name)
        raw = _take(data, start, n, self.name)
        try:
            return raw.decode("utf-8"), start + n
        except UnicodeDecodeError as exc:
            raise AbiError(BAD_UTF8, f"string at byte {pos}: {exc.reason} at its byte "
                                     f"{exc.start}") from None

    def from_json(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ArgumentError(f"expected a JSON string, got {_as_written(value)}")
        return value


class ArrayType(AbiType):
    """`T[N]`: exactly N elements, no count on the wire."""

    def __init__(self, elem: AbiType, n: int) -> None:
        self.elem, self.n = elem, n
        self.name = f"{elem.name}[{n}]"
        self.min_size = elem.min_size * n

    def _key(self) -> Any:
        return (self.elem._key(),)

    def encode(self, value: Any) -> bytes:
        items = _items(value, self.name, self.elem)
        if len(items) != self.n:
            raise ArgumentError(f"{self.name} takes {self.n} element(s), got {len(items)}")
        return b"".join(self.elem.encode(v) for v in items)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        out = []  # element by element, as the SDK does: the first problem met is reported
        for _ in range(self.n):
            v, pos = self.elem.decode(data, pos)
            out.append(v)
        return out, pos

    def to_json(self, value: Any) -> Any:
        return [self.elem.to_json(v) for v in value]

    def from_json(self, value: Any) -> Any:
        items = [self.elem.from_json(v) for v in _json_list(value, self.name, self.elem)]
        if len(items) != self.n:
            raise ArgumentError(f"{self.name} takes {self.n} element(s), got {len(items)}")
        return items


class SliceType(AbiType):
    """`T[]`: a u32 count, then the elements."""

    min_size = 4

    def __init__(self, elem: AbiType) -> None:
        self.elem = elem
        self.name = f"{elem.name}[]"

    def _key(self) -> Any:
        return (self.elem._key(),)

    def encode(self, value: Any) -> bytes:
        items = _items(value, self.name, self.elem)
        if len(items) > MAX_LENGTH:
            raise ArgumentError(f"{self.name} of {len(items)} elements exceeds the u32 count")
        return len(items).to_bytes(4, "little") + b"".join(self.elem.encode(v) for v in items)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        n, pos = _length(data, pos, self.name)
        # refused before building anything: n elements need at least n * min_size bytes
        if n * self.elem.min_size > len(data) - pos:
            raise AbiError(TOO_SHORT, f"{self.name} count {n} at byte {pos - 4} needs at least "
                                      f"{n * self.elem.min_size} byte(s), "
                                      f"{len(data) - pos} remain")
        out = []
        for _ in range(n):
            v, pos = self.elem.decode(data, pos)
            out.append(v)
        return out, pos

    def to_json(self, value: Any) -> Any:
        return [self.elem.to_json(v) for v in value]

    def from_json(self, value: Any) -> Any:
        return [self.elem.from_json(v) for v in _json_list(value, self.name, self.elem)]


def _items(value: Any, what: str, elem: AbiType | None) -> list[Any]:
    if isinstance(elem, IntType) and elem.name == "u8" and isinstance(value, bytes | bytearray):
        return list(value)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise ArgumentError(f"expected a list for {what}, got {_as_written(value)}")
    return list(value)


def _json_list(value: Any, what: str, elem: AbiType | None) -> list[Any]:
    if isinstance(elem, IntType) and elem.name == "u8" and isinstance(value, str):
        return list(_hex_bytes(value, what))  # u8[40] may be given as 0x-hex too
    if not isinstance(value, list | tuple):
        raise ArgumentError(f"expected a JSON list for {what}, got {_as_written(value)}")
    return list(value)


class OptionalType(AbiType):
    """`T?`: tag 0 (null, nothing follows) or 1 then the value."""

    def __init__(self, inner: AbiType) -> None:
        self.inner = inner
        self.name = f"{inner.name}?"

    def _key(self) -> Any:
        return (self.inner._key(),)

    def encode(self, value: Any) -> bytes:
        return b"\x00" if value is None else b"\x01" + self.inner.encode(value)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        tag = _take(data, pos, 1, self.name)[0]
        if tag == 0:
            return None, pos + 1
        if tag != 1:
            raise AbiError(BAD_OPTIONAL, f"byte {pos} is {tag}, an optional's tag is 0 or 1")
        return self.inner.decode(data, pos + 1)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.inner.to_json(value)

    def from_json(self, value: Any) -> Any:
        return None if value is None else self.inner.from_json(value)


class TupleType(AbiType):
    def __init__(self, elems: tuple[AbiType, ...]) -> None:
        self.elems = elems
        self.name = "(" + ",".join(e.name for e in elems) + ")"
        self.min_size = sum(e.min_size for e in elems)

    def _key(self) -> Any:
        return tuple(e._key() for e in self.elems)

    def encode(self, value: Any) -> bytes:
        items = _items(value, self.name, None)
        if len(items) != len(self.elems):
            raise ArgumentError(f"{self.name} takes {len(self.elems)} element(s), "
                                f"got {len(items)}")
        return b"".join(t.encode(v) for t, v in zip(self.elems, items, strict=True))

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        out = []
        for t in self.elems:
            v, pos = t.decode(data, pos)
            out.append(v)
        return tuple(out), pos

    def to_json(self, value: Any) -> Any:
        return [t.to_json(v) for t, v in zip(self.elems, value, strict=True)]

    def from_json(self, value: Any) -> Any:
        items = _json_list(value, self.name, None)
        if len(items) != len(self.elems):
            raise ArgumentError(f"{self.name} takes {len(self.elems)} element(s), "
                                f"got {len(items)}")
        return tuple(t.from_json(v) for t, v in zip(self.elems, items, strict=True))


class StructType(AbiType):
    """A struct declared in the ABI: its fields in declaration order, concatenated."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: tuple[tuple[str, AbiType], ...] = ()  # set once resolved (may recurse)

    def _key(self) -> Any:
        return tuple((n, t.name) for n, t in self.fields)

    def _set_fields(self, fields: tuple[tuple[str, AbiType], ...]) -> None:
        self.fields = fields
        self.min_size = sum(t.min_size for _, t in fields)

    def encode(self, value: Any) -> bytes:
        if isinstance(value, Mapping):
            extra = set(value) - {n for n, _ in self.fields}
            if extra:
                raise ArgumentError(f"{self.name} has no field(s) {', '.join(sorted(extra))} "
                                    f"(fields: {', '.join(n for n, _ in self.fields)})")
            get = value.__getitem__
        else:
            def get(key: str) -> Any:
                return getattr(value, key)
        out = []
        for n, t in self.fields:
            try:
                v = get(n)
            except (KeyError, AttributeError):
                raise ArgumentError(f"{self.name} value lacks field {n!r}") from None
            out.append(t.encode(v))
        return b"".join(out)

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        out = {}
        for n, t in self.fields:
            out[n], pos = t.decode(data, pos)
        return out, pos

    def to_json(self, value: Any) -> Any:
        return {n: t.to_json(value[n]) for n, t in self.fields}

    def from_json(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ArgumentError(f"expected a JSON object for {self.name}, got {_as_written(value)}")
        extra = set(value) - {n for n, _ in self.fields}
        if extra:
            raise ArgumentError(f"{self.name} has no field(s) {', '.join(sorted(extra))} "
                                f"(fields: {', '.join(n for n, _ in self.fields)})")
        missing = [n for n, _ in self.fields if n not in value]
        if missing:
            raise ArgumentError(f"{self.name} value lacks field(s) {', '.join(missing)}")
        return {n: t.from_json(value[n]) for n, t in self.fields}


class EnumType(AbiType):
    """An enum: one byte, the variant's integer value. Values are variant names."""

    def __init__(self, name: str, variants: tuple[tuple[str, int], ...]) -> None:
        self.name, self.variants = name, variants
        self.by_name = dict(variants)
        self.by_value = {v: n for n, v in variants}

    def _key(self) -> Any:
        return self.variants

    def encode(self, value: Any) -> bytes:
        if isinstance(value, str) and value in self.by_name:
            return bytes([self.by_name[value]])
        if isinstance(value, int) and not isinstance(value, bool) and value in self.by_value:
            return bytes([value])
        raise ArgumentError(f"{_as_written(value)} is no variant of {self.name} "
                            f"({', '.join(n for n, _ in self.variants)})")

    def decode(self, data: bytes, pos: int = 0) -> tuple[Any, int]:
        b = _take(data, pos, 1, self.name)[0]
        if b not in self.by_value:
            raise AbiError(BAD_ENUM, f"byte {pos} is {b}, no variant of {self.name}")
        return self.by_value[b], pos + 1

    def from_json(self, value: Any) -> Any:
        self.encode(value)
        return value if isinstance(value, str) else self.by_value[value]


_SCALARS: dict[str, AbiType] = {
    "bool": BoolType(), "address": AddressType(), "bytes": BytesType(), "string": StringType(),
    **{f"{s}{w}": IntType(s == "i", w) for s in "ui" for w in INT_WIDTHS},
    **{f"bytes{n}": FixedBytesType(n) for n in range(1, 33)},
}

#: Names of the built-in types: a struct or enum may not take one (the type string would
#: read as the built-in).
BUILTIN_TYPES = frozenset(_SCALARS)

# ASCII only: `\s` and `\d` would otherwise take any Unicode space or digit.
_SPACE = " \t\n\r\f\v"
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\[\s*([0-9]*)\s*\])|([?(),]))", re.ASCII)


class _Parser:
    def __init__(self, text: str, decls: Mapping[str, Mapping[str, Any]],
                 cache: dict[str, AbiType]) -> None:
        self.text, self.pos, self.decls, self.cache = text, 0, decls, cache

    def fail(self, why: str) -> ArgumentError:
        return ArgumentError(f"invalid ABI type {self.text!r}: {why}")

    def peek(self) -> re.Match[str] | None:
        return _TOKEN.match(self.text, self.pos)

    def rest(self) -> str:
        return self.text[self.pos:].strip(_SPACE)

    def parse(self) -> AbiType:
        ty = self.one()
        if self.rest():
            raise self.fail(f"unexpected {self.rest()!r}")
        return ty

    def one(self) -> AbiType:
        m = self.peek()
        if m is None:
            raise self.fail(f"expected a type at {self.rest()[:20]!r}"
                            if self.rest() else "expected a type")
        self.pos = m.end()
        if m.group(4) == "(":
            elems = [self.one()]
            while True:
                m = self.peek()
                if m is None or m.group(4) not in (",", ")"):
                    raise self.fail("expected ',' or ')' in a tuple")
                self.pos = m.end()
                if m.group(4) == ")":
                    break
                elems.append(self.one())
            ty: AbiType = TupleType(tuple(elems))
        elif m.group(1):
            ty = self.named(m.group(1))
        else:
            raise self.fail(f"unexpected {m.group(0).strip()!r}")
        while (m := self.peek()) is not None and (m.group(2) or m.group(4) == "?"):
            self.pos = m.end()
            if m.group(4) == "?":
                if isinstance(ty, OptionalType):
                    raise self.fail("an optional of an optional is not an ABI type")
                ty = OptionalType(ty)
            elif m.group(3) == "":
                if ty.name == "u8":
                    raise self.fail("a slice of u8 is spelled 'bytes'")
                ty = SliceType(ty)
            else:
                if m.group(3).startswith("0") and m.group(3) != "0":
                    raise self.fail(f"array length {m.group(3)!r} has a leading zero")
                n = int(m.group(3))
                if not 1 <= n <= MAX_ARRAY:
                    raise self.fail(f"array length {n} is not 1..{MAX_ARRAY}")
                if ty.name == "u8" and n <= 32:
                    raise self.fail(f"u8[{n}] is spelled "
                                    f"'{'address' if n == ADDRESS_LEN else f'bytes{n}'}'")
                ty = ArrayType(ty, n)
        return ty

    def named(self, name: str) -> AbiType:
        if name in _SCALARS:
            return _SCALARS[name]
        if name in self.cache:
            ty = self.cache[name]
            if isinstance(ty, StructType) and not ty.fields and self.decls[name].get("fields"):
                raise self.fail(f"struct {name} contains itself")
            return ty
        decl = self.decls.get(name)
        if decl is None:
            raise self.fail(f"unknown type {name!r}" + (
                f" (declared types: {', '.join(sorted(self.decls))})" if self.decls else ""))
        return resolve_decl(decl, self.decls, self.cache, self.fail)


def resolve_decl(decl: Mapping[str, Any], decls: Mapping[str, Mapping[str, Any]],
                 cache: dict[str, AbiType], fail: Any = None) -> AbiType:
    """The type a struct/enum declaration (ABI JSON form) defines."""
    name = decl.get("name")
    fail = fail or (lambda why: ArgumentError(f"invalid ABI type {name!r}: {why}"))
    if decl.get("kind") == "enum":
        variants = tuple((str(v["name"]), v["value"]) for v in decl.get("variants", []))
        values = [v for _, v in variants]
        if not variants or len(variants) > 256 \
                or not all(is_int(v) and 0 <= v <= 255 for v in values) \
                or len(set(values)) != len(values):
            raise fail(f"enum {name} needs 1..256 variants of distinct values 0..255, "
                       "each a JSON integer")
        _unique(f"enum {name}", "variant", [n for n, _ in variants], fail)
        ty: AbiType = EnumType(str(name), variants)
        cache[str(name)] = ty
        return ty
    if decl.get("kind") != "struct":
        raise fail(f"declaration {name!r} is of unknown kind {decl.get('kind')!r}")
    st = StructType(str(name))
    cache[str(name)] = st  # before its fields: a struct holding itself is caught
    fields = []
    for f in decl.get("fields", []):
        fields.append((str(f["name"]), _Parser(str(f["type"]), decls, cache).parse()))
    if not fields:
        raise fail(f"struct {name} has no fields")
    _unique(f"struct {name}", "field", [n for n, _ in fields], fail)
    st._set_fields(tuple(fields))
    return st


def is_int(value: Any) -> bool:
    """A whole number: `1.0`, `True` and `"1"` are not one (bool is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _unique(owner: str, what: str, names: list[str], fail: Any) -> None:
    """Refuse a name twice: a decoded struct is a dict, so one field would vanish."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise fail(f"{owner} has two {what}s named {n!r}")
        seen.add(n)


def declarations(abi: Any) -> Mapping[str, Mapping[str, Any]]:
    """Struct/enum declarations by name from an Abi, a mapping, a list of decls, or None."""
    if abi is None:
        return {}
    types = getattr(abi, "types", abi)
    if isinstance(types, Mapping):
        if isinstance(types.get("kind"), str):  # one declaration (a struct may be `kind`)
            return {types["name"]: types}
        return types
    out = {}
    for d in types:
        d = d.to_json() if hasattr(d, "to_json") else d
        out[d["name"]] = d
    return out


def parse_type(text: str | AbiType, abi: Any = None) -> AbiType:
    """The type tree of `text` (`"Pair[]"`, `"(u8,string)?"`); struct and enum names come
    from `abi` (an Abi, or its `types` list). ArgumentError when the text is no ABI type."""
    if isinstance(text, AbiType):
        return text
    if text in _SCALARS:
        return _SCALARS[text]
    cache = _type_cache(abi)
    if text in cache:
        return cache[text]
    ty = _Parser(text, declarations(abi), cache).parse()
    if len(cache) < 4096:
        cache[text] = ty
    return ty


#: Parsed types that name no declaration (`u64[]`, `(u8,string)?`), shared.
_PLAIN: dict[str, AbiType] = {}


def _type_cache(abi: Any) -> dict[str, AbiType]:
    """Parsed types per Abi object (an Abi is immutable), the shared plain cache without
    declarations, else a fresh cache (a list of declarations may change)."""
    if abi is None:
        return _PLAIN
    cache = getattr(abi, "_type_cache", None)
    return cache if isinstance(cache, dict) else {}
