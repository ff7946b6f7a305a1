"""NodeCore: the node's apply and read logic over ONE executor and ONE state store.

Sans-IO: every call takes `now` (the executor's clock reads it), nothing here owns a
socket or a timer. Writes go through the one executor over the one store, one at a time
under a lock, and a transaction is acknowledged (the call returns) only after its commit
is durable: the node's store runs WAL with synchronous=FULL.

Reads do not wait for writes. Each reading thread has its own read connection to the
same file (WAL lets readers and the writer run at once) and reads inside one SQLite
transaction, so a read sees one commit's state, never a half-applied transaction and
never a mix of two. (Reading on the writer's connection would see its uncommitted
writes.) An in-memory store has only one connection; then reads take the lock too.

The store is authenticated (it keeps the state tree), so every checkpoint the policy asks
for carries the state root and the receipts root; `send_transaction` checks the policy
after each commit and `tick(now)` on the service's timer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import __version__
from ..chain.checkpoint import Checkpoint, CheckpointPolicy, maybe_checkpoint
from ..chain.executor import Executor, Receipt
from ..chain.store import EventRecord, ReceiptRecord, StateStore
from ..chain.transaction import SignedTransaction
from ..exceptions import GhostError, NotFoundError, RevertError, StateError
from ..names import NameRecord
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
    status: str = "ok"  # "failed": it ran and failed; only its nonce and gas were kept
    error: dict | None = None  # a failed one's {"code", "message"}


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
class Block:
    """A block: ghost commits one transaction per block."""

    height: int
    time: int  # Unix seconds
    tx_hash: bytes


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


class _View:
    """A store and an executor over it: the writer's, or one reading thread's."""

    __slots__ = ("store", "executor", "now")

    def __init__(self, store: StateStore, engines: Any, chain_id: int) -> None:
        self.store = store
        self.now = 0.0
        self.executor = Executor(store, engines, chain_id=chain_id,
                                 read_metadata=engines.read_metadata, clock=lambda: self.now)


class CoreObserver(Protocol):
    """Told of every transaction, in the writer's thread, after its commit (or refusal):
    metrics, the log, and the gRPC adapter's wake-up for subscribers. Must be quick."""

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
        self.engines = engines
        self._lock = threading.Lock()  # the writer's: one transaction at a time
        self._writer = _View(store, engines, chain_id)  # its `now` is set under the lock
        self.executor = self._writer.executor
        self._local = threading.local()  # each reading thread's _View
        self._readers: list[StateStore] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        from ..names import install_registry

        install_registry(store, engines.read_metadata)  # genesis: the names registry

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
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        with self._lock:
            self.store.close()
        for reader in readers:
            reader.close()

    @contextmanager
    def _read(self, now: float | None = None) -> Iterator[_View]:
        """A consistent view for reads: a snapshot on this thread's read connection."""
        if self.store.path == ":memory:":
            with self._lock:
                if now is not None:
                    self._writer.now = max(self._writer.now, now)
                yield self._writer
            return
        view = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = self._open_reader()
        if now is not None:
            view.now = now
        with view.store.transaction():  # BEGIN..COMMIT: one snapshot for every statement
            yield view

    def _open_reader(self) -> _View:
        store = StateStore(self.store.path, authenticated=self.store.tree is not None)
        with self._readers_lock:
            if self._closed:
                store.close()
                raise StateError("the node is shutting down")
            self._readers.append(store)
        return _View(store, self.engines, self.chain_id)

    # --- writes ------------------------------------------------------------------------

    def send_transaction(self, signed: SignedTransaction, *, now: float) -> TxReceipt:
        """Check, run and record; returns once the commit is durable. Raises a GhostError:
        rejected, with nothing recorded, or failed in execution, with a failed receipt
        (nonce used, gas charged; the error's details carry its tx_hash)."""
        tx = signed.tx
        with self._lock:
            # Requests queue for the lock with the time they arrived; block times still
            # never go backwards.
            self._writer.now = max(self._writer.now, now)
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
        with self._read(now) as v:
            return v.executor.query_calldata(address, function, calldata, sender=sender,
                                             gas_limit=gas_limit)

    def receipt(self, tx_hash: bytes) -> TxReceipt:
        with self._read() as v:
            rec = v.store.receipt(tx_hash)
        return _from_record(rec)

    def events(self, **filters: Any) -> list[EventRecord]:
        with self._read() as v:
            return v.store.events(**filters)

    def contract(self, *, address: bytes | None = None, name: str | None = None) -> ContractView:
        with self._read() as v:
            if address is None:
                address = v.store.address_of(name or "")
                if address is None:
                    raise NotFoundError(f"no contract named {name!r} on this node")
            rec = v.store.contract(address)
            name = v.store.name_of(address)
        return ContractView(rec.address, name, rec.code_hash, rec.abi, rec.metadata,
                            rec.deployer, rec.height)

    def resolve_name(self, label: str, *, now: float) -> NameRecord | None:
        """What the names registry maps `label` to, read with a query of its `entry`
        (owner ++ target); None for a free name. The code hash is the target's, from the
        same snapshot."""
        from ..abi import encode_value
        from ..names import REGISTRY_ADDRESS

        with self._read(now) as v:
            try:
                out = v.executor.query_calldata(REGISTRY_ADDRESS, "entry",
                                                encode_value("string", label),
                                                sender=bytes(20))
            except RevertError as exc:
                if exc.reason == "NotRegistered":
                    return None
                raise
            entry = out.result
            owner, target = bytes(entry[:20]), bytes(entry[20:40])
            try:
                code_hash: bytes | None = v.store.contract(target).code_hash
            except NotFoundError:
                code_hash = None
        return NameRecord(label, owner, target, code_hash)

    def nonce(self, address: bytes) -> int:
        with self._read() as v:
            return v.store.nonce(address)

    def height(self) -> int:
        with self._read() as v:
            return v.store.height()

    def block(self, height: int | None = None) -> Block:
        """The block at `height`, or the latest (NotFoundError before the first)."""
        with self._read() as v:
            h = v.store.height() if height is None else height
            time_ = v.store.block_time(h) if h else None
            if time_ is None:
                raise NotFoundError("no blocks yet" if height is None else f"no block {h}")
            hashes = v.store.tx_hashes(h, h)
        return Block(h, time_, hashes[0] if hashes else b"")

    def state_keys(self) -> int:
        """Storage slots across all contracts: the state size a metric reports."""
        with self._read() as v:
            return v.store.counts()["storage"]

    def checkpoint(self, height: int | None = None) -> dict[str, Any]:
        """The latest checkpoint, or the one at `height` (NotFoundError when none)."""
        with self._read() as v:
            return v.store.checkpoint(height).to_json()

    def proof(self, address: bytes, key: bytes) -> dict[str, Any]:
        """The value at (address, key) and its proof against the current state root.
        `checkpoint_height` names the latest checkpoint when it carries that same root
        (nothing changed since), else null: the proof is then against a root no
        checkpoint has published yet."""
        with self._read() as v:
            root = v.store.state_root()
            proof = v.store.prove(address, key)
            value = v.store.storage_get(address, key)
            height = v.store.height()
            try:
                cp = v.store.checkpoint()
            except NotFoundError:
                cp = None
        return {"value": None if value is None else "0x" + value.hex(),
                "proof": proof.to_json(), "state_root": "0x" + root.hex(), "height": height,
                "checkpoint_height": cp.height if cp and cp.state_root == root else None}

    def state_root(self) -> bytes | None:
        """The current state root; None when the store keeps no state tree."""
        with self._read() as v:
            return v.store.state_root() if v.store.tree is not None else None

    def info(self) -> dict[str, Any]:
        with self._read() as v:  # height and root from the same commit
            height = v.store.height()
            root = v.store.state_root() if v.store.tree is not None else None
        out: dict[str, Any] = {"chain_id": self.chain_id, "version": __version__,
                               "height": height, "transports": list(self.transports)}
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
                     r.height, r.tx_hash, r.events, r.logs, r.status, r.error)
