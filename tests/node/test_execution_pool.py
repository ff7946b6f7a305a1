"""The execution pool and the writer's FIFO lock, with real threads and no node."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ghost_cli.exceptions import NodeBusyError, NodeUnavailableError
from ghost_cli.node.core import FifoLock
from ghost_cli.node.pool import ExecutionPool, PoolLimits, client_of

WAIT = 10.0  # liveness bound for each step


def _blocker(pool: ExecutionPool, gate: threading.Event, started: threading.Event):
    def fn() -> str:
        started.set()
        assert gate.wait(WAIT)
        return "done"
    return pool.submit(fn)


def test_a_full_queue_is_busy_at_once_and_nothing_is_lost():
    pool = ExecutionPool(PoolLimits(workers=1, queue=2))
    gate, started = threading.Event(), threading.Event()
    running = _blocker(pool, gate, started)
    assert started.wait(WAIT)
    waiting = [pool.submit(lambda i=i: i) for i in range(2)]
    with pytest.raises(NodeBusyError) as info:
        pool.submit(lambda: "never")
    assert info.value.code == "busy" and info.value.details == {"workers": 1, "queue": 2}
    assert (pool.running, pool.waiting) == (1, 2)
    gate.set()
    assert running.result(WAIT) == "done"
    assert [f.result(WAIT) for f in waiting] == [0, 1]
    pool.close()


def test_exceptions_reach_the_caller():
    pool = ExecutionPool(PoolLimits(workers=1, queue=1))
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(WAIT)
    pool.close()


def test_close_refuses_new_work_and_fails_what_waits_without_waiting_for_the_running():
    pool = ExecutionPool(PoolLimits(workers=1, queue=4))
    gate, started = threading.Event(), threading.Event()
    running = _blocker(pool, gate, started)
    assert started.wait(WAIT)
    queued = pool.submit(lambda: "queued")
    pool.close()  # returns at once although a worker is still inside `running`
    with pytest.raises(NodeUnavailableError):
        queued.result(WAIT)
    with pytest.raises(NodeUnavailableError):
        pool.submit(lambda: "late")
    gate.set()
    assert running.result(WAIT) == "done"  # abandoned, not killed: it finishes on its own


def test_a_parked_worker_is_replaced_so_reads_still_run():
    pool = ExecutionPool(PoolLimits(workers=1, queue=1))
    gate, parked = threading.Event(), threading.Event()

    def waits_for_the_writer() -> str:
        with pool.park():
            parked.set()
            assert gate.wait(WAIT)
        return "written"

    writer = pool.submit(waits_for_the_writer)
    assert parked.wait(WAIT)
    assert pool.submit(lambda: "read").result(WAIT) == "read"  # the fresh thread ran it
    assert pool.parked == 1

    def parks_too() -> None:
        with pool.park():
            pass

    # At most `queue` workers park; one more is refused as busy, unrun.
    with pytest.raises(NodeBusyError):
        pool.submit(parks_too).result(WAIT)
    gate.set()
    assert writer.result(WAIT) == "written" and pool.parked == 0
    pool.close()


def _settle(pool: ExecutionPool, spares: int) -> None:
    """Wait for a worker back from parking to have become a spare."""
    deadline = time.monotonic() + WAIT
    while pool._spares != spares and time.monotonic() < deadline:
        time.sleep(0.001)
    assert pool._spares == spares


def test_a_worker_back_from_parking_stays_as_a_spare_for_the_next_park():
    pool = ExecutionPool(PoolLimits(workers=1, queue=4))

    def parks() -> str:
        with pool.park():
            pass
        return "ok"

    assert pool.submit(parks).result(WAIT) == "ok"
    _settle(pool, 1)
    started = pool._spawned
    for _ in range(5):  # each park wakes the spare; no thread is started
        assert pool.submit(parks).result(WAIT) == "ok"
        _settle(pool, 1)
    assert pool._spawned == started
    # The spare counts as a thread, not as a worker: one execution at a time still.
    gate, first = threading.Event(), threading.Event()
    running = _blocker(pool, gate, first)
    assert first.wait(WAIT)
    second = pool.submit(lambda: "second")
    assert pool.running == 1 and pool.waiting == 1
    gate.set()
    assert running.result(WAIT) == "done" and second.result(WAIT) == "second"
    pool.close()
    deadline = time.monotonic() + WAIT
    while pool._alive and time.monotonic() < deadline:  # the spare exits too
        time.sleep(0.001)
    assert pool._alive == 0


def test_run_hands_results_and_errors_to_asyncio_callers():
    pool = ExecutionPool(PoolLimits(workers=2, queue=64))

    async def main() -> None:
        results = await asyncio.gather(*(pool.run(lambda i=i: i * i) for i in range(50)))
        assert results == [i * i for i in range(50)]
        with pytest.raises(ZeroDivisionError):
            await pool.run(lambda: 1 / 0)
        # A caller cancelled while its call waits for a worker: the call never runs.
        gate, started = threading.Event(), threading.Event()
        blockers = [pool.submit(lambda: gate.wait(WAIT)) for _ in range(2)]
        ran: list[str] = []
        waiting = asyncio.ensure_future(pool.run(lambda: ran.append("ran")))
        await asyncio.sleep(0.01)
        waiting.cancel()
        gate.set()
        assert all(b.result(WAIT) for b in blockers)
        assert await pool.run(lambda: "after") == "after"  # the one after it did run
        assert ran == [] and waiting.cancelled()
        started.set()

    asyncio.run(main())
    pool.close()


def _held(workers: int, queue: int) -> tuple[ExecutionPool, threading.Event]:
    """A pool whose workers are all inside a call that waits for the returned gate."""
    pool = ExecutionPool(PoolLimits(workers=workers, queue=queue))
    gate = threading.Event()
    for _ in range(workers):
        started = threading.Event()
        _blocker(pool, gate, started)
        assert started.wait(WAIT)
    return pool, gate


def test_a_full_queue_gives_a_flooding_clients_newest_place_to_another_client():
    pool, gate = _held(workers=1, queue=4)
    flood = [pool.submit_from("10.0.0.1:1000", lambda i=i: f"a{i}") for i in range(4)]
    with pytest.raises(NodeBusyError):  # the flooder's own fifth: refused at once
        pool.submit_from("10.0.0.1:1001", lambda: "a4")
    b0 = pool.submit_from("10.0.0.2:5", lambda: "b0")
    with pytest.raises(NodeBusyError) as info:  # gave its place to b0, unrun
        flood[3].result(WAIT)
    assert "gave its place to another client's" in info.value.message
    assert info.value.details == {"workers": 1, "queue": 4}
    b1 = pool.submit_from("10.0.0.2:6", lambda: "b1")  # the flood holds 3, b 1: one more
    with pytest.raises(NodeBusyError):
        flood[2].result(WAIT)
    with pytest.raises(NodeBusyError):  # two each now: a swap would change nothing
        pool.submit_from("10.0.0.2:7", lambda: "b2")
    c0 = pool.submit_from("[2001:db8::1]:9", lambda: "c0")  # a third client gets in too
    with pytest.raises(NodeBusyError):
        flood[1].result(WAIT)
    assert pool.waiting == 4
    gate.set()
    assert [f.result(WAIT) for f in (flood[0], b0, b1, c0)] == ["a0", "b0", "b1", "c0"]
    pool.close()


def test_workers_take_the_waiting_calls_of_each_client_in_turn():
    pool, gate = _held(workers=1, queue=8)
    order: list[str] = []
    futures = [pool.submit_from(peer, order.append, name) for peer, name in (
        ("10.0.0.1:1", "a1"), ("10.0.0.1:2", "a2"), ("10.0.0.1:3", "a3"),
        ("10.0.0.2:1", "b1"), ("10.0.0.3:1", "c1"), ("10.0.0.2:1", "b2"))]
    gate.set()
    for f in futures:
        f.result(WAIT)
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]
    pool.close()


def test_one_client_alone_is_served_in_arrival_order_up_to_the_whole_queue():
    pool, gate = _held(workers=1, queue=16)
    order: list[int] = []
    futures = [pool.submit_from(f"127.0.0.1:{40000 + i}", order.append, i) for i in range(16)]
    with pytest.raises(NodeBusyError):
        pool.submit_from("127.0.0.1:1", order.append, 99)
    gate.set()
    for f in futures:
        f.result(WAIT)
    assert order == list(range(16))
    pool.close()


@pytest.mark.parametrize("peer, client", [
    ("127.0.0.1:5555", "127.0.0.1"),
    ("[::1]:5555", "::/64"),
    ("[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"),  # a host's whole /64 is one client
    ("[2001:db8:1:2:ffff::9]:80", "2001:db8:1:2::/64"),
    ("[::ffff:10.1.2.3]:80", "10.1.2.3"),  # IPv4 on a dual-stack socket
    ("unknown", "unknown"),
    ("", ""),
])
def test_clients_are_ipv4_addresses_and_ipv6_64s(peer, client):
    assert client_of(peer) == client


def test_park_outside_the_pool_is_a_no_op():
    pool = ExecutionPool(PoolLimits(workers=1, queue=1))
    with pool.park():
        assert pool.parked == 0
    pool.close()


def test_the_writer_lock_is_granted_in_arrival_order():
    lock = FifoLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for i in range(5):
        queued = threading.Event()

        def take(i=i, queued=queued) -> None:
            queued.set()
            with lock:
                order.append(i)

        t = threading.Thread(target=take)
        t.start()
        assert queued.wait(WAIT)
        # Let it reach the lock's queue before the next one starts.
        for _ in range(1000):
            if len(lock._waiters) == i + 1:
                break
            threading.Event().wait(0.001)
        threads.append(t)
    lock.release()
    for t in threads:
        t.join(WAIT)
    assert order == [0, 1, 2, 3, 4]


def test_the_writer_lock_times_out_and_tries_without_blocking():
    lock = FifoLock()
    assert lock.acquire(blocking=False)
    assert not lock.acquire(blocking=False)
    assert not lock.acquire(timeout=0.01)
    assert lock._waiters == type(lock._waiters)()  # a timed-out waiter leaves the queue
    lock.release()
    assert lock.acquire(timeout=0.01)
    lock.release()
