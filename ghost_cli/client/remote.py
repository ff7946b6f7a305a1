"""RemoteNetwork: a `ghost node` behind the Sandbox's surface.

Commands hold a network object and never ask which kind it is: `resolve`,
`parse_call_args`, `encode_args`, `abi_of`, `new_transaction`, `submit`, `deploy`, `call`
and `query` behave as the Sandbox's do and return the same `Receipt`. The differences are
the ones a real network has: a transaction needs a real key (no development keys), the
nonce comes from the node, and the chain id in ghost.toml must be the node's.

Results come back as JSON; return data is decoded here with the contract's ABI, fetched
once per contract with ghost_getContract.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..abi import Abi, decode_result, encode_call, parse_address, parse_args
from ..chain.executor import Receipt, check_gas_cap
from ..chain.network import NAMES, PROOFS, RECEIPTS
from ..chain.transaction import SignedTransaction, Transaction, sign_single, to_json
from ..config.defaults import check_transport
from ..config.project import NetworkConfig
from ..exceptions import AnswerLostError, ConfigError, UsageError
from ..vm.types import Event
from .answers import malformed_as
from .rpc_client import SyncGhostClient
from .transport import transport_name

#: A transaction built here is valid for this long (as in the sandbox).
DEFAULT_TTL_SECONDS = 3600


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


#: A method that reads fields of the node's answers: a malformed one is an answer we could
#: not read (AnswerLostError: a transaction may have been applied), never a crash.
_from_node = malformed_as(AnswerLostError, lambda self: self.client.url)


def node_url(config: NetworkConfig, transport: str | None) -> tuple[str, str]:
    """(url, transport) for a node network: `url` is quic:// (HTTP/3) or http:// (HTTP/1.1);
    `http_url` is the HTTP/1.1 endpoint `--transport http` uses beside a quic:// url."""
    url = config.url or ""
    native = transport_name(url)
    transport = transport or native
    check_transport(transport)
    if transport == native:
        return url, transport
    if transport == "http" and config.http_url:
        return config.http_url, transport
    raise UsageError(
        f"network {config.name!r} has no {transport} endpoint (url is {url}"
        + (f", http_url {config.http_url}" if config.http_url else "")
        + "): `ghost network add` sets --url quic://... and --http-url http://...")


class RemoteNetwork:
    """A `ghost node` as a Network (chain/network.py): the same surface as the sandbox,
    over the node's JSON-RPC."""

    capabilities = frozenset({RECEIPTS, NAMES, PROOFS})

    def __init__(self, config: NetworkConfig, *, transport: str | None = None,
                 clock: Callable[[], float] = time.time,
                 client: SyncGhostClient | None = None) -> None:
        self.config = config
        self.name = config.name
        self.chain_id = config.chain_id
        self.clock = clock
        if client is None:
            url, kind = node_url(config, transport)
            client = SyncGhostClient(url, ca=config.ca, transport=kind)
        self.client = client
        self._chain_checked = False
        self._abis: dict[bytes, Abi] = {}
        self._names: dict[str, bytes] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RemoteNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- contracts ------------------------------------------------------------------

    @_from_node
    def resolve(self, ref: str | bytes) -> bytes:
        """A contract by its registered name or its address (which must hold a contract).
        `NAME.ghost` is looked up in the names registry over DNS-over-QUIC (docs/names.md)."""
        if isinstance(ref, bytes):
            return ref
        if ref in self._names:
            return self._names[ref]
        from ..names import is_ghost_name

        if is_ghost_name(ref):
            address = self.client.resolve_name(ref).target
            self._names[ref] = address
            return address
        if ref.lower().startswith("0x"):
            info = self.client.get_contract(address=parse_address(ref))
        else:
            info = self.client.get_contract(name=ref)
        address = _bytes(info["address"])
        self._abis[address] = Abi.from_json(info["abi"])
        self._names[ref] = address
        return address

    @_from_node
    def code_hash(self, ref: str | bytes) -> bytes:
        """sha256 of the deployed code, as the node recorded it."""
        return _bytes(self.client.get_contract(address=self.resolve(ref))["code_hash"])

    @_from_node
    def abi_of(self, address: bytes) -> Abi:
        if address not in self._abis:
            info = self.client.get_contract(address=address)
            self._abis[address] = Abi.from_json(info["abi"])
        return self._abis[address]

    def encode_args(self, address: bytes, function: str, args: Sequence[Any]) -> bytes:
        """Typed values -> call data, checked against the deployed ABI before anything is sent."""
        return encode_call(self.abi_of(address).function(function), list(args))

    def parse_call_args(self, ref: str | bytes, function: str, texts: list[str]) -> list[Any]:
        if function.startswith("-"):
            raise UsageError(f"expected a function name, got option {function!r}")
        return parse_args(self.abi_of(self.resolve(ref)).function(function), texts)

    # --- transactions ---------------------------------------------------------------

    @_from_node
    def check_chain(self) -> None:
        """Refuse to sign for a chain id the node does not run (once per network object)."""
        if self._chain_checked:
            return
        node_chain = self.client.node_info()["chain_id"]
        if node_chain != self.chain_id:
            raise ConfigError(
                f"network {self.name!r} is chain {self.chain_id} in ghost.toml, but the node "
                f"at {self.client.url} runs chain {node_chain}")
        self._chain_checked = True

    @_from_node
    def new_transaction(self, kind: str, sender: bytes, *, gas_limit: int | None = None,
                        **fields: Any) -> Transaction:
        """An unsigned transaction from `sender` with its next nonce on the node."""
        self.check_chain()
        nonce = self.client.get_account(sender)["nonce"]
        return Transaction(
            chain_id=self.chain_id, sender=sender, nonce=nonce, kind=kind,
            gas_limit=self.config.gas_limit if gas_limit is None else gas_limit,
            expiry=int(self.clock()) + DEFAULT_TTL_SECONDS, **fields,
        )

    def submit(self, signed: SignedTransaction) -> Receipt:
        return self.receipt_from_json(self.client.send_transaction(to_json(signed)))

    def _signer(self, signer):
        if signer is None:
            raise UsageError(f"network {self.name!r} needs --key: a node has no development "
                             "keys (`ghost keys new NAME` makes one)")
        return signer

    def deploy(self, code: bytes, args: Sequence[Any] = (), *, name: str | None = None,
               signer=None, gas_limit: int | None = None) -> Receipt:
        """`args` (typed values) go to the constructor, which the node runs in the deploy."""
        from ..chain.constructor import encode_constructor_args

        signer = self._signer(signer)
        tx = self.new_transaction("deploy", signer.address, gas_limit=gas_limit, code=code,
                                  label=name or "", args=encode_constructor_args(code, args))
        return self.submit(sign_single(tx, signer.secret_key, signer.public_key))

    def call(self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
             signer=None, gas_limit: int | None = None) -> Receipt:
        signer = self._signer(signer)
        address = self.resolve(ref)
        calldata = self.encode_args(address, function, args)
        tx = self.new_transaction("call", signer.address, gas_limit=gas_limit, target=address,
                                  function=function, args=calldata)
        return self.submit(sign_single(tx, signer.secret_key, signer.public_key))

    @_from_node
    def query(self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
              sender: bytes | None = None, gas_limit: int | None = None) -> Receipt:
        """Run `function` read-only on the node. Without `gas_limit` the node's own query
        limit applies; one above the per-transaction cap is refused here, as the sandbox
        refuses it, and one above the node's query cap by the node (never lowered)."""
        if gas_limit is not None:
            check_gas_cap(gas_limit)
        address = self.resolve(ref)
        fn = self.abi_of(address).function(function)
        doc = self.client.query(address, function, encode_call(fn, list(args)), sender,
                                gas_limit)
        return_data = _bytes(doc["return_data"])
        return Receipt("query", address, function, decode_result(fn, return_data), return_data,
                       doc["gas_used"], doc["block_height"], None, _events(doc["events"]),
                       tuple(doc["logs"]), self.abi_of(address))

    # --- lookups --------------------------------------------------------------------

    def receipt(self, tx_hash: bytes) -> Receipt:
        return self.receipt_from_json(self.client.get_receipt(tx_hash))

    def events(self, ref: str | bytes | None = None, *, name: str | None = None,
               from_block: int | None = None, to_block: int | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
        address = None if ref is None else self.resolve(ref)
        return self.client.get_events(address=address, name=name, from_block=from_block,
                                      to_block=to_block, limit=limit)

    @_from_node
    def receipt_from_json(self, doc: dict[str, Any]) -> Receipt:
        """The node's receipt JSON as the Sandbox's Receipt, the result decoded by the ABI."""
        address = _bytes(doc["address"])
        function = doc.get("function")
        return_data = _bytes(doc["return_data"])
        status = doc.get("status", "ok")
        # A failed transaction returned nothing to decode; a failed deploy left no contract.
        abi = self.abi_of(address) if status == "ok" else None
        result = None if not function or abi is None else decode_result(
            abi.function(function), return_data)
        return Receipt(doc.get("kind", "call" if function else "deploy"), address, function,
                       result, return_data, doc["gas_used"], doc["block_height"],
                       _bytes(doc["tx_hash"]), _events(doc["events"]), tuple(doc["logs"]), abi,
                       status, doc.get("error"),
                       sender=_bytes(doc["sender"]) if doc.get("sender") else None)


def _events(docs: list[dict[str, Any]]) -> tuple[Event, ...]:
    return tuple(Event(_bytes(e["address"]), tuple(_bytes(t) for t in e["topics"]),
                       _bytes(e["data"])) for e in docs)
