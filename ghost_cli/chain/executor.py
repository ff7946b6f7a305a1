"""Apply signed transactions to chain state: the one execution core of sandbox and node.

`submit` checks a transaction (chain id, expiry, nonce, signatures) before anything runs.
The engine then runs the contract against a read-only view of the state (its own storage,
and through `StoreWorld` every other contract, for ZVM sub-calls and CREATE) and hands
back its writes, the writes to other contracts, the contracts it created, creators' new
nonces and events; only a successful run is written, all of it inside one store
transaction together with the nonce, block and receipt. A rejection or failure raises
and leaves every table as it was. I/O-free apart from the store: time comes from the
injected clock.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..abi import Abi, decode_result, encode_call
from ..exceptions import (
    ExecutionError,
    ExpiredError,
    InvalidModuleError,
    NonceError,
    NotFoundError,
    OutOfGasError,
    WrongChainError,
)
from ..vm import gas
from ..vm.engines import Engine
from ..vm.types import CallContext, CreatedContract, Event, Outcome
from .hashing import contract_address
from .store import ContractRecord, ReceiptRecord, StateStore
from .transaction import SignedTransaction, Transaction, verify_authorization

MetadataReader = Callable[[bytes], "dict | None"]


@dataclass(frozen=True)
class Receipt:
    """What a deploy, call or query did."""

    kind: str  # "deploy" | "call" | "query"
    address: bytes  # the contract
    function: str | None
    result: Any  # the decoded return value (None for deploy or void)
    return_data: bytes
    gas_used: int
    block_height: int
    tx_hash: bytes | None = None  # None for a query: nothing was recorded
    events: tuple[Event, ...] = ()
    logs: tuple[str, ...] = ()
    abi: Abi | None = field(default=None, compare=False)
    sender: bytes | None = None  # who signed it (a query: who it ran as)

    def decoded_events(self) -> list[dict[str, Any]]:
        """The events as JSON, each with its `fields` decoded by this contract's ABI (None
        for an event the ABI does not declare, or one another contract emitted)."""
        from ..vm.trace import event_json

        return [event_json(e, self.abi if e.address == self.address else None)
                for e in self.events]


@dataclass(frozen=True)
class StoreWorld:
    """The engines' read-only view of committed state (vm.types.World) over the store."""

    store: StateStore

    def code(self, address: bytes) -> bytes | None:
        try:
            record = self.store.contract(address)
        except NotFoundError:
            return None
        return self.store.code(record.code_hash)

    def storage(self, address: bytes, key: bytes) -> bytes | None:
        return self.store.storage_get(address, key)

    def nonce(self, address: bytes) -> int:
        return self.store.nonce(address)


class Executor:
    def __init__(
        self,
        store: StateStore,
        engine: Engine,
        *,
        chain_id: int,
        read_metadata: MetadataReader,
        clock: Callable[[], float] = time.time,
        default_gas_limit: int = gas.DEFAULT_GAS_LIMIT,
        trusted_senders: frozenset[bytes] = frozenset(),
    ) -> None:
        """`trusted_senders`: accounts whose unsigned TrustedLocalAuth transactions are
        accepted (the sandbox's development accounts). A node never passes any."""
        self.store = store
        self.engine = engine
        self.chain_id = chain_id
        self.read_metadata = read_metadata
        self.clock = clock
        self.default_gas_limit = default_gas_limit
        self.world = StoreWorld(store)
        self.trusted_senders = frozenset(trusted_senders)

    # --- transactions ---------------------------------------------------------------

    def check(self, signed: SignedTransaction) -> None:
        """Raise a TransactionError unless `signed` may run now. Changes nothing."""
        tx = signed.tx
        if tx.chain_id != self.chain_id:
            raise WrongChainError(
                f"transaction is for chain {tx.chain_id}; this network is chain {self.chain_id}")
        now = int(self.clock())
        if now > tx.expiry:
            raise ExpiredError(f"transaction expired at {tx.expiry} (now {now})")
        expected = self.store.nonce(tx.sender)
        if tx.nonce < expected:
            raise NonceError(
                f"nonce {tx.nonce} of 0x{tx.sender.hex()} was already used (next is {expected})")
        if tx.nonce > expected:
            raise NonceError(
                f"nonce {tx.nonce} of 0x{tx.sender.hex()} is ahead of the account "
                f"(next is {expected})")
        verify_authorization(signed, self.trusted_senders)

    def submit(self, signed: SignedTransaction) -> Receipt:
        """Check, run and (if it succeeds) record a signed transaction as a new block."""
        self.check(signed)
        tx = signed.tx
        if tx.kind == "deploy":
            return self._deploy(tx)
        return self._call(tx)

    def _deploy(self, tx: Transaction) -> Receipt:
        code = tx.code
        self.engine.validate(code)
        metadata = self.read_metadata(code)
        if metadata is None or "abi" not in metadata:
            raise InvalidModuleError(
                "module has no ghost metadata with an ABI; build it with `ghost build`"
            )
        abi = Abi.from_json(metadata["abi"])
        gas_used = gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(code)
        if gas_used > tx.gas_limit:
            raise OutOfGasError(
                f"out of gas: deploying {len(code)} bytes costs {gas_used}, limit {tx.gas_limit}",
                gas_used=tx.gas_limit,
            )
        address = contract_address(tx.sender, tx.nonce)
        height = self.store.height() + 1
        with self.store.transaction():
            self.store.set_nonce(tx.sender, tx.nonce + 1)
            self.store.put_contract(
                ContractRecord(address, hashlib.sha256(code).digest(), abi.to_json(),
                               metadata, tx.sender, height),
                code,
            )
            if tx.label:
                self.store.set_name(tx.label, address)
            self.store.add_block(height, int(self.clock()), tx.hash)
            self.store.put_receipt(
                ReceiptRecord(tx.hash, height, "deploy", tx.sender, address, None, gas_used,
                              b"", (), ())
            )
        return Receipt("deploy", address, None, None, b"", gas_used, height, tx.hash, abi=abi,
                       sender=tx.sender)

    def _call(self, tx: Transaction) -> Receipt:
        contract = self.store.contract(tx.target)
        abi = Abi.from_json(contract.abi)
        fn = abi.function(tx.function)
        height = self.store.height() + 1
        now = int(self.clock())
        outcome, gas_used = self._run(contract, tx.function, tx.args, tx.sender, tx.gas_limit,
                                      height, now)
        result = decode_result(fn, outcome.return_data)
        with self.store.transaction():
            self._apply(outcome, tx.target, height)
            self.store.set_nonce(tx.sender, tx.nonce + 1)
            self.store.add_block(height, now, tx.hash)
            self.store.put_receipt(
                ReceiptRecord(tx.hash, height, "call", tx.sender, tx.target, tx.function,
                              gas_used, outcome.return_data, outcome.logs, outcome.events)
            )
        return Receipt("call", tx.target, tx.function, result, outcome.return_data, gas_used,
                       height, tx.hash, outcome.events, outcome.logs, abi, tx.sender)

    def _apply(self, outcome: Outcome, target: bytes, height: int) -> None:
        """Everything a run changed; the caller's store transaction makes it atomic.
        New contracts first, so their constructors' writes land on recorded contracts."""
        for created in outcome.created:
            self.store.put_contract(self._record(created, height), created.code)
        self.store.storage_apply(target, outcome.writes)
        for address, writes in outcome.other_writes.items():
            self.store.storage_apply(address, writes)
        for address, nonce in outcome.nonces.items():
            self.store.set_nonce(address, nonce)

    @staticmethod
    def _record(created: CreatedContract, height: int) -> ContractRecord:
        # A created contract's ABI is the one in its container's metadata; raw code
        # deployed by CREATE has none: no functions (other contracts can still call it).
        abi = Abi.from_json(created.metadata.get("abi") or {"version": 1, "functions": []})
        return ContractRecord(created.address, hashlib.sha256(created.code).digest(),
                              abi.to_json(), created.metadata, created.deployer, height)

    # --- reads ------------------------------------------------------------------------

    def abi_of(self, address: bytes) -> Abi:
        return Abi.from_json(self.store.contract(address).abi)

    def encode_args(self, address: bytes, function: str, args: Sequence[Any]) -> bytes:
        """Typed values -> call data, checked against the deployed ABI before anything runs."""
        return encode_call(self.abi_of(address).function(function), list(args))

    def query(
        self,
        address: bytes,
        function: str,
        args: Sequence[Any] = (),
        *,
        sender: bytes,
        gas_limit: int | None = None,
    ) -> Receipt:
        """Run `function` against current state and throw its effects away. Unsigned."""
        fn = self.abi_of(address).function(function)
        return self.query_calldata(address, function, encode_call(fn, list(args)),
                                   sender=sender, gas_limit=gas_limit)

    def query_calldata(
        self,
        address: bytes,
        function: str,
        calldata: bytes,
        *,
        sender: bytes,
        gas_limit: int | None = None,
    ) -> Receipt:
        """`query` with call data already ABI-encoded, as a node receives it over JSON-RPC."""
        contract = self.store.contract(address)
        abi = Abi.from_json(contract.abi)
        fn = abi.function(function)
        limit = self.default_gas_limit if gas_limit is None else gas_limit
        height = self.store.height()
        outcome, gas_used = self._run(
            contract, function, calldata, sender, limit, height, int(self.clock())
        )
        return Receipt("query", address, function, decode_result(fn, outcome.return_data),
                       outcome.return_data, gas_used, height, None, outcome.events,
                       outcome.logs, abi, sender)

    def _run(
        self,
        contract: ContractRecord,
        function: str,
        calldata: bytes,
        sender: bytes,
        limit: int,
        height: int,
        now: int,
    ) -> tuple[Outcome, int]:
        if limit < gas.TX_BASE:
            raise OutOfGasError(
                f"out of gas: limit {limit} is below the transaction base cost {gas.TX_BASE}",
                gas_used=limit,
            )
        ctx = CallContext(
            caller=sender, address=contract.address, input=calldata,
            gas_limit=limit - gas.TX_BASE, block_height=height, block_time=now,
            chain_id=self.chain_id, world=self.world,
        )
        code = self.store.code(contract.code_hash)
        try:
            outcome = self.engine.execute(
                code, function, ctx, lambda key: self.store.storage_get(contract.address, key)
            )
        except OutOfGasError as exc:
            exc.gas_used = limit  # the whole limit is burnt, base included
            raise
        except ExecutionError as exc:
            exc.gas_used += gas.TX_BASE
            raise
        return outcome, gas.TX_BASE + outcome.gas_used
