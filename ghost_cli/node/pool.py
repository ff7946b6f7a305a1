"""The node's execution pool: where JSON-RPC bodies and gRPC calls run contracts and read
the store, apart from the transports.

Transports (uvicorn, aioquic, grpcio) only parse and frame; every execution goes through
this pool, which is bounded three ways:

- `workers` threads run at once (concurrency); each execution is bounded in time by its
  gas and the engines' wall-clock backstop, and in memory by the engine limits. A worker
  that only waits for the node's single writer (a transaction queued behind another)
  is `parked`: a fresh thread takes its place meanwhile, so queued transactions never
  hold the workers that reads need (at most `queue` may be parked; one more is `busy`);
- at most `queue` executions wait for a worker; one more is refused at once with
  NodeBusyError (JSON-RPC `busy`), so a flood costs the flooder, not the node's memory;
- the workers are daemon threads the node never joins: on SIGTERM the executions still
  running are abandoned (the process exits; a transaction among them either committed
  atomically or not at all), and the waiting ones are refused.

`/health` and `/metrics` never come here: they answer while every worker is busy.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        # maxsize counts waiting items only: the workers hold the running ones.
        self._queue: queue.Queue = queue.Queue(maxsize=limits.queue)
        self._closed = False
        self._lock = threading.Lock()
        self._running = 0
        self._parked = 0
        self._name = name
        self._spawned = 0
        self._alive = 0  # worker threads; more than `workers` only while some are parked
        self._local = threading.local()  # marks this pool's worker threads
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

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future:
        """Queue `fn`; NodeBusyError at once when the queue is full, NodeUnavailableError
        once the pool is closed."""
        # Imported here: one-shot commands read PoolLimits (the node options' defaults)
        # and need neither concurrent.futures nor the logging it imports.
        from concurrent.futures import Future

        future: Future = Future()
        with self._lock:
            if self._closed:
                raise NodeUnavailableError("the node is stopping")
            try:
                self._queue.put_nowait((future, fn, args, kwargs))
            except queue.Full:
                raise _busy(self.limits) from None
        return future

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`submit` for asyncio callers. Cancelling the caller drops the result; an
        execution already running finishes (or hits its deadline) on its own."""
        import asyncio  # here: `ghost node --help` and every other command import this module

        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

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
        while True:
            try:
                future, *_ = self._queue.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_exception(NodeUnavailableError("the node is stopping"))
        for _ in range(self._alive):  # wake idle workers so they exit
            try:
                self._queue.put_nowait(None)
            except queue.Full:  # workers still busy: they see `_closed` when done
                break

    def _work(self) -> None:
        self._local.worker = True
        while True:
            with self._lock:
                if self._alive > self.limits.workers + self._parked:
                    self._alive -= 1  # a parked worker is back: one thread too many
                    return
            item = self._queue.get()
            if item is None or self._closed:
                if item is not None and item[0].set_running_or_notify_cancel():
                    item[0].set_exception(NodeUnavailableError("the node is stopping"))
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue  # its caller went away before it started: nothing to run
            with self._lock:
                self._running += 1
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # the caller's await re-raises it
                future.set_exception(exc)
            finally:
                with self._lock:
                    self._running -= 1


def _busy(limits: PoolLimits) -> NodeBusyError:
    return NodeBusyError(
        f"the node is busy: {limits.workers} executions running and {limits.queue} waiting; "
        "retry later", workers=limits.workers, queue=limits.queue)
