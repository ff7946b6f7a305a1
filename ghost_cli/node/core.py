"""NodeCore: the node's apply and read logic over ONE executor and ONE state store.

Sans-IO: every call takes `now` (the executor's clock reads it), nothing here owns a
socket or a timer. Writes go through the one executor over the one store, one writer at
a time, and a transaction is acknowledged (the call returns) only after its commit is
durable: the node's store runs WAL with synchronous=FULL. The writer commits in groups
(`send_transaction`): the transactions that queued while one commit was being made share
the next one, each in its own savepoint, so one fsync serves many and a transaction that
fails rolls back alone.

Reads do not wait for writes. Each reading thread has its own read connection to the
same file (WAL lets readers and the writer run at once) and reads inside one SQLite
transaction, so a read sees one commit's state, never a half-applied transaction and
never a mix of two. (Reading on the writer's connection would see its uncommitted
writes.) An in-memory store has only one connection; then reads take the lock too.

The store may be a PostgreSQL database other nodes share (chain/store/postgres.py): then
each write runs inside `store.exclusive()`, which takes the database's chain head lock so
the nonce check, the run and the commit see every other node's commits, and the store's
NOTIFY listener relays other nodes' commits to observers (`committed_elsewhere`).

The store is authenticated (it keeps the state tree), so every checkpoint the policy asks
for carries the state root and the receipts root; `send_transaction` checks the policy
after each commit and `tick(now)` on the service's timer.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import __version__
from ..chain.checkpoint import Checkpoint, CheckpointPolicy, maybe_checkpoint
from ..chain.executor import Executor, Receipt, nonce_error
from ..chain.store import EventRecord, ReceiptRecord, StateStore, open_store
from ..chain.transaction import SignedTransaction, Transaction, verify_authorization
from ..exceptions import (
    ConfigError,
    GhostError,
    InvalidParamsError,
    NodeBusyError,
    NotFoundError,
    RevertError,
    StateError,
    StoreUnavailableError,
    TransactionError,
)
from ..names import NameRecord
from ..vm.engines import Engine, default_engines
from ..vm.gas import DEFAULT_GAS_LIMIT
from ..vm.types import Event, Limits
from .admission import Admission

STATE_FILE = "state.db"
MODULE_CACHE_DIR = "module-cache"
#: The most gas one unsigned query may use, and its default: a query costs its sender
#: nothing, so the node bounds it. A larger `gas_limit` is refused (invalid_params).
QUERY_GAS_CAP = DEFAULT_GAS_LIMIT
#: Seconds `close()` waits for a running transaction before leaving it to the process's
#: exit (its commit is atomic: it lands whole or not at all).
CLOSE_WAIT = 1.0
#: The most transactions one durable commit holds (group commit; see send_transaction).
GROUP_LIMIT = 64


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
    deployed: bool = True  # `contract` is a deployed contract (False: a junk target)
    # The durable commit alone, on the first transaction of each commit (group commit:
    # several transactions share one; None on the others and when nothing committed).
    commit_seconds: float | None = None
    # Recorded in a block (ran, or ran and failed, paying gas); False: refused by its
    # checks or unread, nothing recorded and nothing paid.
    recorded: bool = True


class FifoLock:
    """A lock granted in the order it was asked for: transactions queued for the single
    writer run first come, first served, so no sender can be overtaken forever."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            if not blocking:
                return False
            granted = threading.Event()
            self._waiters.append(granted)
        if granted.wait(None if timeout < 0 else timeout):
            return True
        with self._mutex:
            if granted.is_set():  # handed over just as the wait ran out
                return True
            self._waiters.remove(granted)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # ownership passes on; never free between
            else:
                self._held = False

    def __enter__(self) -> FifoLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _CommitTimer:
    """The writer's store as its executor sees it, timing each outermost commit: the
    time from the end of a transaction's writes to its durable RELEASE (fsync)."""

    def __init__(self, store: StateStore, timer: Callable[[], float]) -> None:
        self._store, self._timer = store, timer
        self._depth = 0
        self.last: float | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._depth += 1
        inner = self._store.transaction()
        inner.__enter__()
        try:
            try:
                yield
            except BaseException as exc:
                if not inner.__exit__(type(exc), exc, exc.__traceback__):
                    raise
                return
            start = self._timer()
            inner.__exit__(None, None, None)
            if self._depth == 1:
                self.last = self._timer() - start
        finally:
            self._depth -= 1


class _View:
    """A store and an executor over it: the writer's, or one reading thread's."""

    __slots__ = ("store", "executor", "now")

    def __init__(self, store: Any, engines: Engine, chain_id: int) -> None:
        self.store = store
        self.now = 0.0
        self.executor = Executor(store, engines, chain_id=chain_id,
                                 read_metadata=engines.read_metadata, clock=lambda: self.now,
                                 names_owned=True)


class CoreObserver(Protocol):
    """Told of every transaction, in the writer's thread, after its commit (or refusal):
    metrics, the log, and the gRPC adapter's wake-up for subscribers. Must be quick."""

    def executed(self, e: Executed) -> None: ...


class QueryObserver(Protocol):
    """Optionally told of every query (metrics): its status and how long it ran."""

    def queried(self, status: str, seconds: float) -> None: ...


class NodeCore:
    def __init__(
        self,
        store: StateStore,
        engines: Engine,
        *,
        chain_id: int,
        transports: Iterable[str] = ("http",),
        observers: Iterable[CoreObserver] = (),
        policy: CheckpointPolicy | None = None,
        timer: Callable[[], float] = time.perf_counter,
        query_gas_cap: int = QUERY_GAS_CAP,
    ) -> None:
        self.store = store
        self.query_gas_cap = query_gas_cap
        self.policy = policy  # None: no checkpoints (the store may be unauthenticated)
        self.chain_id = chain_id
        self.transports = tuple(transports)
        self.observers = tuple(observers)
        self.timer = timer
        self.engines = engines
        self._lock = FifoLock()  # the writer's: one transaction at a time, in order
        # Wraps the wait for the writer: the service's ExecutionPool.park, so a queued
        # transaction does not hold a worker that a read could use.
        self.park: Callable[[], AbstractContextManager[None]] = nullcontext
        self._queue: list[_Pending] = []  # transactions waiting for the writer, in order
        self._queue_mutex = threading.Lock()
        self._leading = False  # a thread is the writer (or has been handed the role)
        self._commits = _CommitTimer(store, timer)
        self._writer = _View(self._commits, engines, chain_id)  # `now` set under the lock
        self.executor = self._writer.executor
        self._local = threading.local()  # each reading thread's _View
        self._state_keys: tuple[int, int] | None = None  # (height, storage rows) last counted
        self._readers: list[StateStore] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._admission = Admission()  # what lets a replay skip its signature check
        from ..names import install_registry

        with store.exclusive():  # several nodes may start on one database at once
            install_registry(store, engines.read_metadata)  # genesis: the names registry
        # The latest height, kept in memory so liveness never waits for the store (or a
        # worker): set here, after each commit under the writer's lock, and when another
        # node of a shared database commits.
        self._height = store.height()
        listen = getattr(store, "listen", None)
        if listen is not None:  # a shared database: learn of other nodes' commits
            listen(self._committed_elsewhere)

    @classmethod
    def open(cls, data_dir: Path, *, chain_id: int, limits: Limits | None = None,
             store: str | None = None, history: bool = True,
             history_blocks: int | None = None, **kwargs: Any) -> NodeCore:
        """The node's durable store (`store`: a URL for open_store; default the SQLite
        file in `data_dir`; `history`, `history_blocks`: its state history, as for
        open_store) and the default engines under `data_dir`."""
        store_ = open_store(store or Path(data_dir) / STATE_FILE, durable=True,
                            authenticated=True, history=history, history_blocks=history_blocks)
        try:
            _check_chain_id(store_, chain_id)
        except BaseException:
            store_.close()
            raise
        kwargs.setdefault("policy", CheckpointPolicy())
        engines = default_engines(limits or Limits(), Path(data_dir) / MODULE_CACHE_DIR)
        return cls(store_, engines, chain_id=chain_id, **kwargs)

    def close(self, wait: float = CLOSE_WAIT) -> bool:
        """Close the store. A transaction still running after `wait` seconds (a stuck
        worker at shutdown) is left to the process's exit, and the connections with it:
        closing them under a running execution could tear its snapshot. False then."""
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        if not self._lock.acquire(timeout=wait):
            return False
        try:
            self.store.close()
        finally:
            self._lock.release()
        for reader in readers:
            reader.close()
        return True

    @contextmanager
    def _read(self, now: float | None = None) -> Iterator[_View]:
        """A consistent view for reads: a snapshot on this thread's read connection."""
        if getattr(self.store, "path", None) == ":memory:":
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
        with view.store.read():  # one snapshot for every statement
            yield view

    def _open_reader(self) -> _View:
        store = self.store.reader()
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
        (nonce used, gas charged; the error's details carry its tx_hash).

        Group commit: the checks that need no state (chain, expiry, the signatures: the
        costly part) run here, on the caller's thread, before the single writer; a bad
        signature is raised by the writer after the nonce check, as the documented order
        of checks has it. Then the transaction joins the writer's queue; whoever finds no
        writer running becomes it and runs everything queued (at most GROUP_LIMIT, in
        arrival order), each transaction in its own savepoint, all under one database
        transaction and one durable commit. Each caller is answered only after that
        commit: a group that fails to commit fails every transaction in it that would
        have written anything."""
        start = self.timer()
        try:
            self.executor.check_stateless(signed, now=now, verify=False)
        except GhostError as exc:
            self._refused(signed, exc, start)
            raise
        if self._admission.used(signed):  # a replay: refused before its signatures
            exc = nonce_error(signed.tx, self.nonce(signed.tx.sender))
            self._refused(signed, exc, start)
            raise exc
        item = _Pending(signed, now, start)
        if not self._admission.seen_valid(signed):
            try:
                verify_authorization(signed)
                self._admission.valid(signed)
            except GhostError as exc:
                item.verified = exc
        if item.verified is True and signed.tx.kind == "deploy":
            self._compile_ahead(signed.tx)
        with self._queue_mutex:
            self._queue.append(item)
            item.lead = not self._leading
            self._leading = True
        if not item.lead:
            self._follow(item)
        if item.lead:
            self._run_groups(item)
        return item.outcome()

    def _follow(self, item: _Pending) -> None:
        """Wait, parked, until a writer has run `item` or handed the writer's role to it."""
        try:
            with self.park():
                item.done.wait()
            return
        except NodeBusyError:
            with self._queue_mutex:
                if not item.lead and item in self._queue:  # nobody has taken it: refused
                    self._queue.remove(item)
                    raise
        item.done.wait()  # taken meanwhile: it runs; wait unparked

    def _run_groups(self, item: _Pending) -> None:
        """The writer: run groups until `item`'s has run, then hand the role on."""
        batch: list[_Pending] = []
        try:
            self._lock.acquire()
            try:
                with self._queue_mutex:
                    batch = self._queue[:GROUP_LIMIT]
                    del self._queue[:GROUP_LIMIT]
                self._run_group(batch)
            finally:
                self._lock.release()
        finally:
            with self._queue_mutex:
                nxt = self._queue[0] if self._queue else None
                if nxt is None:
                    self._leading = False
                else:
                    nxt.lead = True
            for done in batch:
                done.done.set()
            if nxt is not None:
                nxt.done.set()

    def _run_group(self, batch: list[_Pending]) -> None:
        wrote: list[_Pending] = []
        self._commits.last = None
        inner_end = None
        try:
            # SQLite commits when the outermost transaction ends; PostgreSQL when the
            # exclusive session does (its transactions are savepoints inside it).
            with self.store.exclusive():
                with self._commits.transaction():
                    self._run_each(batch, wrote)
                inner_end = self.timer()
        except Exception as exc:  # the group's commit failed: none of it was recorded
            for item in batch:  # what wrote, and what never ran (the store refused at once)
                if item in wrote or (item.receipt is None and item.error is None):
                    item.receipt, item.error = None, exc
            wrote = []
        commit = None
        if wrote and inner_end is not None:
            commit = (self._commits.last or 0.0) + (self.timer() - inner_end)
            for w in wrote:  # recorded (ran, or ran and failed): their nonces are used
                self._admission.committed(w.signed.tx.sender, w.signed.tx.nonce)
            self._height = max(self._height, *(
                w.receipt.block_height if w.receipt is not None
                else w.error.details["block_height"] for w in wrote))
        for item in batch:  # the group's one commit is reported once, with its first
            self._finished(item, commit if wrote and item is wrote[0] else None)
        if wrote:
            try:
                self._maybe_checkpoint(max(item.now for item in batch))
            except GhostError as exc:
                # The group is committed and its callers are answered as recorded: a
                # checkpoint is derived data, made by the next commit or tick.
                self._checkpoint_failed(exc)

    def _run_each(self, batch: list[_Pending], wrote: list[_Pending]) -> None:
        """Run a group's transactions in order, each atomic on its own (the executor's
        savepoints): one that is refused or fails leaves the others as they are."""
        for item in batch:
            # Requests queue with the time they arrived; block times still never go
            # backwards.
            self._writer.now = max(self._writer.now, item.now)
            try:
                item.receipt = self.executor.submit(item.signed, verified=item.verified)
                wrote.append(item)
            except GhostError as exc:
                item.error = exc
                if "block_height" in exc.details:  # a failure the executor recorded
                    wrote.append(item)
            except Exception as exc:  # a bug: its own savepoints rolled back
                item.error = exc

    def _finished(self, item: _Pending, commit: float | None) -> None:
        tx = item.signed.tx
        if item.receipt is not None:
            r = item.receipt
            self._report(item.signed, r.address, r.gas_used, "ok", item.start, r.block_height,
                         commit=commit)
            return
        exc = item.error
        if not isinstance(exc, GhostError):
            return
        target = None if tx.kind == "deploy" else tx.target
        # Whether the target is a contract only names its metric series; with the
        # database away it is not asked (that would be one more wait for the caller). A
        # transaction its checks refused counts as `other` wherever it was refused.
        deployed = target is not None \
            and not isinstance(exc, (StoreUnavailableError, TransactionError)) \
            and self._deployed(target)
        self._report(item.signed, target, getattr(exc, "gas_used", 0), exc.code, item.start,
                     exc.details.get("block_height"), commit=commit, deployed=deployed,
                     recorded="block_height" in exc.details)

    def _refused(self, signed: SignedTransaction, exc: GhostError, start: float) -> None:
        """A transaction refused before the writer: told to observers like any other."""
        tx = signed.tx
        target = None if tx.kind == "deploy" else tx.target
        self._report(signed, target, 0, exc.code, start, self._height, deployed=False,
                     recorded=False)

    def _compile_ahead(self, tx: Transaction) -> None:
        """A deploy's compile, here on the caller's thread, so that the single writer finds
        the module compiled and cached: a module that takes seconds to compile holds one
        worker, not every sender's transactions. Only for a deploy that can run now (its
        signatures hold, its nonce is the next): any other would get a compile for
        nothing. A refusal is left to the writer, which reports it in the checks' order."""
        try:
            if tx.nonce == self.nonce(tx.sender):
                self.executor.engine.validate(tx.code)
        except GhostError:  # the store away, the module refused: the writer says so
            pass

    def tick(self, now: float) -> Checkpoint | None:
        """The service's timer: a checkpoint if `every_ms` has passed with new blocks.
        Skipped while a transaction runs: that one checks the policy after its commit
        (and the timer never waits behind a long execution). A checkpoint that fails is
        told to observers, and the next tick tries again."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._maybe_checkpoint(now)
        except GhostError as exc:
            self._checkpoint_failed(exc)
            return None
        finally:
            self._lock.release()

    def _checkpoint_failed(self, exc: GhostError) -> None:
        for o in self.observers:
            told = getattr(o, "checkpoint_failed", None)
            if told is not None:
                told(exc)

    def _maybe_checkpoint(self, now: float) -> Checkpoint | None:
        # The transaction is already committed; a checkpoint is derived data, so a crash
        # between the two loses nothing: the next commit or tick makes it.
        if self.policy is None:
            return None
        with self.store.checkpoint_lock() as ours:  # one node of a shared database
            return maybe_checkpoint(self.store, self.policy, now) if ours else None

    def _committed_elsewhere(self, version: int) -> None:
        """A commit on the shared database (any node's; -1: reconnected): wake event
        subscribers. Caches need nothing here: the store checks the chain head's version
        at the start of every session; /health's height is refreshed from the store."""
        try:
            self._height = max(self._height, self.height())
        except GhostError:  # the database is away: /health keeps the last height it saw
            pass
        for o in self.observers:
            wake = getattr(o, "committed_elsewhere", None)
            if wake is not None:
                wake(version)

    def _report(self, signed: SignedTransaction, contract: bytes | None, gas_used: int,
                status: str, start: float, height: int | None = None, *,
                deployed: bool = True, commit: float | None = None,
                recorded: bool = True) -> None:
        e = Executed(signed.tx.hash, signed.tx.sender, signed.tx.kind, contract, gas_used,
                     status, self.timer() - start,
                     self._height if height is None else height, deployed,
                     commit, recorded)
        for o in self.observers:
            o.executed(e)

    def _deployed(self, address: bytes) -> bool:
        try:
            self.store.contract(address)
        except GhostError:  # not found, or the store failed: no series of its own
            return False
        return True

    # --- reads -------------------------------------------------------------------------

    def query(self, address: bytes, function: str, calldata: bytes, *, sender: bytes,
              now: float, gas_limit: int | None = None) -> Receipt:
        """Run a function read-only. `gas_limit` defaults to, and may not exceed, the
        node's query cap (InvalidParamsError, before anything runs)."""
        if gas_limit is None:
            gas_limit = self.query_gas_cap
        elif gas_limit > self.query_gas_cap:
            raise InvalidParamsError(f"gas_limit {gas_limit} is over this node's query cap of "
                                     f"{self.query_gas_cap}", limit=self.query_gas_cap)
        start, status = self.timer(), "ok"
        try:
            with self._read(now) as v:
                return v.executor.query_calldata(address, function, calldata, sender=sender,
                                                 gas_limit=gas_limit)
        except GhostError as exc:
            status = exc.code
            raise
        finally:
            seconds = self.timer() - start
            for o in self.observers:
                if hasattr(o, "queried"):
                    o.queried(status, seconds)

    def receipt(self, tx_hash: bytes, *, max_event_bytes: int | None = None) -> TxReceipt:
        """`max_event_bytes`: refuse a receipt whose events hold more (RequestTooLargeError),
        before they are read."""
        with self._read() as v:
            rec = v.store.receipt(tx_hash, max_event_bytes=max_event_bytes)
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

    def known_height(self) -> int:
        """The latest height this node knows, from memory (what /health reports): never
        waits for the store."""
        return self._height

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
        """Storage slots across all contracts: the state size a metric reports. Counted
        once per height (a count reads the whole table; storage only changes with a
        block), so a scrape between blocks reads one row."""
        with self._read() as v:
            height = v.store.height()
            known = self._state_keys
            if known is not None and known[0] == height:
                return known[1]
            count = v.store.storage_keys()
        self._state_keys = (height, count)
        return count

    def checkpoint(self, height: int | None = None) -> dict[str, Any]:
        """The latest checkpoint, or the one at `height` (NotFoundError when none)."""
        with self._read() as v:
            return v.store.checkpoint(height).to_json()

    def proof(self, address: bytes, key: bytes, height: int | None = None) -> dict[str, Any]:
        """The value at (address, key) and its proof against the state root after block
        `height` (default: the current one). `checkpoint_height` names the checkpoint that
        carries that same root (for the current height: the latest checkpoint, when
        nothing changed since), else null. A height the node keeps no state for is
        HeightUnavailableError."""
        with self._read() as v:
            if height is None or height == v.store.height():  # also without history
                height = v.store.height()
                root = v.store.state_root()
                proof = v.store.prove(address, key)
                value = v.store.storage_get(address, key)
            else:
                root = v.store.state_root_at(height)
                proof = v.store.prove_at(address, key, height)
                value = v.store.storage_get_at(address, key, height)
            published = self._published(v.store, root, height)
        return {"value": None if value is None else "0x" + value.hex(),
                "proof": proof.to_json(), "state_root": "0x" + root.hex(), "height": height,
                "checkpoint_height": published}

    def state_at(self, height: int | None = None) -> dict[str, Any]:
        """The state root after block `height` (default the latest), the first height
        the node keeps state for, and the checkpoint publishing that root, if any."""
        with self._read() as v:
            latest = v.store.height()
            h = latest if height is None else height
            root = v.store.state_root() if h == latest else v.store.state_root_at(h)
            start = v.store.history_from()
            published = self._published(v.store, root, h)
        return {"height": h, "state_root": "0x" + root.hex(), "latest": latest,
                "history_from": start, "checkpoint_height": published}

    @staticmethod
    def _published(store: Any, root: bytes, height: int) -> int | None:
        """The checkpoint that publishes `root`: the latest one, when it is at or below
        `height` and carries that root (nothing changed since), else the one at exactly
        `height` when it does."""
        try:
            cp = store.checkpoint()
        except NotFoundError:
            return None
        if cp.height > height:
            try:
                cp = store.checkpoint(height)
            except NotFoundError:
                return None
        return cp.height if cp.state_root == root else None

    def code(self, code_hash: bytes) -> dict[str, Any]:
        """Deployed code by its hash (SHA-256 of the module): what a fork runs."""
        with self._read() as v:
            try:
                code = v.store.code(code_hash)
            except StateError:
                raise NotFoundError(f"no code with hash 0x{code_hash.hex()}") from None
        return {"code_hash": "0x" + code_hash.hex(), "code": "0x" + code.hex()}

    def state_root(self) -> bytes | None:
        """The current state root; None when the store keeps no state tree."""
        with self._read() as v:
            return v.store.state_root() if v.store.authenticated else None

    def info(self) -> dict[str, Any]:
        with self._read() as v:  # height and root from the same commit
            height = v.store.height()
            root = v.store.state_root() if v.store.authenticated else None
        out: dict[str, Any] = {"chain_id": self.chain_id, "version": __version__,
                               "height": height, "transports": list(self.transports)}
        if root is not None:
            out["state_root"] = "0x" + root.hex()
        return out

    def health(self) -> dict[str, Any]:
        """Liveness from memory: no store read, no lock, so it answers while every
        execution worker is busy. A shared database's listener says whether the database
        answers (it reconnects every second while it does not): StoreUnavailableError."""
        if not getattr(self.store, "reachable", True):
            raise StoreUnavailableError(
                f"the state database {self.store.location} does not answer; retry shortly")
        return {"ok": True, "height": self._height, "store": self.store.backend}


class _Pending:
    """One transaction waiting for the writer, and then its outcome."""

    __slots__ = ("signed", "now", "start", "verified", "done", "lead", "receipt", "error")

    def __init__(self, signed: SignedTransaction, now: float, start: float) -> None:
        self.signed, self.now, self.start = signed, now, start
        self.verified: bool | GhostError = True  # or the signature check's error
        self.done = threading.Event()  # set when it ran, or when it is the next writer
        self.lead = False  # handed the writer's role
        self.receipt: Receipt | None = None
        self.error: BaseException | None = None

    def outcome(self) -> TxReceipt:
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return _from_receipt(self.receipt, self.signed.tx.sender, self.signed.tx.hash)


def _check_chain_id(store: StateStore, chain_id: int) -> None:
    """A store (a shared database above all) holds one chain: record its id, or refuse
    a node configured for another."""
    with store.exclusive():
        recorded = store.meta_get("chain_id")
        if recorded is None:
            store.meta_set("chain_id", str(chain_id))
        elif int(recorded) != chain_id:
            raise ConfigError(f"the state store {store.location} holds chain {recorded}, "
                              f"not chain {chain_id}")


def _from_receipt(r: Receipt, sender: bytes, tx_hash: bytes) -> TxReceipt:
    return TxReceipt(r.kind, sender, r.address, r.function, r.return_data, r.gas_used,
                     r.block_height, tx_hash, r.events, r.logs)


def _from_record(r: ReceiptRecord) -> TxReceipt:
    return TxReceipt(r.kind, r.sender, r.target, r.function, r.return_data, r.gas_used,
                     r.height, r.tx_hash, r.events, r.logs, r.status, r.error)
