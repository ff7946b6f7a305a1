"""Prometheus metrics for one node, in the node's own CollectorRegistry (no global
registry: two nodes in one process, as in tests, never share counters).

NodeMetrics observes the dispatcher (per method), NodeCore (per transaction and
contract) and the transport adapters (connections and streams, labelled by transport).

Every label value comes from a bounded set, so no request can add series without bound:
methods from the method tables ("unknown" otherwise), error codes from
ghost_cli.exceptions, contracts only when deployed on this node and among the first
MAX_CONTRACT_SERIES seen since start ("other" for any other target: deploys cost no
balance, so a sender could otherwise add two series per deploy), kinds and statuses from
the executor. The process collector adds RSS, CPU and open file descriptors.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .core import Executed

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Seconds; JSON-RPC calls run from ~100 us (reads) to tens of ms (signed calls, fsync).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0)
#: The label for a target that is not a contract deployed here (junk addresses), or one
#: past the first MAX_CONTRACT_SERIES contracts.
OTHER = "other"
#: Contracts with series of their own, per node run: the first ones to run a transaction.
MAX_CONTRACT_SERIES = 256
#: Statuses a transaction or query ends with, as a histogram label: ok, or failed.
_STATUS = {True: "ok", False: "failed"}
#: Seconds a scrape waits for a gauge's read of the store before it shows the latest value
#: read instead (the database may be away, frozen, or slow to count a large table).
STORE_READ_WAIT = 2.0


class StoreReading:
    """A gauge's value that only the store knows, read for a scrape without letting the
    scrape depend on the store: one read at a time, on one thread of its own (a scrape
    that comes while one runs waits for that one, so scraping faster never reads more
    often), a scrape waits at most `wait` seconds and then shows the latest value read,
    and a read that failed (the database away, the file damaged) shows NaN. The thread is
    a daemon: a read stuck on a frozen database never holds up the node's exit."""

    def __init__(self, read: Callable[[], float], wait: float = STORE_READ_WAIT) -> None:
        self._read, self._wait = read, wait
        self._cond = threading.Condition()
        self._asked = self._done = 0  # reads asked for, reads finished
        self._value = math.nan
        self._thread: threading.Thread | None = None

    def __call__(self) -> float:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="ghost-metrics-read")
                self._thread.start()
            if self._asked == self._done:  # none running: ask for a fresh one
                self._asked += 1
                self._cond.notify_all()
            asked = self._asked
            self._cond.wait_for(lambda: self._done >= asked, timeout=self._wait)
            return self._value

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._done)
                asked = self._asked
            try:
                value = float(self._read())
            except Exception:  # the store could not say: unknown, never a failed scrape
                value = math.nan
            with self._cond:
                self._value, self._done = value, asked
                self._cond.notify_all()


class NodeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, *,
                 max_contracts: int = MAX_CONTRACT_SERIES) -> None:
        self.registry = registry or CollectorRegistry()
        self._max_contracts = max_contracts
        self._contracts: set[bytes] = set()  # the contracts that have series of their own
        self._contracts_lock = threading.Lock()  # core threads report concurrently
        r = self.registry
        self.requests = Counter("ghost_rpc_requests", "JSON-RPC requests", ["method"],
                                registry=r)
        self.errors = Counter("ghost_rpc_errors", "JSON-RPC error responses",
                              ["method", "code"], registry=r)
        self.latency = Histogram("ghost_rpc_latency_seconds", "JSON-RPC handling time",
                                 ["method"], buckets=LATENCY_BUCKETS, registry=r)
        self.rejections = Counter("ghost_rpc_rejected", "Requests refused before any method "
                                "ran (parse errors, invalid requests, oversized bodies)",
                                ["code"], registry=r)
        self.transactions = Counter("ghost_transactions", "Transactions that succeeded", ["kind"],
                                    registry=r)
        self.contract_calls = Counter("ghost_contract_calls",
                                      "Transactions that succeeded, per contract",
                                      ["contract"], registry=r)
        self.contract_gas = Counter("ghost_contract_gas", "Gas used per contract",
                                    ["contract"], registry=r)
        self.contract_failures = Counter("ghost_contract_failures",
                                         "Failed or refused transactions per contract",
                                         ["contract", "code"], registry=r)
        self.height = Gauge("ghost_node_height", "Latest block height", registry=r)
        self.state_keys = Gauge("ghost_state_keys", "Contract storage slots", registry=r)
        self.connections = Gauge("ghost_connections_open", "Open connections",
                                 ["transport"], registry=r)
        self.connections_total = Counter("ghost_connections", "Connections accepted",
                                         ["transport"], registry=r)
        self.streams = Gauge("ghost_streams_open", "Open request streams", ["transport"],
                             registry=r)
        self.handshakes = Counter(
            "ghost_quic_handshakes", "QUIC Initial packets that would open a connection, by "
            "what the listener did: started a handshake, sent a Retry, dropped it (an "
            "address past its budget), or refused its token", ["outcome"], registry=r)
        self.execution = Histogram(
            "ghost_execution_seconds", "Time to run a query, or to check, run and durably "
            "commit a transaction (refusals included)", ["kind", "status"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.commit = Histogram(
            "ghost_commit_seconds", "Time of one durable commit alone (SQLite RELEASE with "
            "fsync); with group commit one commit holds one or more transactions, "
            "succeeded or failed",
            buckets=LATENCY_BUCKETS, registry=r)
        self.pool_running = Gauge("ghost_executions_running", "Executions on a worker",
                                  registry=r)
        self.pool_waiting = Gauge("ghost_executions_waiting",
                                  "Executions queued for a worker", registry=r)
        ProcessCollector(registry=r)  # process_resident_memory_bytes, process_open_fds, ...

    def watch(self, height: Callable[[], int], state_keys: Callable[[], int]) -> None:
        """Read height and state size when scraped, not on every transaction. `height`
        must answer from memory (as /health does); `state_keys` reads the store, so it
        goes through a StoreReading: a scrape answers whatever the store does."""
        self.height.set_function(height)
        self.state_keys.set_function(StoreReading(state_keys))

    def watch_pool(self, running: Callable[[], int], waiting: Callable[[], int]) -> None:
        self.pool_running.set_function(running)
        self.pool_waiting.set_function(waiting)

    def render(self) -> bytes:
        """The Prometheus text exposition of this node's registry."""
        return generate_latest(self.registry)

    # --- dispatcher observer -----------------------------------------------------------

    def request(self, method: str, error: str | None, seconds: float) -> None:
        self.requests.labels(method).inc()
        self.latency.labels(method).observe(seconds)
        if error is not None:
            self.errors.labels(method, error).inc()

    def rejected(self, reason: str, *, peer: str, method: str | None, code: str) -> None:
        if method is None:  # method-level errors are counted by request()
            self.rejections.labels(code).inc()

    def internal_error(self, method: str, exc: BaseException) -> None:
        pass  # counted by request() as code internal_error

    # --- core observer -----------------------------------------------------------------

    def _contract(self, e: Executed) -> str:
        """The contract label: its address while the series stay bounded, else `other`."""
        if not e.contract:
            return "none"
        if not e.deployed:
            return OTHER
        with self._contracts_lock:
            if e.contract not in self._contracts:
                if len(self._contracts) >= self._max_contracts:
                    return OTHER
                self._contracts.add(e.contract)
        return "0x" + e.contract.hex()

    def executed(self, e: Executed) -> None:
        contract = self._contract(e)
        self.execution.labels(e.kind, _STATUS[e.status == "ok"]).observe(e.seconds)
        if e.commit_seconds is not None:
            self.commit.observe(e.commit_seconds)
        if e.status == "ok":
            self.transactions.labels(e.kind).inc()
            self.contract_calls.labels(contract).inc()
            self.contract_gas.labels(contract).inc(e.gas_used)
        else:
            self.contract_failures.labels(contract, e.status).inc()

    def queried(self, status: str, seconds: float) -> None:
        self.execution.labels("query", _STATUS[status == "ok"]).observe(seconds)

    # --- transport hooks (HTTP/1.1 here, HTTP/3 in node/quic.py) ------------------------

    def connection_opened(self, transport: str) -> None:
        self.connections.labels(transport).inc()
        self.connections_total.labels(transport).inc()

    def connection_closed(self, transport: str) -> None:
        self.connections.labels(transport).dec()

    def stream_opened(self, transport: str) -> None:
        self.streams.labels(transport).inc()

    def stream_closed(self, transport: str) -> None:
        self.streams.labels(transport).dec()

    def handshake(self, transport: str, outcome: str) -> None:
        self.handshakes.labels(outcome).inc()
