"""Apply signed transactions to chain state: the one execution core of sandbox and node.

`submit` checks a transaction (chain id, expiry, nonce, signatures) before anything runs.
The engine then runs the contract against a read-only view of the state (its own storage,
and through `StoreWorld` every other contract, for ZVM sub-calls and CREATE) and hands
back its writes, the writes to other contracts, the contracts it created, creators' new
nonces and events; only a successful run is written, all of it inside one store
transaction together with the nonce, block and receipt. A rejection raises and leaves
every table as it was; a run that fails keeps none of its effects but still uses the
nonce and records a failed receipt with the gas it burnt (`submit`). I/O-free apart
from the store: time comes from the injected clock.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..abi import CONSTRUCTOR, Abi, decode_result, encode_call
from ..crypto.address import format_address
from ..crypto.hashing import contract_address
from ..exceptions import (
    AbiError,
    ArgumentError,
    ExecutionError,
    ExpiredError,
    GasLimitTooHighError,
    GhostError,
    NameTakenError,
    NonceError,
    NotFoundError,
    OutOfGasError,
    StorageLimitError,
    TrapError,
    WrongChainError,
    one_line,
)
from ..vm import gas
from ..vm.deploy_checks import abi_from_metadata, deploy_gas
from ..vm.engines import Engine
from ..vm.log_limit import cap_logs
from ..vm.types import CallContext, CreatedContract, Event, Outcome
from .store import ContractRecord, ReceiptRecord, StateStore

if TYPE_CHECKING:  # a query runs no transaction: transaction.py loads with the first one
    from .transaction import SignedTransaction, Transaction

MetadataReader = Callable[[bytes], "dict | None"]
#: A failed receipt keeps at most this much of its error message (a revert reason is the
#: contract's text, and receipts are kept forever).
FAILED_MESSAGE_CHARS = 1024


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    status: str = "ok"  # a looked-up receipt may be "failed": it ran, failed, used its nonce
    error: dict | None = None  # a failed one's {"code", "message"}
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


def nonce_error(tx: Transaction, expected: int) -> NonceError:
    """The refusal of a transaction whose nonce is not its sender's next, `expected`."""
    state = "was already used" if tx.nonce < expected else "is ahead of the account"
    return NonceError(f"nonce {tx.nonce} of {format_address(tx.sender)} {state} "
                      f"(next is {expected})")


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
        names_owned: bool = False,
    ) -> None:
        """`trusted_senders`: accounts whose unsigned TrustedLocalAuth transactions are
        accepted (the sandbox's development accounts). A node never passes any.
        `names_owned`: a name belongs to the account that first deployed under it (a
        node's rule, where accounts are strangers to each other); else a name follows the
        newest deploy under it, whoever sent it (the sandbox, where every account is the
        developer's)."""
        self.store = store
        self.engine = engine
        self.chain_id = chain_id
        self.read_metadata = read_metadata
        self.clock = clock
        self.default_gas_limit = default_gas_limit
        self.world = StoreWorld(store)
        self.trusted_senders = frozenset(trusted_senders)
        self.names_owned = names_owned
        # address -> (record, its parsed ABI): reused while the store hands back that very
        # record (a caching store does until the row may have changed) or one with the same
        # ABI text (a node's store reads the row afresh for every call)
        self._abis: dict[bytes, tuple[ContractRecord, Abi]] = {}

    # --- transactions ---------------------------------------------------------------

    def check_stateless(self, signed: SignedTransaction, *, verify: bool = True,
                        now: float | None = None) -> None:
        """The checks that read no state, in `check`'s order: size (a node's request
        limits, which its RPC layer applies first too), gas cap, chain, expiry (at `now`,
        default the clock) and (`verify`) the signatures. A node runs them before its
        single writer, on any thread."""
        tx = signed.tx
        tx.check_size()
        check_gas_cap(tx.gas_limit)
        if tx.chain_id != self.chain_id:
            raise WrongChainError(
                f"transaction is for chain {tx.chain_id}; this network is chain {self.chain_id}")
        now = int(self.clock() if now is None else now)
        if now > tx.expiry:
            raise ExpiredError(f"transaction expired at {tx.expiry} (now {now})")
        if verify:
            from .transaction import verify_authorization

            verify_authorization(signed, self.trusted_senders)

    def check(self, signed: SignedTransaction, *, verified: bool | GhostError = False) -> None:
        """Raise a TransactionError unless `signed` may run now. Changes nothing.
        `verified`: its signatures were already checked, off the writer: True when they
        hold, or the error they failed with, raised in the signature check's place so
        the order of the checks (and so the error a caller gets) stays the same."""
        tx = signed.tx
        self.check_stateless(signed, verify=False)
        expected = self.store.nonce(tx.sender)
        if tx.nonce != expected:
            raise nonce_error(tx, expected)
        if isinstance(verified, GhostError):
            raise verified
        if not verified:
            from .transaction import verify_authorization

            verify_authorization(signed, self.trusted_senders)
        if tx.label and self.names_owned:
            self._check_label(tx)

    def _check_label(self, tx: Transaction) -> None:
        """A name belongs to the account that first deployed under it: its later deploys
        move the name to their new contract, nobody else's do (else anyone could point
        `ghost call counter ...` at a contract of their own)."""
        current = self.store.address_of(tx.label)
        if current is None:
            return
        owner = self.store.contract(current).deployer
        if owner != tx.sender:
            raise NameTakenError(
                f"the name {tx.label!r} belongs to {format_address(owner)}, which deployed "
                f"{format_address(current)} under it; deploy under another name")

    def submit(self, signed: SignedTransaction, *,
               verified: bool | GhostError = False) -> Receipt:
        """Check, run and record a signed transaction as a new block.

        A transaction that passes `check` and then fails in execution (revert, trap, out
        of gas) is still recorded, as Ethereum does: its writes and events are dropped,
        but its nonce is used and a receipt with status "failed", its error and the gas
        it burnt is committed, all in one store transaction. The error is raised after
        that, carrying `tx_hash` in its details so the receipt can be looked up.
        `verified`: as for `check`."""
        self.check(signed, verified=verified)
        return self.run_checked(signed.tx)

    def run_checked(self, tx: Transaction) -> Receipt:
        """Run and record `tx` as `submit` does once it passed `check`: a failure in
        execution is recorded too (nonce used, failed receipt) and raised. Called alone
        only for the sandbox's impersonated calls, which no key signed."""
        try:
            if tx.kind == "deploy":
                return self._deploy(tx)
            return self._call(tx)
        except ExecutionError as exc:
            self._record_failure(tx, exc)
            raise

    def _record_failure(self, tx: Transaction, exc: ExecutionError) -> None:
        # A failed deploy names the address the contract would have had: nothing is
        # there, and since the nonce is now used, nothing ever will be.
        target = contract_address(tx.sender, tx.nonce) if tx.kind == "deploy" else tx.target
        height = self.store.height() + 1
        with self.store.transaction():
            self.store.set_nonce(tx.sender, tx.nonce + 1)
            self.store.add_block(height, int(self.clock()), tx.hash)
            self.store.put_receipt(
                ReceiptRecord(tx.hash, height, tx.kind, tx.sender, target,
                              tx.function or None, exc.gas_used, b"", (), (), "failed",
                              {"code": exc.code,
                               "message": _bounded(one_line(exc.message),
                                                   FAILED_MESSAGE_CHARS)})
            )
        exc.details["tx_hash"] = "0x" + tx.hash.hex()
        exc.details["block_height"] = height

    def _deploy(self, tx: Transaction) -> Receipt:
        """Record the code and run its constructor (if it has one) in one transaction: the
        constructor's call data is the deploy's `args`, its caller the deployer. Its
        writes and events land with the new contract, or (if it fails) none of it does."""
        code = tx.code
        # What refuses a deploy comes first, whatever its gas limit, so whether it is
        # refused (nothing recorded) never depends on the limit; all of it comes before the
        # code is compiled or cached (vm/deploy_checks.py).
        self.engine.check(code)  # no compile yet
        metadata = self.read_metadata(code)
        abi = abi_from_metadata(metadata)
        if abi.constructor is None and tx.args:
            raise ArgumentError(
                f"the contract has no constructor (`pub fn {CONSTRUCTOR}`), so its deploy takes "
                f"no arguments; got {len(tx.args)} bytes of them")
        base_gas = deploy_gas(len(code))
        if base_gas > tx.gas_limit:
            raise OutOfGasError(
                f"out of gas: deploying {len(code)} bytes costs {base_gas}, "
                f"limit {tx.gas_limit}",
                gas_used=tx.gas_limit,
            )
        self.engine.validate(code)  # compiles (and caches) only now
        address = contract_address(tx.sender, tx.nonce)
        height = self.store.height() + 1
        now = int(self.clock())
        outcome = Outcome(b"", 0)
        if abi.constructor is not None:
            outcome = self._execute(code, address, abi.constructor.name, tx.args, tx.sender,
                                    tx.gas_limit, base_gas, height, now, constructing=True)
        gas_used = base_gas + outcome.gas_used
        with self.store.transaction():
            self.store.set_nonce(tx.sender, tx.nonce + 1)
            self.store.put_contract(
                ContractRecord(address, hashlib.sha256(code).digest(), abi.to_json(),
                               metadata, tx.sender, height),
                code,
            )
            self._apply(outcome, address, height)
            if tx.label:
                self.store.set_name(tx.label, address)
            self.store.add_block(height, now, tx.hash)
            self.store.put_receipt(
                ReceiptRecord(tx.hash, height, "deploy", tx.sender, address, None, gas_used,
                              b"", outcome.logs, outcome.events)
            )
        return Receipt("deploy", address, None, None, b"", gas_used, height, tx.hash,
                       outcome.events, outcome.logs, abi, sender=tx.sender)

    def _call(self, tx: Transaction) -> Receipt:
        contract = self.store.contract(tx.target)
        abi = self._abi(contract)
        fn = abi.function(tx.function)
        height = self.store.height() + 1
        now = int(self.clock())
        outcome, gas_used = self._run(contract, tx.function, tx.args, tx.sender, tx.gas_limit,
                                      height, now)
        result = decoded_result(fn, outcome.return_data, gas_used)
        with self.store.transaction():
            self._apply(outcome, tx.target, height)
            self.store.set_nonce(tx.sender, tx.nonce + 1)
            self.store.add_block(height, now, tx.hash)
            self.store.put_receipt(
                ReceiptRecord(tx.hash, height, "call", tx.sender, tx.target, tx.function,
                              gas_used, outcome.return_data, outcome.logs, outcome.events)
            )
        return Receipt("call", tx.target, tx.function, result, outcome.return_data, gas_used,
                       height, tx.hash, outcome.events, outcome.logs, abi, sender=tx.sender)

    def _apply(self, outcome: Outcome, target: bytes, height: int) -> None:
        """Everything a run changed; the caller's store transaction makes it atomic.
        New contracts first, so their constructors' writes land on recorded contracts."""
        for created in outcome.created:
            self.store.put_contract(self._record(created, height), created.code)
        self.store.storage_apply(target, outcome.writes, height=height)
        for address, writes in outcome.other_writes.items():
            self.store.storage_apply(address, writes, height=height)
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

    def _abi(self, contract: ContractRecord) -> Abi:
        known = self._abis.get(contract.address)
        if known is not None and (known[0] is contract or known[0].abi == contract.abi):
            return known[1]
        abi = Abi.from_json(contract.abi)
        if len(self._abis) >= 256:
            self._abis.clear()
        self._abis[contract.address] = (contract, abi)
        return abi

    def abi_of(self, address: bytes) -> Abi:
        return self._abi(self.store.contract(address))

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
        abi = self._abi(contract)
        fn = abi.function(function)
        limit = self.default_gas_limit if gas_limit is None else gas_limit
        check_gas_cap(limit)
        height = self.store.height()
        outcome, gas_used = self._run(
            contract, function, calldata, sender, limit, height, int(self.clock())
        )
        result = decoded_result(fn, outcome.return_data, gas_used)
        return Receipt("query", address, function, result, outcome.return_data, gas_used,
                       height, None, outcome.events, outcome.logs, abi, sender=sender)

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
        code = self.store.code(contract.code_hash)
        outcome = self._execute(code, contract.address, function, calldata, sender, limit,
                                gas.TX_BASE, height, now)
        return outcome, gas.TX_BASE + outcome.gas_used

    def _execute(self, code: bytes, address: bytes, function: str, calldata: bytes,
                 sender: bytes, limit: int, base: int, height: int, now: int,
                 constructing: bool = False) -> Outcome:
        """Run `function` of `code` at `address` with `limit - base` gas (`base`: what the
        transaction already spent). A failure reports gas with `base` included; out of
        gas burns the whole limit."""
        ctx = CallContext(
            caller=sender, address=address, input=calldata,
            gas_limit=limit - base, block_height=height, block_time=now,
            chain_id=self.chain_id, world=self.world, constructing=constructing,
        )
        try:
            outcome = self.engine.execute(
                code, function, ctx, lambda key: self.store.storage_get(address, key)
            )
        except OutOfGasError as exc:
            exc.gas_used = limit  # the whole limit is burnt, base included
            if exc.limit is not None:  # told against the run's gas: tell the limit's
                exc.burn(limit)
            raise
        except ExecutionError as exc:
            exc.gas_used += base
            raise
        check_storage_keys(outcome, base)
        logs = cap_logs(outcome.logs)  # engines cap their own; this holds for every engine
        if logs != outcome.logs:
            outcome = replace(outcome, logs=logs)
        return outcome


def decoded_result(fn: Any, return_data: bytes, gas_used: int = 0) -> Any:
    """The function's result decoded by its ABI. Return data that does not fit it is the
    contract's failure, not the caller's: a trap, charged the gas the run used, so a
    transaction is still recorded (failed receipt, nonce used) and pays for its run."""
    try:
        return decode_result(fn, return_data)
    except AbiError as exc:
        raise TrapError(f"the contract's return data does not fit the result of "
                        f"{fn.name} in its ABI: {exc.message}", gas_used=gas_used) from None


def check_storage_keys(outcome: Outcome, base: int) -> None:
    """Fail a run that wrote more storage keys than a transaction may (gas.py says why):
    here, for every engine alike, before any of it reaches the store."""
    written = len(outcome.writes) + sum(len(w) for w in outcome.other_writes.values())
    if written > gas.MAX_TX_STORAGE_KEYS:
        raise StorageLimitError(
            f"storage limit: the call wrote {written:,} storage keys; one transaction may "
            f"write or delete at most {gas.MAX_TX_STORAGE_KEYS:,}",
            gas_used=base + outcome.gas_used, limit=gas.MAX_TX_STORAGE_KEYS)


def check_gas_cap(gas_limit: int) -> None:
    """Refuse, before anything runs, a gas limit above what one transaction may use."""
    if gas_limit > gas.MAX_TX_GAS:
        raise GasLimitTooHighError(
            f"gas limit {gas_limit} is above the per-transaction cap of {gas.MAX_TX_GAS}")
