"""The contract ABI: types, the call-data codec, and parsing of command-line arguments.

The byte encoding matches the Zig SDK (templates/sdk/ghost.zig) exactly:
integers little-endian at their declared width, bool one byte, address 20 bytes,
bytes and string a u32 little-endian length followed by the data. Call data is the
arguments concatenated; return data is the single result encoded the same way.

A contract's `pub fn init` is its constructor: it runs once, inside the deploy
transaction, with the deployer as caller. The ABI keeps it apart from the callable
functions (`Abi.constructor`), so nothing can select it afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .exceptions import ArgumentError, CryptoError

ADDRESS_LEN = 20
INT_WIDTHS = (8, 16, 32, 64, 128, 256)
INT_TYPES = {f"{s}{w}" for s in "ui" for w in INT_WIDTHS}
TYPES = INT_TYPES | {"bool", "bytes", "string", "address"}
#: The name of a contract's constructor function.
CONSTRUCTOR = "init"


@dataclass(frozen=True)
class Param:
    name: str
    type: str


@dataclass(frozen=True)
class Function:
    name: str
    inputs: tuple[Param, ...]
    output: str | None  # None: returns nothing
    can_fail: bool = False  # declared `!T`: a Zig error becomes a revert naming it
    doc: str = ""

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(p.type for p in self.inputs)})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "inputs": [{"name": p.name, "type": p.type} for p in self.inputs],
            "output": self.output,
        }
        if self.can_fail:
            out["can_fail"] = True
        if self.doc:
            out["doc"] = self.doc
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Function:
        return cls(
            name=data["name"],
            inputs=tuple(Param(p["name"], p["type"]) for p in data.get("inputs", [])),
            output=data.get("output"),
            can_fail=bool(data.get("can_fail", False)),
            doc=data.get("doc", ""),
        )


@dataclass(frozen=True)
class EventField:
    name: str
    type: str
    indexed: bool = False  # carried in a topic (after the name) rather than in the data


@dataclass(frozen=True)
class EventSpec:
    """An event a contract emits: topic 0 is its name; indexed fields fill topics 1..3 in
    order, the others are the data, encoded as call data is. No fields: only the name is
    known, and its topics and data print raw."""

    name: str
    fields: tuple[EventField, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "fields": [
            {"name": f.name, "type": f.type, **({"indexed": True} if f.indexed else {})}
            for f in self.fields]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventSpec:
        return cls(data["name"], tuple(
            EventField(f["name"], f["type"], bool(f.get("indexed", False)))
            for f in data.get("fields", [])))


@dataclass(frozen=True)
class Abi:
    functions: tuple[Function, ...]
    version: int = 1
    constructor: Function | None = None  # `init`: runs once, in the deploy transaction
    events: tuple[EventSpec, ...] = ()

    def event(self, name: str) -> EventSpec | None:
        return next((e for e in self.events if e.name == name), None)

    def function(self, name: str) -> Function:
        """A callable function. The constructor is not one: it already ran at deploy."""
        for f in self.functions:
            if f.name == name:
                return f
        from .exceptions import NotFoundError

        if self.constructor is not None and name == self.constructor.name:
            raise NotFoundError(
                f"{name!r} is the contract's constructor: it ran once, in the deploy "
                "transaction, and cannot be called again", function=name)
        known = ", ".join(f.name for f in self.functions) or "none"
        raise NotFoundError(f"no function {name!r} in the contract (functions: {known})")

    def entry(self, name: str) -> Function:
        """A function or the constructor: what an engine may be asked to run."""
        if self.constructor is not None and name == self.constructor.name:
            return self.constructor
        return self.function(name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version,
                               "functions": [f.to_json() for f in self.functions]}
        if self.events:  # absent rather than empty: ABIs without events keep their bytes
            out["events"] = [e.to_json() for e in self.events]
        if self.constructor is not None:
            out["constructor"] = self.constructor.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Abi:
        ctor = data.get("constructor")
        return cls(
            functions=tuple(Function.from_json(f) for f in data.get("functions", [])),
            version=int(data.get("version", 1)),
            events=tuple(EventSpec.from_json(e) for e in data.get("events", [])),
            constructor=None if ctor is None else Function.from_json(ctor),
        )


def _int_bounds(ty: str) -> tuple[int, int, int]:
    width = int(ty[1:])
    if ty[0] == "u":
        return 0, (1 << width) - 1, width // 8
    return -(1 << (width - 1)), (1 << (width - 1)) - 1, width // 8


def encode_value(ty: str, value: Any) -> bytes:
    if ty in INT_TYPES:
        lo, hi, size = _int_bounds(ty)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentError(f"expected an integer for {ty}, got {value!r}")
        if not lo <= value <= hi:
            raise ArgumentError(f"{value} does not fit in {ty} ({lo}..{hi})")
        return value.to_bytes(size, "little", signed=ty[0] == "i")
    if ty == "bool":
        if not isinstance(value, bool):
            raise ArgumentError(f"expected true or false for bool, got {value!r}")
        return b"\x01" if value else b"\x00"
    if ty == "address":
        raw = value if isinstance(value, bytes | bytearray) else parse_address(str(value))
        if len(raw) != ADDRESS_LEN:
            raise ArgumentError(f"an address is {ADDRESS_LEN} bytes, got {len(raw)}")
        return bytes(raw)
    if ty == "string":
        if not isinstance(value, str):
            raise ArgumentError(f"expected a string, got {value!r}")
        value = value.encode()
    elif ty == "bytes":
        if not isinstance(value, bytes | bytearray):
            raise ArgumentError(f"expected bytes, got {value!r}")
    else:
        raise ArgumentError(f"unknown ABI type {ty!r}")
    return len(value).to_bytes(4, "little") + bytes(value)


def decode_value(ty: str, data: bytes, pos: int = 0) -> tuple[Any, int]:
    """Decode one value at `pos`; return it and the position after it."""

    def take(n: int) -> bytes:
        if pos + n > len(data):
            raise ArgumentError(f"data too short for {ty}: need {pos + n} bytes, have {len(data)}")
        return data[pos : pos + n]

    if ty in INT_TYPES:
        _, _, size = _int_bounds(ty)
        return int.from_bytes(take(size), "little", signed=ty[0] == "i"), pos + size
    if ty == "bool":
        return take(1) != b"\x00", pos + 1
    if ty == "address":
        return take(ADDRESS_LEN), pos + ADDRESS_LEN
    if ty in ("bytes", "string"):
        n = int.from_bytes(take(4), "little")
        pos += 4
        raw = take(n)
        if ty == "string":
            return raw.decode(errors="replace"), pos + n
        return raw, pos + n
    raise ArgumentError(f"unknown ABI type {ty!r}")


def encode_call(fn: Function, args: list[Any] | tuple[Any, ...]) -> bytes:
    """Encode typed Python values as call data for `fn`, checking count and types first."""
    if len(args) != len(fn.inputs):
        raise ArgumentError(
            f"{fn.name} takes {len(fn.inputs)} argument(s) ({_describe(fn)}), got {len(args)}"
        )
    return b"".join(encode_value(p.type, a) for p, a in zip(fn.inputs, args, strict=True))


def decode_result(fn: Function, data: bytes) -> Any:
    if fn.output is None:
        return None
    value, end = decode_value(fn.output, data)
    if end != len(data):
        raise ArgumentError(f"{fn.name} returned {len(data) - end} unexpected trailing byte(s)")
    return value


def _describe(fn: Function) -> str:
    return ", ".join(f"{p.name}: {p.type}" for p in fn.inputs) or "none"


_HEX = re.compile(r"^(0x)?([0-9a-fA-F]{2})*$")


def parse_address(text: str) -> bytes:
    """An address argument: 0x + 40 hex digits, in one case or with a correct checksum."""
    from .crypto import address  # keccak (pycryptodome) stays out of `ghost --help`

    try:
        return address.parse_address(text)
    except CryptoError as exc:  # a bad argument, as the CLI reports it (exit 2)
        raise ArgumentError(exc.message) from exc


def format_address(raw: bytes) -> str:
    """0x + 40 hex digits, the checksum in their letter case."""
    from .crypto import address

    return address.format_address(raw)


def parse_arg(ty: str, text: str) -> Any:
    """Parse one command-line argument as the ABI type `ty` declares."""
    if ty in INT_TYPES:
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            raise ArgumentError(f"expected an integer ({ty}), got {text!r}") from None
    if ty == "bool":
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ArgumentError(f"expected true or false, got {text!r}")
    if ty == "address":
        return parse_address(text)
    if ty == "bytes":
        t = text[2:] if text.lower().startswith("0x") else text
        if not _HEX.match(t):
            raise ArgumentError(f"expected hex bytes (0x...), got {text!r}")
        return bytes.fromhex(t)
    if ty == "string":
        return text
    raise ArgumentError(f"unknown ABI type {ty!r}")


def parse_args(fn: Function, texts: list[str]) -> list[Any]:
    if len(texts) != len(fn.inputs):
        raise ArgumentError(
            f"{fn.name} takes {len(fn.inputs)} argument(s) ({_describe(fn)}), got {len(texts)}"
        )
    return [parse_arg(p.type, t) for p, t in zip(fn.inputs, texts, strict=True)]


def _topic_value(ty: str, topic: bytes) -> Any:
    """An indexed field from its topic: left-aligned, zero-padded, integers little-endian
    (the SDK's `ghost.topic`). Byte strings lose their zero padding."""
    if ty in INT_TYPES:
        _, _, size = _int_bounds(ty)
        return int.from_bytes(topic[:size], "little", signed=ty[0] == "i")
    if ty == "bool":
        return topic[0] != 0
    if ty == "address":
        return topic[:ADDRESS_LEN]
    raw = topic.rstrip(b"\0")
    return raw.decode(errors="replace") if ty == "string" else raw


def raw_value(data: bytes) -> str:
    """Bytes of unknown type: printable ASCII as text, anything else as 0x-hex."""
    if data and all(32 <= b < 127 for b in data):
        return data.decode()
    return "0x" + data.hex()


def decode_event(abi: Abi | None, name: str, topics: tuple[bytes, ...] | list[bytes],
                 data: bytes) -> dict[str, Any] | None:
    """The event's fields by the ABI ({field: value}; addresses in checksum case, other
    values as `to_jsonable` gives them),
    or None when the ABI does not declare its fields or the bytes do not fit them."""
    spec = abi.event(name) if abi is not None else None
    if spec is None or not spec.fields:
        return None
    out: dict[str, Any] = {}
    later = list(topics[1:])
    pos = 0
    try:
        for f in spec.fields:
            if f.indexed:
                if not later:
                    return None
                value = _topic_value(f.type, later.pop(0))
            else:
                value, pos = decode_value(f.type, data, pos)
            out[f.name] = format_address(value) if f.type == "address" else to_jsonable(value)
    except ArgumentError:
        return None
    return out if pos == len(data) and not later else None


def format_fields(fields: dict[str, Any]) -> str:
    """`name=value` pairs for the terminal (strings quoted)."""
    return " ".join(f"{k}={v!r}" if isinstance(v, str) and not v.startswith("0x") else f"{k}={v}"
                    for k, v in fields.items())


def to_jsonable(value: Any) -> Any:
    """Results for --json: addresses and bytes as 0x-hex, integers kept exact."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value
