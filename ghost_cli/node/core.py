"""NodeCore: the node's apply and read logic over ONE executor and ONE state store.

Sans-IO: every call takes `now` (the executor's clock reads it), nothing here owns a
socket or a timer. The store is one SQLite connection, so every access, read or write,
holds one lock: a query interleaved with a half-applied transaction on the same
connection would see its uncommitted writes. Writes are therefore serialized, and a
transaction is acknowledged (the call returns) only after its commit is durable: the
node's store runs WAL with synchronous=FULL.

The store is authenticated (it keeps the state tree), so every checkpoint the policy asks
for carries the state root and the receipts root; `send_transaction` checks the policy
after each commit and `tick(now)` on the service's timer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import __version__
from ..chain.checkpoint import Checkpoint, CheckpointPolicy, maybe_checkpoint
from ..chain.executor import Executor, Receipt
from ..chain.store import EventRecord, ReceiptRecord, StateStore
from ..chain.transaction import SignedTransaction
from ..exceptions import GhostError, NotFoundError
from ..vm.types import Event, Limits

STATE_FILE = "state.db"
MODULE_CACHE_DIR = "module-cache"


@dataclass(frozen=True)
class TxReceipt:
    """A recorded transaction, the same whether just applied or looked up later."""

    kind: str
    sender: bytes
    address: bytes
    function: str | None
    return_data: bytes
    gas_used: int
    block_height: int
    tx_hash: bytes
    events: tuple[Event, ...] = ()
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractView:
    address: bytes
    name: str | None
    code_hash: bytes
    abi: dict
    metadata: dict
    deployer: bytes
    height: int


@dataclass(frozen=True)
class Executed:
    """One transaction the node ran or refused, for metrics and the log (never its body)."""

    tx_hash: bytes
    sender: bytes
    kind: str
    contract: bytes | None  # the target, or the new contract of a deploy; None if unknown
    gas_used: int
    status: str  # "ok" or the error code
    seconds: float
    height: int


class CoreObserver(Protocol):
    def executed(self, e: Executed) -> None: ...


class NodeCore:
    def __init__(
        self,
        store: StateStore,
        engines: Any,
        *,
        chain_id: int,
        transports: Iterable[str] = ("http",),
        observers: Iterable[CoreObserver] = (),
        policy: CheckpointPolicy | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.policy = policy  # None: no checkpoints (the store may be unauthenticated)
        self.chain_id = chain_id
        self.transports = tuple(transports)
        self.observers = tuple(observers)
        self.timer = timer
        self._lock = threading.Lock()
        self._now = 0.0  # set under the lock before every executor call
        self.executor = Executor(store, engines, chain_id=chain_id,
                                 read_metadata=engines.read_metadata, clock=lambda: self._now)

    @classmethod
    def open(cls, data_dir: Path, *, chain_id: int, limits: Limits | None = None,
             **kwargs: Any) -> NodeCore:
        """The node's durable store and the default engines under `data_dir`."""
        from ..vm.engines import default_engines

        store = StateStore(Path(data_dir) / STATE_FILE, durable=True, authenticated=True)
        kwargs.setdefault("policy", CheckpointPolicy())
        engines = default_engines(limits or Limits(), Path(data_dir) / MODULE_CACHE_DIR)
        return cls(store, engines, chain_id=chain_id, **kwargs)

    def close(self) -> None:
        with self._lock:
            self.store.close()

    # --- writes ------------------------------------------------------------------------

    def send_transaction(self, signed: SignedTransaction, *, now: float) -> TxReceipt:
        """Check, run and record; returns once the commit is durable. Raises a GhostError
        (rejected or failed) with nothing recorded."""
        tx = signed.tx
        with self._lock:
            # Requests queue for the lock with the time they arrived; block times still
            # never go backwards.
            self._now = max(self._now, now)
            start = self.timer()
            try:
                receipt = self.executor.submit(signed)
            except GhostError as exc:
                self._report(signed, None if tx.kind == "deploy" else tx.target,
                             getattr(exc, "gas_used", 0), exc.code, start)
                raise
            self._report(signed, receipt.address, receipt.gas_used, "ok", start,
                         receipt.block_height)
            self._maybe_checkpoint(now)
        return _from_receipt(receipt, tx.sender, tx.hash)

    def tick(self, now: float) -> Checkpoint | None:
        """The service's timer: a checkpoint if `every_ms` has passed with new blocks."""
        with self._lock:
            return self._maybe_checkpoint(now)

    def _maybe_checkpoint(self, now: float) -> Checkpoint | None:
        # The transaction is already committed; a checkpoint is derived data, so a crash
        # between the two loses nothing: the next commit or tick makes it.
        return None if self.policy is None else maybe_checkpoint(self.store, self.policy, now)

    def _report(self, signed: SignedTransaction, contract: bytes | None, gas_used: int,
                status: str, start: float, height: int | None = None) -> None:
        e = Executed(signed.tx.hash, signed.tx.sender, signed.tx.kind, contract, gas_used,
                     status, self.timer() - start,
                     self.store.height() if height is None else height)
        for o in self.observers:
            o.executed(e)

    # --- reads -------------------------------------------------------------------------

    def query(self, address: bytes, function: str, calldata: bytes, *, sender: bytes,
              now: float, gas_limit: int | None = None) -> Receipt:
        with self._lock:
            self._now = max(self._now, now)
            return self.executor.query_calldata(address, function, calldata, sender=sender,
                                                gas_limit=gas_limit)

    def receipt(self, tx_hash: bytes) -> TxReceipt:
        with self._lock:
            rec = self.store.receipt(tx_hash)
        return _from_record(rec)

    def events(self, **filters: Any) -> list[EventRecord]:
        with self._lock:
            return self.store.events(**filters)

    def contract(self, *, address: bytes | None = None, name: str | None = None) -> ContractView:
        with self._lock:
            if address is None:
                address = self.store.address_of(name or "")
                if address is None:
                    raise NotFoundError(f"no contract named {name!r} on this node")
            rec = self.store.contract(address)
            names = sorted(n for n, a in self.store.names().items() if a == address)
        return ContractView(rec.address, names[0] if names else None, rec.code_hash, rec.abi,
                            rec.metadata, rec.deployer, rec.height)

    def nonce(self, address: bytes) -> int:
        with self._lock:
            return self.store.nonce(address)

    def height(self) -> int:
        with self._lock:
            return self.store.height()

    def state_keys(self) -> int:
        """Storage slots across all contracts: the state size a metric reports."""
        with self._lock:
            return self.store.counts()["storage"]

    def checkpoint(self, height: int | None = None) -> dict[str, Any]:
        """The latest checkpoint, or the one at `height` (NotFoundError when none)."""
        with self._lock:
            return self.store.checkpoint(height).to_json()

    def proof(self, address: bytes, key: bytes) -> dict[str, Any]:
        """The value at (address, key) and its proof against the current state root.
        `checkpoint_height` names the latest checkpoint when it carries that same root
        (nothing changed since), else null: the proof is then against a root no
        checkpoint has published yet."""
        with self._lock:
            root = self.store.state_root()
            proof = self.store.prove(address, key)
            value = self.store.storage_get(address, key)
            height = self.store.height()
            try:
                cp = self.store.checkpoint()
            except NotFoundError:
                cp = None
        return {"value": None if value is None else "0x" + value.hex(),
                "proof": proof.to_json(), "state_root": "0x" + root.hex(), "height": height,
                "checkpoint_height": cp.height if cp and cp.state_root == root else None}

    def state_root(self) -> bytes | None:
        """The current state root; None when the store keeps no state tree."""
        with self._lock:
            return self.store.state_root() if self.store.tree is not None else None

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chain_id": self.chain_id, "version": __version__,
                               "height": self.height(), "transports": list(self.transports)}
        root = self.state_root()
        if root is not None:
            out["state_root"] = "0x" + root.hex()
        return out

    def health(self) -> dict[str, Any]:
        return {"ok": True, "height": self.height()}


def _from_receipt(r: Receipt, sender: bytes, tx_hash: bytes) -> TxReceipt:
    return TxReceipt(r.kind, sender, r.address, r.function, r.return_data, r.gas_used,
                     r.block_height, tx_hash, r.events, r.logs)


def _from_record(r: ReceiptRecord) -> TxReceipt:
    return TxReceipt(r.kind, r.sender, r.target, r.function, r.return_data, r.gas_used,
                     r.height, r.tx_hash, r.events, r.logs)
