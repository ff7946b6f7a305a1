"""What every network a command can use offers: the embedded sandbox (chain/sandbox.py)
and a node reached over the wire (client/remote.py) implement `Network`.

What only some networks can do is a named capability, never an attribute to probe:
commands call `require(net, TRACES, "...")` and get a one-line UsageError (exit 2) on a
network without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..exceptions import UsageError

if TYPE_CHECKING:
    from ..abi import Abi
    from .executor import Receipt
    from .transaction import SignedTransaction, Transaction

#: `snapshot()`: state rolled back when the block ends (test isolation).
SNAPSHOT = "snapshot"
#: `receipt()` and `events()`: recorded transactions can be looked up.
RECEIPTS = "receipts"
#: Calls run in this process, so call traces (-v) and ZVM step traces (--trace) can
#: watch them; `code()` and `engine_for()` are there.
TRACES = "traces"
#: The `.ghost` names registry (`client` speaks to it).
NAMES = "names"
#: Storage values with Merkle proofs against the state root (`client`).
PROOFS = "proofs"

CAPABILITIES = (SNAPSHOT, RECEIPTS, TRACES, NAMES, PROOFS)


@runtime_checkable
class Network(Protocol):
    name: str
    chain_id: int
    capabilities: frozenset[str]

    def close(self) -> None: ...

    def __enter__(self) -> Network: ...

    def __exit__(self, *exc: object) -> None: ...

    def resolve(self, ref: str | bytes) -> bytes: ...

    def code_hash(self, ref: str | bytes) -> bytes: ...

    def abi_of(self, address: bytes) -> Abi: ...

    def encode_args(self, address: bytes, function: str, args: Sequence[Any]) -> bytes: ...

    def parse_call_args(self, ref: str | bytes, function: str,
                        texts: list[str]) -> list[Any]: ...

    def new_transaction(self, kind: str, sender: bytes, *, gas_limit: int | None = None,
                        **fields: Any) -> Transaction: ...

    def submit(self, signed: SignedTransaction) -> Receipt: ...

    def deploy(self, code: bytes, args: Sequence[Any] = (), *, name: str | None = None,
               gas_limit: int | None = None, signer: Any = None) -> Receipt: ...

    def call(self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
             gas_limit: int | None = None, signer: Any = None) -> Receipt: ...

    def query(self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
              gas_limit: int | None = None, sender: bytes | None = None) -> Receipt: ...

    def receipt(self, tx_hash: bytes) -> Receipt: ...

    def events(self, ref: str | bytes | None = None, *, name: str | None = None,
               from_block: int | None = None, to_block: int | None = None,
               limit: int | None = None) -> list[dict[str, Any]]: ...


def require(net: Network, capability: str, why: str) -> None:
    """Refuse, with `why` as the one-line message, a network without `capability`."""
    if capability not in net.capabilities:
        raise UsageError(why)


def abi_lookup(net: Network) -> Callable[[bytes], Abi | None]:
    """address -> the deployed contract's ABI (None when unknown), cached for one use."""
    from ..exceptions import GhostError

    cache: dict[bytes, Abi | None] = {}

    def abi_of(address: bytes) -> Abi | None:
        if address not in cache:
            try:
                cache[address] = net.abi_of(address)
            except GhostError:
                cache[address] = None
        return cache[address]

    return abi_of


def with_fields(net: Network, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`events` (the JSON shape of `Network.events`) each given `fields`: decoded by the
    emitting contract's ABI, or None when it does not declare them (an unknown contract
    included). What `ghost events --json` and the test fixtures' `events()` show."""
    from ..abi import decode_event, parse_address

    abi_of = abi_lookup(net)
    for e in events:
        e["fields"] = decode_event(abi_of(parse_address(e["address"])), e["name"],
                                   [bytes.fromhex(t[2:]) for t in e["topics"]],
                                   bytes.fromhex(e["data"][2:]))
    return events
