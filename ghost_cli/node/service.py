"""Running a node: open the data directory, bind the transports, serve until told to stop.

This is the one place that owns sockets, threads, signals and the wall clock. It wires
NodeCore (the apply logic) to the dispatcher, the dispatcher to uvicorn (HTTP/1.1, TCP)
and to the aioquic adapter (HTTP/3, UDP), and ticks the checkpoint timer.

Executions (JSON-RPC bodies, gRPC calls, DNS lookups) run in one bounded ExecutionPool
(node/pool.py), never on the transports' threads or the event loop; /health answers from
memory. On SIGINT, SIGTERM or SIGHUP the transports stop, requests in flight get a short grace, and
executions still running are abandoned: the node exits within seconds whatever runs.

The data directory holds node.json (the chain id), state.db (SQLite, WAL), module-cache/
and tls/ (the QUIC certificate, made on first start).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError, NodeUnavailableError
from ..rpc import Dispatcher
from .config import Endpoint, NodeConfig, record_chain_id, resolve_chain_id
from .core import NodeCore
from .logging import LineSink, LogFile, NodeLog
from .metrics import NodeMetrics
from .pool import ExecutionPool

#: How often the checkpoint timer looks at the clock, at most (seconds).
MAX_TICK = 0.25
#: Seconds the node waits, once uvicorn has returned, for the HTTP connections it gave up
#: on at the end of its grace to finish closing (a turn or two of the event loop).
CLOSE_OUT = 1.0


class NodeService:
    def __init__(self, config: NodeConfig, *, log_stream: LineSink | None = None) -> None:
        self.config = config
        self._own_log = log_stream is None and config.log_file is not None
        if log_stream is None:
            log_stream = _open_log(config) if config.log_file else sys.stderr
        self.log = NodeLog(log_stream)
        self.metrics = NodeMetrics()
        fork = None
        if config.fork is not None:  # a fork serves the forked chain's id
            from ..client.fork_reader import open_fork

            fork = open_fork(config.fork, height=config.fork_height,
                             trusted_root=config.fork_root)
            config = replace(config, chain_id=fork.chain_id, checkpoint_every=None,
                             checkpoint_ms=None)  # a fork has no state tree to checkpoint
            self.config = config
        # node.json is written once the store has taken the chain id: a store of another
        # chain refuses the start (exit 3) without leaving a new data directory claimed.
        chain_id = resolve_chain_id(config.data_dir, config.chain_id, record=False)
        transports = [name for name, ep in (("http", config.http), ("quic", config.quic),
                                            ("grpc", config.grpc)) if ep]
        from ..chain.checkpoint import CheckpointPolicy

        policy = None
        if config.checkpoint_every is not None or config.checkpoint_ms is not None:
            policy = CheckpointPolicy(config.checkpoint_every, config.checkpoint_ms)
        self._feed = None  # gRPC subscribers' wake-up after each commit
        if config.grpc:
            from .grpc import CommitFeed

            self._feed = CommitFeed()
        observers = (self.metrics, self.log, *([self._feed] if self._feed else []))
        if fork is not None:
            self.core = NodeCore(fork, fork_engines(config.data_dir), chain_id=chain_id,
                                 transports=transports, observers=observers, policy=None)
        else:
            self.core = NodeCore.open(config.data_dir, chain_id=chain_id,
                                      transports=transports, observers=observers,
                                      policy=policy, store=config.store,
                                      history=config.state_history,
                                      history_blocks=config.state_history_blocks)
        try:
            record_chain_id(config.data_dir, chain_id)
        except ConfigError:
            self.core.close()
            raise
        self.metrics.watch(self.core.known_height, self.core.state_keys)
        self.dispatcher = Dispatcher(self.core, limits=config.limits,
                                     observers=(self.metrics, self.log))
        self.pool = ExecutionPool(config.pool)
        self.core.park = self.pool.park
        self.metrics.watch_pool(lambda: self.pool.running, lambda: self.pool.waiting)
        self._stop: asyncio.Event | None = None
        self._http_server: Any = None
        self._tls: Any = None  # the QUIC certificate files, once HTTP/3 listens

    # --- lifecycle ----------------------------------------------------------------------

    async def run(self, ready: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Serve until stop() (or SIGINT, SIGTERM, SIGHUP). `ready` gets the bound addresses."""
        self._stop = asyncio.Event()
        with self.log.capture(asyncio.get_running_loop()):
            await self._run(ready)

    async def _run(self, ready: Callable[[dict[str, Any]], None] | None) -> None:
        assert self._stop is not None
        tasks: list[asyncio.Task] = []
        http_task = None
        quic = None
        grpc_server = None
        watch = None
        try:
            bound: dict[str, Any] = {"chain_id": self.core.chain_id,
                                     "data_dir": str(self.config.data_dir),
                                     "store": self.core.store.location}
            if self.config.http:
                sock = _bind_tcp(self.config.http)
                bound["http"] = str(Endpoint(self.config.http.host, sock.getsockname()[1]))
                http_task = asyncio.create_task(self._serve_http(sock))
                tasks.append(http_task)
            if self.config.quic:
                quic = await self._start_quic(self.config.quic)
                bound["quic"] = str(Endpoint(quic.host, quic.port))
                bound["ca"] = str(self._tls.ca)
            if self.config.grpc:
                grpc_server, port, watch = await self._start_grpc(self.config.grpc)
                bound["grpc"] = str(Endpoint(self.config.grpc.host, port))
                if watch is not None:
                    tasks.append(asyncio.create_task(watch.run()))
            tasks.append(asyncio.create_task(self._ticker()))
            self._install_signals()
            self.log.write("node_started", **bound, height=self.core.height())
            if ready:
                ready(bound)
            await self._stop.wait()
        finally:
            # Nothing new runs; what waits for a worker is refused (503 / UNAVAILABLE).
            self.pool.close()
            if self._http_server is not None:
                self._http_server.should_exit = True
            elif http_task is not None:  # failed before uvicorn started: nothing to drain
                http_task.cancel()
            if quic is not None:
                quic.close()
            if grpc_server is not None:
                from .grpc import stop_grpc

                await stop_grpc(grpc_server, self._feed)
                if watch is not None:
                    watch.close()
            for t in tasks:
                if t is not http_task:  # uvicorn finishes in-flight requests, then returns
                    t.cancel()
            for t in tasks:
                try:
                    await t
                except asyncio.CancelledError:
                    pass
                except Exception as exc:  # a transport died: still close the store below
                    self.log.write("transport_error", error=type(exc).__name__,
                                   message=" ".join(str(exc).split()))
            await self._http_closed()
            running = self.pool.running
            if not self.core.close():
                self.log.write("executions_abandoned", running=running)
            self.log.finish("node_stopped")  # the last line: nothing is written after it
            if self._own_log:
                self.log.stream.close()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    # --- transports ---------------------------------------------------------------------

    async def _serve_http(self, sock: socket.socket) -> None:
        from .http import HttpApp, http_server

        app = HttpApp(self.dispatcher, self.metrics, execute=self.pool.run_from)
        self._http_server = http_server(app, self.metrics, self.log, self.config.http_limits)
        try:
            await self._http_server.serve(sockets=[sock])
        finally:
            self.stop()  # uvicorn exiting on its own (e.g. a fatal error) stops the node

    async def _http_closed(self) -> None:
        """uvicorn returns once its grace is over with the connections it cut still
        closing: their `closed` lines come a turn of the loop later. Let them come before
        `node_stopped` (bounded: CLOSE_OUT)."""
        server = self._http_server
        if server is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_OUT
        while server.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.01)

    async def _start_quic(self, ep: Endpoint):
        try:
            from .quic import QuicLimits, serve_quic
            from .tls import ensure_dev_tls
        except ImportError as exc:
            raise ConfigError(f"QUIC is unavailable in this install: {exc}") from exc
        self._tls = ensure_dev_tls(self.config.data_dir, (ep.host,))
        return await serve_quic(self._handle_async, host=ep.host, port=ep.port, tls=self._tls,
                                limits=QuicLimits(handshakes=self.config.handshakes),
                                observer=self.metrics, max_body=self.dispatcher.max_body,
                                dns=self._dns_async, log=self.log, answers=self.dispatcher)

    async def _dns_async(self, wire: bytes, peer: str) -> bytes:
        """DNS-over-QUIC's entry point: names/dns.answer over the registry, off the loop."""
        from ..names.dns import answer, servfail

        def lookup(label: str):
            return self.core.resolve_name(label, now=time.time())

        try:
            return await self.pool.run_from(peer, answer, wire, lookup)
        except NodeUnavailableError:  # busy or stopping: nothing ran, as HTTP's 503
            return servfail(wire)

    async def _start_grpc(self, ep: Endpoint):
        try:
            from .grpc import CallsRunning, ConnectionWatch, serve_grpc
        except ImportError as exc:
            raise ConfigError(f"gRPC is unavailable in this install: {exc}") from exc
        calls = CallsRunning()
        server, port, server_id = await serve_grpc(
            self.core, self._feed, ep, max_body=self.dispatcher.max_body,
            observers=(self.metrics, self.log), run=self.pool.run_from, calls=calls)
        watch = None if server_id is None else ConnectionWatch(
            server_id, self.metrics, self.log, calls=calls, port=port)
        return server, port, watch

    async def _handle_async(self, body: bytes, peer: str) -> bytes:
        """The HTTP/3 adapter's entry point: the same dispatcher, in the execution pool."""
        return await self.pool.run_from(peer, self.dispatcher.handle, body, peer=peer,
                                        now=time.time())

    async def _ticker(self) -> None:
        policy = self.core.policy
        if policy is None or policy.every_ms is None:
            return
        interval = min(MAX_TICK, policy.every_ms / 1000)
        while True:
            await asyncio.sleep(interval)
            try:  # the core tells a failed checkpoint itself; this catches a bug
                await asyncio.to_thread(self.core.tick, time.time())
            except Exception as exc:  # the timer goes on: the next tick tries again
                self.log.internal_error("checkpoint_tick", exc)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        # SIGHUP (its terminal closed) stops it as the others do, as it ends any ghost
        # command (cli/main.py), unless it is ignored (`nohup ghost node start`).
        hangup = getattr(signal, "SIGHUP", None)
        keep_up = hangup is None or signal.getsignal(hangup) == signal.SIG_IGN
        for sig in (signal.SIGINT, signal.SIGTERM, *(() if keep_up else (hangup,))):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stop)


def fork_engines(data_dir: Path):
    """The engines a fork node runs with: the defaults, modules cached in its data dir."""
    from ..vm.engines import default_engines
    from ..vm.types import Limits
    from .core import MODULE_CACHE_DIR

    return default_engines(Limits(), Path(data_dir) / MODULE_CACHE_DIR)


def _bind_tcp(ep: Endpoint) -> socket.socket:
    family = socket.AF_INET6 if ":" in ep.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ep.host, ep.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen for HTTP on {ep}: {exc.strerror or exc}") from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _open_log(config: NodeConfig) -> LogFile:
    assert config.log_file is not None
    try:
        config.log_file.parent.mkdir(parents=True, exist_ok=True)
        return LogFile(config.log_file)
    except OSError as exc:
        raise ConfigError(f"cannot open log file {config.log_file}: {exc.strerror or exc}") from exc


def run_node(config: NodeConfig, ready: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Open, serve until SIGINT, SIGTERM or SIGHUP, close. Blocks."""
    service = NodeService(config)
    asyncio.run(service.run(ready))
