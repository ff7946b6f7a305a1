"""The one seam generated Python clients (`ghost bindings python`) call through.

A generated class holds a `Binding`: its contract's address and where to reach it. The
same class works over

- a network: the embedded sandbox (`ghost_cli.chain.sandbox.Sandbox`) or a node client
  (`ghost_cli.client.remote.RemoteNetwork`, what `ghost call --network` uses), each with
  the contract's address and, to send transactions, a signer (the sandbox's development
  key when omitted);
- a test fixture's deployed contract (`ghost_cli.testing`: `ghost.deploy(...)` returns a
  `Contract`), whose calls keep the fixture's gas report, pranks and error locations.

Values cross the seam in the codec's form (docs/abi.md, "Python values"): structs as
dicts, enums as variant names. `to_wire` and `from_wire` convert to and from the
generated dataclasses and enums, so the codec stays the only encoder.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from ..abi import Abi, event_fields, parse_type
from ..abi.types import (
    AbiType,
    ArrayType,
    EnumType,
    OptionalType,
    SliceType,
    StructType,
    TupleType,
)


def to_wire(value: Any) -> Any:
    """A generated dataclass/enum value (or plain Python) in the codec's form."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.metadata.get("abi", f.name): to_wire(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return type(value)(to_wire(v) for v in value)
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def from_wire(ty: AbiType, value: Any, classes: dict[str, type]) -> Any:
    """A decoded value as the generated classes (`classes`: struct/enum name -> class)."""
    if value is None:
        return None
    if isinstance(ty, OptionalType):
        return from_wire(ty.inner, value, classes)
    if isinstance(ty, ArrayType | SliceType):
        return [from_wire(ty.elem, v, classes) for v in value]
    if isinstance(ty, TupleType):
        return tuple(from_wire(t, v, classes) for t, v in zip(ty.elems, value, strict=True))
    if isinstance(ty, EnumType):
        cls = classes.get(ty.name)
        return cls(value) if cls is not None else value
    if isinstance(ty, StructType):
        cls = classes.get(ty.name)
        fields = {n: from_wire(t, value[n], classes) for n, t in ty.fields}
        if cls is None:
            return fields
        py = {f.metadata.get("abi", f.name): f.name for f in dataclasses.fields(cls)}
        return cls(**{py[n]: v for n, v in fields.items()})
    return value


def _is_fixture_contract(target: Any) -> bool:
    from ..testing.env import Contract

    return isinstance(target, Contract)


class Binding:
    """Where a generated client's calls go; see the module doc for `target`."""

    def __init__(self, abi_json: dict[str, Any], classes: dict[str, type], target: Any,
                 address: bytes | str | None = None, *, signer: Any = None) -> None:
        self.abi = Abi.from_json(abi_json)
        self.classes = classes
        self.target = target
        self.signer = signer
        self.fixture = _is_fixture_contract(target)
        if self.fixture:
            self.address = target._address
        else:
            from ..chain.network import Network
            from ..exceptions import UsageError

            if not isinstance(target, Network):
                raise UsageError(f"a generated client needs a network (Sandbox, "
                                 f"RemoteNetwork) or a test fixture's Contract, got "
                                 f"{type(target).__name__}")
            if address is None:
                raise UsageError("a generated client over a network needs the contract's "
                                 "address")
            self.address = target.resolve(address)
        self.last_receipt = None  # the receipt of the last transaction sent

    def call(self, function: str, args: list[Any], *, query: bool,
             gas_limit: int | None = None) -> Any:
        """Run `function` (a transaction, or read-only with `query`); its typed result."""
        fn = self.abi.function(function)
        wire = [to_wire(a) for a in args]
        if query:
            if self.fixture:
                value = getattr(self.target, function).query(*wire, gas_limit=gas_limit)
            else:
                value = self.target.query(self.address, function, wire,
                                          gas_limit=gas_limit).result
        else:
            self.last_receipt = None  # a transaction that raises leaves no stale receipt
            if self.fixture:
                receipt = getattr(self.target, function).transact(*wire, gas_limit=gas_limit)
            else:
                receipt = self.target.call(self.address, function, wire,
                                           signer=self.signer, gas_limit=gas_limit)
            self.last_receipt = receipt
            value = receipt.result
        if fn.output is None:
            return None
        return from_wire(parse_type(fn.output, self.abi), value, self.classes)

    def events(self, receipt: Any, event_classes: dict[str, type]) -> list[Any]:
        """The events this contract emitted in `receipt`, as the generated event classes
        (an event the ABI does not declare, or whose bytes do not fit it, is skipped).
        No receipt (no transaction sent, or the last one raised): no events."""
        if receipt is None:
            return []
        out = []
        for e in receipt.events:
            cls = event_classes.get(e.name)
            spec = self.abi.event(e.name)
            if e.address != self.address or cls is None or spec is None:
                continue
            fields = event_fields(self.abi, spec, e.topics, e.data)
            if fields is None:
                continue
            py = {f.metadata.get("abi", f.name): f.name for f in dataclasses.fields(cls)}
            out.append(cls(**{py[n]: from_wire(ty, v, self.classes)
                              for n, (ty, v) in fields.items()}))
        return out


def deploy(target: Any, name: str, args: list[Any], *, code: bytes | None = None,
           signer: Any = None, gas_limit: int | None = None) -> tuple[Any, bytes | None]:
    """Deploy contract `name` with constructor `args`: through a test fixture's `ghost`
    (its built artifact) or a network (`code` needed). What to bind, and the address."""
    wire = [to_wire(a) for a in args]
    from ..testing.env import GhostEnv

    if isinstance(target, GhostEnv):
        return target.deploy(name, *wire, code=code, gas_limit=gas_limit), None
    from ..exceptions import UsageError

    if code is None:
        raise UsageError(f"deploying {name} on a network needs its code "
                         f"(build/{name}.wasm bytes): pass code=...")
    receipt = target.deploy(code, wire, name=name, signer=signer, gas_limit=gas_limit)
    return target, receipt.address
