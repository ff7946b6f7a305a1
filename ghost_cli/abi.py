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
class Abi:
    functions: tuple[Function, ...]
    version: int = 1
    constructor: Function | None = None  # `init`: runs once, in the deploy transaction

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
        if self.constructor is not None:
            out["constructor"] = self.constructor.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Abi:
        ctor = data.get("constructor")
        return cls(
            functions=tuple(Function.from_json(f) for f in data.get("functions", [])),
            version=int(data.get("version", 1)),
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


def to_jsonable(value: Any) -> Any:
    """Results for --json: addresses and bytes as 0x-hex, integers kept exact."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value
