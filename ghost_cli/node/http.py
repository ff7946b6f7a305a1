"""HTTP/1.1 for the node: a plain ASGI app that uvicorn serves. No HTTP parsing here.

    POST /         application/json -> the JSON-RPC dispatcher (in a worker thread: it
                   runs contracts and waits for fsync)
    GET  /metrics  Prometheus text exposition
    GET  /health   {"ok": true, "height": N}

A body over the limit is refused from its Content-Length before a byte of it is read
(or, without one, as soon as the chunks received pass the limit) with 413 and a JSON-RPC
`too_large` error; the connection is then closed rather than drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..rpc import Dispatcher
from .logging import NodeLog
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import NodeMetrics

TRANSPORT = "http"
JSON = b"application/json"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class HttpApp:
    def __init__(self, dispatcher: Dispatcher, metrics: NodeMetrics, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/":
            if method != "POST":
                await _reply(send, 405, b'{"error":"POST JSON-RPC requests to /"}',
                             extra=[(b"allow", b"POST")])
                return
            self.metrics.stream_opened(TRANSPORT)
            try:
                await self._rpc(scope, receive, send)
            finally:
                self.metrics.stream_closed(TRANSPORT)
        elif path == "/metrics" and method == "GET":
            # Scraping reads height and state size under the store's lock: off the loop.
            body = await asyncio.to_thread(self.metrics.render)
            await _reply(send, 200, body, METRICS_CONTENT_TYPE.encode())
        elif path == "/health" and method == "GET":
            health = await asyncio.to_thread(self.dispatcher.core.health)
            await _reply(send, 200, json.dumps(health).encode())
        else:
            await _reply(send, 404, b'{"error":"not found"}')

    async def _rpc(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        peer = _peer(scope)
        limit = self.dispatcher.max_body
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != JSON:
            await _reply(send, 415, b'{"error":"Content-Type must be application/json"}')
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._too_large(send, int(length), peer)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # chunked upload: stop reading as soon as it is too big
                await self._too_large(send, None, peer)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        out = await asyncio.to_thread(self.dispatcher.handle, body, peer=peer, now=self.clock())
        if out:
            await _reply(send, 200, out)
        else:  # only notifications: nothing to say
            await _reply(send, 204, b"", content_type=None)

    async def _too_large(self, send: Send, size: int | None, peer: str) -> None:
        await _reply(send, 413, self.dispatcher.too_large(size, peer=peer),
                     extra=[(b"connection", b"close")])


def protocol_class(metrics: NodeMetrics, log: NodeLog) -> type[H11Protocol]:
    """uvicorn's h11 protocol, reporting connections to the node's metrics and log.
    (ASGI has no connection events; uvicorn's `http=` setting takes a protocol class.)"""

    class Protocol(H11Protocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # uvicorn writes a response's headers and body separately; without NODELAY,
            # Nagle holds the body for the client's delayed ACK (~40 ms per request on a
            # kept-alive connection). asyncio sets it only for sockets it created itself.
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._ghost_peer = _format_peer(transport.get_extra_info("peername"))
            metrics.connection_opened(TRANSPORT)
            log.connection(TRANSPORT, self._ghost_peer, "open")

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            metrics.connection_closed(TRANSPORT)
            log.connection(TRANSPORT, getattr(self, "_ghost_peer", "?"), "closed")

    return Protocol


class HttpServer(uvicorn.Server):
    """uvicorn's server without its own signal capture: the node owns SIGINT/SIGTERM, so
    it stops every transport and closes the store before the process exits."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def http_server(app: HttpApp, metrics: NodeMetrics, log: NodeLog) -> HttpServer:
    return HttpServer(uvicorn.Config(
        app, http=protocol_class(metrics, log), lifespan="off", log_config=None,
        access_log=False, server_header=False, timeout_graceful_shutdown=5,
    ))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _reply(send: Send, status: int, body: bytes, content_type: bytes | None = JSON,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    # A 204 carries no body and, per RFC 9110, no Content-Length.
    headers = [] if status == 204 else [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _peer(scope: Scope) -> str:
    return _format_peer(scope.get("client"))


def _format_peer(addr: Any) -> str:
    if not addr:
        return "unknown"
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
