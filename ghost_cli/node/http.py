"""HTTP/1.1 for the node: a plain ASGI app that uvicorn serves. No HTTP parsing here.

    POST /         application/json -> the JSON-RPC dispatcher, in the node's execution
                   pool (node/pool.py: it runs contracts and waits for fsync); a full
                   pool is 503 with the JSON-RPC `busy` error
    GET  /metrics  Prometheus text exposition
    GET  /health   {"ok": true, "height": N}, from memory on the event loop: it answers
                   while every execution worker is busy

A body over the limit is refused from its Content-Length before a byte of it is read
(or, without one, as soon as the chunks received pass the limit) with 413 and a JSON-RPC
`too_large` error; the connection is then closed rather than drained.

uvicorn bounds header size (h11) and idle kept-alive connections, but has neither a
connection cap nor a deadline for a request to arrive, so the protocol class here adds
both (HttpLimits): past `max_connections`, a new connection closes the oldest one that
is only waiting (idle, or still sending its request) - or is itself closed when every
connection has a request running - and a request that has not arrived whole within
`request_timeout` of its connection opening (or of the previous response) has its
connection closed. A slow client thus holds a connection for seconds, never the node.
So does one that stops reading its answers (10 s once the socket's buffers are full;
evicted first at the cap). A request's head is bounded however it arrives, pipelined
included, and a pipelining client is read at most `max_read_ahead` bytes ahead of the
request being answered (uvicorn resumes reading at every turn, so h11 would otherwise
hold all it sends).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..exceptions import GhostError, NodeUnavailableError
from ..rpc import Dispatcher
from .config import HttpLimits
from .logging import NodeLog
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import NodeMetrics
from .pool import in_thread

TRANSPORT = "http"
JSON = b"application/json"
DEFAULT_LIMITS = HttpLimits()

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
#: Runs the dispatcher off the event loop for a peer: the node's ExecutionPool.run_from.
Execute = Callable[..., Awaitable[bytes]]


class HttpApp:
    def __init__(self, dispatcher: Dispatcher, metrics: NodeMetrics, *,
                 clock: Callable[[], float] = time.time, execute: Execute | None = None
                 ) -> None:
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.clock = clock
        self.execute = execute or in_thread

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
            try:
                await _reply(send, 200, json.dumps(self.dispatcher.core.health()).encode())
            except GhostError as exc:  # the database is away: a load balancer's cue
                await _reply(send, 503, json.dumps({"ok": False, "error": exc.to_json()}
                                                   ).encode())
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
        try:
            out = await self.execute(peer, self.dispatcher.handle, body, peer=peer,
                                     now=self.clock())
        except NodeUnavailableError as exc:  # busy, or stopping: nothing ran
            await _reply(send, 503, self.dispatcher.refused(exc, peer=peer),
                         extra=[(b"retry-after", b"1")])
            return
        except Exception as exc:  # a bug: a logged JSON-RPC error, never a bare 500 page
            await _reply(send, 500, self.dispatcher.failed(exc))
            return
        if out:
            await _reply(send, 200, out)
        else:  # only notifications: nothing to say
            await _reply(send, 204, b"", content_type=None)

    async def _too_large(self, send: Send, size: int | None, peer: str) -> None:
        await _reply(send, 413, self.dispatcher.too_large(size, peer=peer),
                     extra=[(b"connection", b"close")])


#: h11 states of a connection's peer while its request is not yet whole.
_ARRIVING = (h11.IDLE, h11.SEND_BODY)
#: The blank line that ends a request's head, as h11 finds it.
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_HEAD_TOO_LARGE = b"request line and headers over the limit"


class _ReadAhead(FlowControl):
    """uvicorn's flow control, which resumes reading each time a request asks for its
    body and after each response, so a client that pipelines gets every byte it sends
    read and held (h11 buffers what follows the request being answered): here reading
    resumes only while what is held is within `most` bytes."""

    def __init__(self, transport, held: Callable[[], int], most: int) -> None:
        super().__init__(transport)
        self._held, self._most = held, most

    def resume_reading(self) -> None:
        if self._held() <= self._most:
            super().resume_reading()


def protocol_class(metrics: NodeMetrics, log: NodeLog,
                   limits: HttpLimits = DEFAULT_LIMITS) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the node's connection cap and request deadline,
    reporting connections to the node's metrics and log. (ASGI has no connection
    events; uvicorn's `http=` setting takes a protocol class.)"""
    # Every open connection, oldest first: the eviction order at the cap.
    open_: dict[Protocol, None] = {}

    class Protocol(H11Protocol):
        _ghost_deadline: asyncio.TimerHandle | None = None
        _ghost_unread: asyncio.TimerHandle | None = None  # while writing is paused
        _ghost_counted = False

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.flow = _ReadAhead(transport, self._ghost_held, limits.max_read_ahead)
            self._ghost_peer = _format_peer(transport.get_extra_info("peername"))
            if len(open_) >= limits.max_connections and not self._ghost_make_room():
                log.connection(TRANSPORT, self._ghost_peer, "refused",
                               reason="too many connections")
                transport.abort()
                return
            # uvicorn writes a response's headers and body separately; without NODELAY,
            # Nagle holds the body for the client's delayed ACK (~40 ms per request on a
            # kept-alive connection). asyncio sets it only for sockets it created itself.
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            open_[self] = None
            self._ghost_counted = True
            metrics.connection_opened(TRANSPORT)
            log.connection(TRANSPORT, self._ghost_peer, "open")
            self._ghost_arm()

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            self._ghost_disarm()
            self._ghost_read_again()
            if self._ghost_counted:
                self._ghost_counted = False
                open_.pop(self, None)
                metrics.connection_closed(TRANSPORT)
                log.connection(TRANSPORT, self._ghost_peer, "closed")

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return
            super().data_received(data)
            if self.conn.their_state not in _ARRIVING:
                self._ghost_disarm()  # the request is whole: it runs without a deadline

        def handle_events(self) -> None:
            # Each call parses at most one new request (a pipelined one waits for the
            # answer before it): its head is measured first, whether it arrived byte by
            # byte, whole in one read, or pipelined behind an earlier request.
            if self.conn.their_state is h11.IDLE and self._ghost_head_too_large():
                return
            super().handle_events()
            if self._ghost_held() > limits.max_read_ahead:
                self.flow.pause_reading()  # ReadAhead keeps it paused until answered

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._ghost_arm()  # the next request on this connection gets its own

        def pause_writing(self) -> None:
            # The client has stopped reading what the node writes (the socket's buffers
            # are full): the answer waits, and the connection with it, for as long as the
            # client likes. It gets the request deadline to read again, and until then
            # it is only waiting (evicted first at the cap), though its request has run.
            super().pause_writing()
            if self._ghost_unread is None and not self.transport.is_closing():
                self._ghost_unread = self.loop.call_later(limits.request_timeout,
                                                          self._ghost_not_read)

        def resume_writing(self) -> None:
            super().resume_writing()
            self._ghost_read_again()

        def _ghost_read_again(self) -> None:
            if self._ghost_unread is not None:
                self._ghost_unread.cancel()
                self._ghost_unread = None

        def _ghost_not_read(self) -> None:
            self._ghost_unread = None
            if not self.transport.is_closing():
                self._ghost_close("timeout", "answer not read within "
                                  f"{limits.request_timeout:g} s")

        def _ghost_held(self) -> int:
            """Bytes h11 holds unparsed: pipelined requests, or a head still arriving."""
            return len(self.conn.trailing_data[0])

        def _ghost_head_too_large(self) -> bool:
            """Bound a request's head however its bytes arrive: h11's own bound holds only
            while the head is incomplete, so one whole in a single read was never measured."""
            if self.transport.is_closing():
                return True
            head = self.conn.trailing_data[0][:limits.max_header_bytes + 4]
            end = _END_OF_HEAD.search(head)
            if (end.end() if end else len(head)) <= limits.max_header_bytes:
                return False
            self.transport.write(
                b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                % (len(_HEAD_TOO_LARGE), _HEAD_TOO_LARGE))
            self.transport.close()
            return True

        def _ghost_waiting(self) -> bool:
            """Only waiting for the client: idle, its request still arriving (once it is
            whole, h11 says DONE until the response is sent), or its answer written and
            not being read."""
            return self.conn.their_state in _ARRIVING or self._ghost_unread is not None

        def _ghost_make_room(self) -> bool:
            for other in open_:
                if other._ghost_waiting():
                    other._ghost_close("evicted", "connection cap reached")
                    return True
            return False

        def _ghost_arm(self) -> None:
            self._ghost_disarm()
            self._ghost_deadline = self.loop.call_later(limits.request_timeout,
                                                        self._ghost_expire)

        def _ghost_disarm(self) -> None:
            if self._ghost_deadline is not None:
                self._ghost_deadline.cancel()
                self._ghost_deadline = None

        def _ghost_expire(self) -> None:
            self._ghost_deadline = None
            if self._ghost_waiting() and not self.transport.is_closing():
                self._ghost_close("timeout",
                                  f"no whole request within {limits.request_timeout:g} s")

        def _ghost_close(self, state: str, reason: str) -> None:
            log.connection(TRANSPORT, self._ghost_peer, state, reason=reason)
            open_.pop(self, None)  # counted as closed once connection_lost runs
            self.transport.abort()

    return Protocol


class HttpServer(uvicorn.Server):
    """uvicorn's server without its own signal capture: the node owns SIGINT/SIGTERM, so
    it stops every transport and closes the store before the process exits."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


#: Seconds requests in flight get to finish when the node stops; executions still
#: running then are abandoned (node/pool.py).
STOP_GRACE = 2


def http_server(app: HttpApp, metrics: NodeMetrics, log: NodeLog,
                limits: HttpLimits = DEFAULT_LIMITS) -> HttpServer:
    return HttpServer(uvicorn.Config(
        app, http=protocol_class(metrics, log, limits), lifespan="off", log_config=None,
        access_log=False, server_header=False, timeout_graceful_shutdown=STOP_GRACE,
        # The peer is the socket's: no X-Forwarded-For from anyone (uvicorn trusts it
        # from 127.0.0.1 by default, and parses the client's address on every request).
        proxy_headers=False,
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.max_header_bytes,
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
