"""The node's execution pool: where JSON-RPC bodies and gRPC calls run contracts and read
the store, apart from the transports.

Transports (uvicorn, aioquic, grpcio) only parse and frame; every execution goes through
this pool, which is bounded three ways:

- `workers` threads run at once (concurrency); each execution is bounded in time by its
  gas and the engines' wall-clock backstop, and in memory by the engine limits. A worker
  that only waits for the node's single writer (a transaction queued behind another)
  is `parked`: another thread takes its place meanwhile, so queued transactions never
  hold the workers that reads need (at most `queue` may be parked; one more is `busy`).
  A worker back from parking with one thread too many keeps its thread as a spare, so
  under load parking wakes a spare instead of starting and ending a thread each time;
- at most `queue` executions wait for a worker; one more is refused at once with
  NodeBusyError (JSON-RPC `busy`), so a flood costs the flooder, not the node's memory.
  The waiting places are shared by client address (`client_of`): workers take the
  waiting executions of each address in turn, and a newcomer that finds the queue full
  takes the newest place of the address holding the most, when that address holds at
  least two more than the newcomer's (the displaced execution is refused as `busy`,
  unrun). So one client flooding the node delays another by at most one execution per
  worker instead of locking it out;
- the workers are daemon threads the node never joins: on SIGTERM the executions still
  running are abandoned (the process exits; a transaction among them either committed
  atomically or not at all), and the waiting ones are refused.

`/health` and `/metrics` never come here: they answer while every worker is busy.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

from ..exceptions import NodeBusyError, NodeUnavailableError

T = TypeVar("T")


@dataclass(frozen=True)
class PoolLimits:
    workers: int = 4  # executions at once
    queue: int = 64  # executions waiting for a worker; one more is `busy`


class ExecutionPool:
    def __init__(self, limits: PoolLimits = PoolLimits(), *, name: str = "ghost-exec") -> None:
        if limits.workers < 1 or limits.queue < 1:
            raise ValueError("an execution pool needs at least one worker and one queue slot")
        self.limits = limits
        # Counts waiting items only: the workers hold the running ones.
        self._queue = _Waiting(limits.queue)
        self._closed = False
        self._lock = threading.Lock()
        self._running = 0
        self._parked = 0
        self._name = name
        self._spawned = 0
        self._alive = 0  # worker threads; more than `workers` only while some are parked
        self._spares = 0  # threads of `_alive` idle until a worker parks (at most `queue`)
        self._spare = threading.Semaphore(0)  # released once per spare called to work
        self._local = threading.local()  # marks this pool's worker threads
        self._outboxes: dict[Any, _Outbox] = {}  # run()'s results, per event loop
        for _ in range(limits.workers):
            self._spawn()

    def _spawn(self) -> None:  # under self._lock, or before any worker runs
        self._alive += 1
        self._spawned += 1
        threading.Thread(target=self._work, name=f"{self._name}-{self._spawned}",
                         daemon=True).start()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future:
        """Queue `fn`; NodeBusyError at once when the queue is full, NodeUnavailableError
        once the pool is closed."""
        return self.submit_from("", fn, *args, **kwargs)

    def submit_from(self, peer: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any
                    ) -> Future:
        """`submit` on behalf of `peer` ("host:port"), which shares the waiting places
        with other clients (the module's docstring)."""
        # Imported here: one-shot commands read PoolLimits (the node options' defaults)
        # and need neither concurrent.futures nor the logging it imports.
        from concurrent.futures import Future

        future: Future = Future()
        self._put((future, fn, args, kwargs), peer)
        return future

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return await self.run_from("", fn, *args, **kwargs)

    async def run_from(self, peer: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any
                       ) -> T:
        """`submit_from` for asyncio callers. Cancelling the caller drops the result; an
        execution already running finishes (or hits its deadline) on its own.

        The result comes back through the loop's `_Outbox`: one wake-up of the event loop
        for all the executions that finish together (a group commit's answers), where a
        concurrent Future per call would wake it once per call."""
        import asyncio  # here: `ghost node --help` and every other command import this module

        loop = asyncio.get_running_loop()
        outbox = self._outboxes.get(loop)
        if outbox is None:
            outbox = self._outboxes[loop] = _Outbox(loop)
        future = loop.create_future()
        self._put((_LoopResult(outbox, future), fn, args, kwargs), peer)
        return await future

    def _put(self, item: tuple, peer: str) -> None:
        with self._lock:
            if self._closed:
                raise NodeUnavailableError("the node is stopping")
            taken, displaced = self._queue.put(item, client_of(peer))
        if displaced is not None and displaced[0].set_running_or_notify_cancel():
            displaced[0].set_exception(_busy(self.limits, displaced=True))
        if not taken:
            raise _busy(self.limits)

    @property
    def parked(self) -> int:
        return self._parked

    @contextmanager
    def park(self) -> Iterator[None]:
        """Around a wait that is not work (the single writer's lock): a fresh worker
        serves the queue meanwhile. A no-op outside this pool's workers."""
        if not getattr(self._local, "worker", False):
            yield
            return
        with self._lock:
            if self._parked >= self.limits.queue:
                raise _busy(self.limits)
            self._parked += 1
            if self._spares:
                self._spares -= 1
                self._spare.release()
            else:
                self._spawn()
        try:
            yield
        finally:
            with self._lock:
                self._parked -= 1  # the thread count shrinks back as workers finish

    def close(self) -> None:
        """Refuse new work, fail what waits, and let running executions go (not joined)."""
        with self._lock:
            self._closed = True
        for future, *_ in self._queue.close():  # idle workers wake and exit
            if future.set_running_or_notify_cancel():
                future.set_exception(NodeUnavailableError("the node is stopping"))
        with self._lock:
            spares, self._spares = self._spares, 0
        for _ in range(spares):  # wake the spares so they exit
            self._spare.release()

    def _work(self) -> None:
        self._local.worker = True
        try:
            while self._next():
                pass
        finally:
            with self._lock:
                self._alive -= 1

    def _next(self) -> bool:
        """Run one queued execution (or wait as a spare); False when this thread ends."""
        with self._lock:
            surplus = self._alive - self._spares > self.limits.workers + self._parked
            if surplus:  # a parked worker is back: one thread too many
                if self._closed or self._spares >= self.limits.queue:
                    return False
                # Kept as a spare for the next park: a thread start costs more than
                # an idle thread's stack.
                self._spares += 1
        if surplus:
            self._spare.acquire()
            return not self._closed
        item = self._queue.get()
        if item is None or self._closed:
            if item is not None and item[0].set_running_or_notify_cancel():
                item[0].set_exception(NodeUnavailableError("the node is stopping"))
            return False
        future, fn, args, kwargs = item
        if not future.set_running_or_notify_cancel():
            return True  # its caller went away before it started: nothing to run
        with self._lock:
            self._running += 1
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller's await re-raises it
            future.set_exception(exc)
        finally:
            with self._lock:
                self._running -= 1
        return True


class _Outbox:
    """Results bound for one event loop: the first posted while the loop has none
    pending schedules one `_deliver` call, which hands over everything posted by then."""

    __slots__ = ("loop", "_mutex", "_items")

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self._mutex = threading.Lock()
        self._items: list[tuple[Any, Any, BaseException | None]] = []

    def post(self, future: Any, value: Any, exc: BaseException | None) -> None:
        with self._mutex:
            self._items.append((future, value, exc))
            first = len(self._items) == 1
        if first:
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _deliver(self) -> None:
        with self._mutex:
            items, self._items = self._items, []
        for future, value, exc in items:
            if future.done():  # its caller was cancelled meanwhile
                continue
            if exc is None:
                future.set_result(value)
            else:
                future.set_exception(exc)


class _LoopResult:
    """The side of an asyncio future a worker sees (what it uses of a concurrent Future)."""

    __slots__ = ("outbox", "future")

    def __init__(self, outbox: _Outbox, future: Any) -> None:
        self.outbox, self.future = outbox, future

    def set_running_or_notify_cancel(self) -> bool:
        return not self.future.cancelled()  # its caller went away before it started

    def set_result(self, value: Any) -> None:
        self.outbox.post(self.future, value, None)

    def set_exception(self, exc: BaseException) -> None:
        self.outbox.post(self.future, None, exc)


class _Waiting:
    """Executions waiting for a worker, each under its client, taken from the clients in
    turn (arrival order within one client); at most `size` in all."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_client: OrderedDict[str, deque] = OrderedDict()  # next to serve first
        self._count = 0
        self._closed = False
        self._ready = threading.Condition(threading.Lock())

    def qsize(self) -> int:
        return self._count

    def put(self, item: tuple, client: str) -> tuple[bool, tuple | None]:
        """Queue `item`: whether it was taken, and the item it displaced (for the caller
        to refuse, outside the locks). When the queue is full, the client holding the
        most places gives up its newest if it holds at least two more than `client`
        (with one more, a swap would change nothing)."""
        displaced = None
        with self._ready:
            if self._count >= self.size:
                most = max(self._by_client.values(), key=len)
                if len(most) < len(self._by_client.get(client, ())) + 2:
                    return False, None
                displaced = most.pop()  # never emptied: it held at least two
                self._count -= 1
            self._by_client.setdefault(client, deque()).append(item)
            self._count += 1
            self._ready.notify()
        return True, displaced

    def get(self) -> tuple | None:
        """The next execution, waiting for one; None once closed."""
        with self._ready:
            while not self._count:
                if self._closed:
                    return None
                self._ready.wait()
            client, items = next(iter(self._by_client.items()))
            item = items.popleft()
            self._count -= 1
            if items:
                self._by_client.move_to_end(client)  # the others' turn first
            else:
                del self._by_client[client]
            return item

    def close(self) -> list[tuple]:
        """Wake every waiting `get` (None) and hand back what was queued."""
        with self._ready:
            self._closed = True
            items = [item for queued in self._by_client.values() for item in queued]
            self._by_client.clear()
            self._count = 0
            self._ready.notify_all()
            return items


async def in_thread(peer: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`ExecutionPool.run_from` without a pool: a thread of asyncio's own (tests)."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)


@lru_cache(maxsize=4096)
def client_of(peer: str) -> str:
    """What the waiting places are shared by: a peer's IPv4 address, or its IPv6 /64
    (one host gets a whole /64 as easily as one address). `peer` is "host:port",
    "[v6]:port", or anything else (taken whole)."""
    host = peer[1:peer.find("]")] if peer.startswith("[") else peer.rpartition(":")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return peer
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _busy(limits: PoolLimits, *, displaced: bool = False) -> NodeBusyError:
    why = ("its queue is full and this client held the most of it: this, its newest "
           "request, gave its place to another client's" if displaced else
           f"{limits.workers} executions running and {limits.queue} waiting")
    return NodeBusyError(f"the node is busy: {why}; retry later",
                         workers=limits.workers, queue=limits.queue)
