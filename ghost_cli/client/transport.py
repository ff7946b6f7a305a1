"""How a JSON-RPC body reaches a node: HTTP/3 over one pooled QUIC connection, or HTTP/1.1.

Both transports have one method, `post(body, idempotent=...) -> bytes`, so the client
above them never knows which it has (httpx's habit: swappable transports), and the URL's
scheme picks one in one place (`open_transport`, like httpx's mounts).

`Http3Transport` keeps ONE QUIC connection per node and sends every request on a new
stream of it, so concurrent requests are multiplexed instead of queued. A connection
that has gone away (idle timeout, node restart) is replaced on the next request. What
happens to a request that was in flight when a connection broke depends on what it was:
a read (`idempotent=True`) is sent again on a new connection; a transaction is not,
because the node may have applied it, and the caller is told so.

Liveness is QUIC's own: a connection is lost when nothing came from the node for the
idle timeout, or at once when the network says nobody listens (ICMP port unreachable, on
the connected UDP socket). While requests are outstanding and the node is silent, PINGs
keep a busy node's connection alive (its ACKs reset the idle timer): a node slow to
answer under load is waited for, not abandoned.

Third-party errors (aioquic, httpx, sockets) become NodeUnavailableError here: its
RequestNotSentError when nothing reached the node, AnswerLostError when it may have.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import socket
import ssl
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from .. import datagrams
from ..config.defaults import check_transport
from ..exceptions import (
    AnswerLostError,
    RequestNotSentError,
    UsageError,
)

DEFAULT_TIMEOUT = 30.0  # seconds for one request, connecting included
CONNECT_TIMEOUT = 10.0  # a busy node may take seconds; a stopped one is reported at once (ICMP)
#: A request the node refused unread (busy, over its stream limit), or a read whose
#: connection broke, is sent again this many times (refusals after a short pause).
RETRIES = 5
#: Our QUIC idle timeout (QUIC uses the smaller of ours and the node's): nothing from the
#: node for this long ends the connection, and with it the requests waiting on it.
IDLE_TIMEOUT = 15.0
#: Silence, while requests are outstanding, after which a PING asks the node for an ACK.
KEEPALIVE = IDLE_TIMEOUT / 3
#: A connection this close to its idle deadline takes no new request: a new connection
#: does (the node's side may have timed out already).
IDLE_MARGIN = 1.0
#: Appended to "cannot reach the node" when nothing answers at all.
START_HINT = "is a node running there? Start one with `ghost node start --data-dir DIR`"


@dataclass(frozen=True)
class TransportStats:
    """What a transport has done so far, for tests and the benchmark."""

    connections_opened: int | None  # QUIC handshakes; None where the library hides it
    requests: int
    peak_streams: int  # most requests in flight on one connection at once
    retries: int


class Transport(Protocol):
    url: str

    async def post(self, body: bytes, *, idempotent: bool) -> bytes: ...
    async def aclose(self) -> None: ...
    def stats(self) -> TransportStats: ...


# ---- QUIC, shared by HTTP/3 and DNS over QUIC ------------------------------------------


class _Lost(Exception):
    """The connection ended after the request left and before the response came."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    """The node reset the stream without processing the request: safe to send again."""


def _retrieved(future: asyncio.Future) -> None:
    """Done-callback: mark an exception as seen. A request whose caller gave up (timeout,
    cancellation) still gets its future failed when the connection ends; without this
    asyncio logs "Future exception was never retrieved" for each."""
    if not future.cancelled():
        future.exception()


_PING_IDS = itertools.count(1)


@functools.cache
def _client_protocol():
    # aioquic is imported on first use: `ghost --help` and sandbox commands never load it.
    import logging

    from aioquic.asyncio import QuicConnectionProtocol

    # aioquic logs a failed handshake itself ("[id] Error: 298, reason: ..."), which
    # Python's last-resort handler prints to stderr; the caller gets the same failure as
    # one NodeUnavailableError. A handler of the application's (a node's) still sees it.
    logging.getLogger("quic").addHandler(logging.NullHandler())
    from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted

    class ClientProtocol(QuicConnectionProtocol):
        """One client connection: the handshake as a future of its own, requests waiting
        on their streams (all failed together when the connection ends), and liveness by
        QUIC's idle timeout with keep-alive PINGs while requests are outstanding.
        Subclasses handle their streams' events in `stream_event`."""

        def __init__(self, quic) -> None:
            super().__init__(quic)
            self.quic = quic
            self.loop = asyncio.get_running_loop()
            self.handshake = self.loop.create_future()
            self.handshake.add_done_callback(_retrieved)
            self.waiting: dict[int, asyncio.Future] = {}
            self.terminated: str | None = None
            self.peak = 0
            self.last_rx = self.loop.time()
            self._keepalive: asyncio.TimerHandle | None = None
            self._sock = None
            self._reading = False

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._sock = datagrams.duplicate(transport)

        def connection_lost(self, exc) -> None:
            super().connection_lost(exc)
            if self._sock is not None:
                self._sock.close()
                self._sock = None

        def usable(self) -> bool:
            """Open, and not at (or within a second of) its idle timeout: a connection
            left idle while no loop ran (the sync client between calls) has timed out on
            the node's side although its own timer has not fired yet, and a request put
            on it would wait for that timer instead of going out on a new connection."""
            if self.terminated is not None:
                return False
            # QUIC's idle timeout is the smaller of ours and the node's: ours or sooner.
            return self.loop.time() - self.last_rx < IDLE_TIMEOUT - IDLE_MARGIN

        def wait_for_stream(self, stream_id: int) -> asyncio.Future:
            """A future for the answer on `stream_id`, failed if the connection ends."""
            future = self.loop.create_future()
            future.add_done_callback(_retrieved)
            self.waiting[stream_id] = future
            self.peak = max(self.peak, len(self.waiting))
            if self._keepalive is None:
                self._keepalive = self.loop.call_later(KEEPALIVE, self._keep_alive)
            return future

        def _keep_alive(self) -> None:
            self._keepalive = None
            if self.terminated is not None or not self.waiting:
                return
            if self.loop.time() - self.last_rx >= KEEPALIVE:
                self.quic.send_ping(next(_PING_IDS))  # its ACK resets the idle timer
                self.transmit()
            self._keepalive = self.loop.call_later(KEEPALIVE, self._keep_alive)

        def datagram_received(self, data, addr) -> None:
            self.last_rx = self.loop.time()
            if self._reading or self._sock is None:
                super().datagram_received(data, addr)
                return
            # Every datagram already waiting is read before one transmit for them all
            # (ghost_cli/datagrams.py says why).
            self._reading = True
            try:
                super().datagram_received(data, addr)
                datagrams.read_waiting(self._sock, self.datagram_received,
                                       self.error_received)
            finally:
                self._reading = False
            self.transmit()

        def transmit(self) -> None:
            if not self._reading:  # else once the waiting datagrams are read
                super().transmit()

        def quic_event_received(self, event) -> None:
            if isinstance(event, HandshakeCompleted):
                if not self.handshake.done():
                    self.handshake.set_result(None)
            elif isinstance(event, ConnectionTerminated):
                self.end(event.reason_phrase or f"error {event.error_code}")
            else:
                self.stream_event(event)

        def stream_event(self, event) -> None:
            raise NotImplementedError

        def fail(self, stream_id: int, exc: Exception) -> None:
            future = self.waiting.get(stream_id)
            if future is not None and not future.done():
                future.set_exception(exc)

        def end(self, reason: str) -> None:
            """The connection is over: fail the handshake and every request waiting."""
            if self.terminated is not None:
                return
            self.terminated = reason
            if self._keepalive is not None:
                self._keepalive.cancel()
                self._keepalive = None
            if not self.handshake.done():
                self.handshake.set_exception(ConnectionError(reason))
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(_Lost(reason))

        def error_received(self, exc: OSError) -> None:
            # ICMP "port unreachable" on the connected socket: nobody listens there (a node
            # not running, or gone). Fail now, not at the handshake or idle timeout. A
            # request in flight may still have reached the node before it went away.
            if self.terminated is None:
                self.end(exc.strerror or str(exc))
                self.close()

    return ClientProtocol


@functools.cache
def _h3_client_protocol():
    from aioquic.h3.connection import ErrorCode, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.events import StreamReset

    # Resets that mean "not processed, try again" (RFC 9114 §4.1.1, §8.1).
    retryable = {ErrorCode.H3_REQUEST_REJECTED, ErrorCode.H3_EXCESSIVE_LOAD}

    class H3ClientProtocol(_client_protocol()):
        def __init__(self, quic) -> None:
            super().__init__(quic)
            self._h3 = H3Connection(quic)
            self._responses: dict[int, tuple[bytearray, list[int]]] = {}

        async def request(self, headers: list, body: bytes) -> tuple[int, bytes]:
            stream_id = self.quic.get_next_available_stream_id()
            future = self.wait_for_stream(stream_id)
            self._responses[stream_id] = (bytearray(), [0])
            self._h3.send_headers(stream_id, headers)
            self._h3.send_data(stream_id, body, end_stream=True)
            self.transmit()
            try:
                return await future
            except asyncio.CancelledError:  # timed out: tell the node to stop
                if self.terminated is None:  # the request was sent whole: stop the reply
                    self.quic.stop_stream(stream_id, ErrorCode.H3_REQUEST_CANCELLED)
                    self.transmit()
                raise
            finally:
                self.waiting.pop(stream_id, None)
                self._responses.pop(stream_id, None)

        def stream_event(self, event) -> None:
            if isinstance(event, StreamReset) and event.stream_id in self.waiting:
                self.fail(event.stream_id,
                          _Refused() if event.error_code in retryable
                          else _Lost(f"stream reset by the node (code {event.error_code:#x})"))
            for h3_event in self._h3.handle_event(event):
                stream_id = getattr(h3_event, "stream_id", None)
                if stream_id not in self._responses:
                    continue
                body, status = self._responses[stream_id]
                if isinstance(h3_event, HeadersReceived):
                    status[0] = int(dict(h3_event.headers).get(b":status", b"0"))
                elif isinstance(h3_event, DataReceived):
                    body += h3_event.data
                future = self.waiting[stream_id]
                if getattr(h3_event, "stream_ended", False) and not future.done():
                    future.set_result((status[0], bytes(body)))

    return H3ClientProtocol


class _PooledQuic:
    """ONE QUIC connection to a node, reused while it is usable and replaced when it has
    gone away; concurrent first users share one handshake. Subclasses say how to open it."""

    url: str
    host: str
    port: int
    ca_pem: bytes | None
    connect_timeout: float

    def __init__(self) -> None:
        self._protocol = None
        self._transport = None
        self._connecting: asyncio.Lock | None = None
        self.opened = 0

    alpn: list[str]

    def _protocol_class(self):
        raise NotImplementedError

    async def _connection(self):
        protocol = self._protocol
        # Judged before the loop runs: datagrams that waited in the socket while no loop
        # ran (the sync client between calls) would move the idle deadline as if they had
        # just come, onto a connection the node has already timed out.
        if protocol is not None and protocol.usable():
            # Two turns of the loop run what came due while no loop ran: an idle timeout,
            # or the CONNECTION_CLOSE of a node that restarted since.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            # Another request may have replaced (or dropped) it meanwhile.
            if protocol is self._protocol and protocol.usable():
                return protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and self._protocol.usable():
                return self._protocol
            await self._drop()
            self._protocol, self._transport = await open_quic(
                self.url, self.host, self.port, alpn=self.alpn, ca_pem=self.ca_pem,
                protocol_class=self._protocol_class(), connect_timeout=self.connect_timeout)
            self.opened += 1
            return self._protocol

    async def _drop(self) -> None:
        if self._protocol is not None:
            self._protocol.close()
            self._transport.close()
            self._protocol = self._transport = None

    async def aclose(self) -> None:
        if self._protocol is not None and self._protocol.terminated is None:
            self._protocol.close()
            try:
                await asyncio.wait_for(self._protocol.wait_closed(), 1.0)
            except TimeoutError:
                pass
        await self._drop()


#: What an AnswerLostError of a write (a transaction) ends with, on either transport.
MAYBE_APPLIED = "; the transaction may have been applied: look it up with `ghost receipt`"


class Http3Transport(_PooledQuic):
    """JSON-RPC over HTTP/3 to `quic://host:port`, trusting the CA in `ca_pem` only."""

    def __init__(self, url: str, *, ca_pem: bytes | None, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        parts = split_url(url)
        if parts.scheme != "quic" or not parts.hostname or not parts.port:
            raise UsageError(f"{url!r} is not a QUIC URL like quic://127.0.0.1:8443")
        super().__init__()
        self.url = url
        self.alpn = ["h3"]  # aioquic's H3_ALPN, without importing aioquic yet
        self.host, self.port = parts.hostname, parts.port
        self.ca_pem = ca_pem
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self._requests = self._retries = self._peak = 0
        authority = f"[{self.host}]" if ":" in self.host else self.host
        self._authority = f"{authority}:{self.port}".encode()

    def _protocol_class(self):
        return _h3_client_protocol()

    def stats(self) -> TransportStats:
        peak = max(self._peak, self._protocol.peak if self._protocol else 0)
        return TransportStats(self.opened, self._requests, peak, self._retries)

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        self._requests += 1
        headers = [(b":method", b"POST"), (b":scheme", b"https"),
                   (b":authority", self._authority), (b":path", b"/"),
                   (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        maybe_applied = MAYBE_APPLIED
        attempt = 0
        while True:
            attempt += 1
            protocol = await self._connection()
            try:
                status, data = await asyncio.wait_for(protocol.request(headers, body),
                                                      self.timeout)
                return _checked(self.url, status, data)
            except _Refused:
                if attempt > RETRIES:
                    raise RequestNotSentError(
                        f"{self.url} refused the request {attempt} times: the node is busy"
                    ) from None
                await asyncio.sleep(0.01 * 2**attempt)
            except _Lost as exc:
                if not idempotent:
                    raise AnswerLostError(
                        f"connection to {self.url} lost before the node answered "
                        f"({exc.reason}){maybe_applied}") from None
                if attempt > RETRIES:
                    raise AnswerLostError(
                        f"cannot reach the node at {self.url}: {exc.reason}") from None
            except TimeoutError:
                raise AnswerLostError(
                    f"{self.url} did not answer within {self.timeout:g} s"
                    + ("" if idempotent else maybe_applied)) from None
            self._retries += 1

    async def _drop(self) -> None:
        if self._protocol is not None:
            self._peak = max(self._peak, self._protocol.peak)
        await super()._drop()


async def open_quic(url: str, host: str, port: int, *, alpn: list[str], ca_pem: bytes | None,
                    protocol_class, connect_timeout: float):
    """One QUIC connection to host:port with `alpn`, trusting `ca_pem` only: (protocol,
    datagram transport). RequestNotSentError when it cannot be made. The UDP socket is
    connected, so a port nobody listens on is reported by the network at once."""
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection

    config = QuicConfiguration(is_client=True, alpn_protocols=alpn,
                               idle_timeout=IDLE_TIMEOUT, server_name=host)
    if ca_pem is not None:
        config.load_verify_locations(cadata=ca_pem)
    config.verify_mode = ssl.CERT_REQUIRED
    loop = asyncio.get_running_loop()

    def unreachable(reason: str, hint: str = START_HINT) -> RequestNotSentError:
        return RequestNotSentError(f"cannot reach the node at {url}: {reason}: {hint}")

    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, *_, addr = infos[0]
        # asyncio takes (host, port) only: an IPv6 address comes with flow and scope too.
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: protocol_class(QuicConnection(configuration=config)),
            remote_addr=addr[:2], family=family)
    except OSError as exc:
        raise unreachable(exc.strerror or str(exc), "check the network's url") from None
    protocol.connect(addr)
    await asyncio.wait({protocol.handshake}, timeout=connect_timeout)
    if protocol.handshake.done() and protocol.handshake.exception() is None:
        return protocol, transport
    reason = protocol.terminated or f"no QUIC handshake within {connect_timeout:g} s"
    protocol.close()
    transport.close()
    if "certificate" in reason.lower():
        raise unreachable(reason, "is --ca the node's DATA_DIR/tls/ca.pem?")
    raise unreachable(reason)


# ---- DNS over QUIC --------------------------------------------------------------------


@functools.cache
def _doq_client_protocol():
    from aioquic.quic.events import StreamDataReceived, StreamReset

    class DoqClientProtocol(_client_protocol()):
        """RFC 9250 client: each query on a new stream, its answer read to the FIN."""

        def __init__(self, quic) -> None:
            super().__init__(quic)
            self._answers: dict[int, bytearray] = {}

        async def query(self, wire: bytes) -> bytes:
            stream_id = self.quic.get_next_available_stream_id()
            future = self.wait_for_stream(stream_id)
            self._answers[stream_id] = bytearray()
            self.quic.send_stream_data(stream_id, len(wire).to_bytes(2, "big") + wire,
                                       end_stream=True)
            self.transmit()
            try:
                return await future
            finally:
                self.waiting.pop(stream_id, None)
                self._answers.pop(stream_id, None)

        def stream_event(self, event) -> None:
            if isinstance(event, StreamReset):
                self.fail(event.stream_id, _Lost(f"query refused (code {event.error_code})"))
            elif isinstance(event, StreamDataReceived) and event.stream_id in self._answers:
                data = self._answers[event.stream_id]
                data += event.data
                size = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                if size is not None and len(data) > 2 + size:  # never held past one message
                    self.fail(event.stream_id, _Lost("malformed DoQ answer"))
                elif event.end_stream:
                    if size is not None and len(data) == 2 + size:
                        future = self.waiting[event.stream_id]
                        if not future.done():
                            future.set_result(bytes(data[2:]))
                    else:
                        self.fail(event.stream_id, _Lost("malformed DoQ answer"))

    return DoqClientProtocol


class DoqResolver(_PooledQuic):
    """DNS over QUIC to a node's QUIC port: ONE pooled connection (ALPN `doq`), one stream
    per query, replaced when it has gone away; queries are idempotent, so a query whose
    connection broke is sent again."""

    alpn = ["doq"]

    def __init__(self, host: str, port: int, *, ca_pem: bytes | None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT):
        super().__init__()
        self.host, self.port, self.ca_pem = host, port, ca_pem
        self.url = f"doq://{host}:{port}"
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.queries = 0

    def _protocol_class(self):
        return _doq_client_protocol()

    async def query(self, wire: bytes) -> bytes:
        self.queries += 1
        for attempt in range(1, RETRIES + 2):
            protocol = await self._connection()
            try:
                return await asyncio.wait_for(protocol.query(wire), self.timeout)
            except _Lost as exc:
                if attempt > RETRIES or protocol.terminated is None:
                    raise AnswerLostError(f"{self.url}: {exc.reason}") from None
            except TimeoutError:
                raise AnswerLostError(
                    f"{self.url} did not answer within {self.timeout:g} s") from None
        raise AssertionError("unreachable")


# ---- HTTP/1.1 -------------------------------------------------------------------------


class HttpTransport:
    """JSON-RPC over HTTP/1.1 (`http://` or `https://`), keep-alive pooled by httpx."""

    def __init__(self, url: str, *, ca_pem: bytes | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_connections: int = 100) -> None:
        import httpx

        parts = split_url(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url!r} is not an HTTP URL like http://127.0.0.1:8545")
        verify: ssl.SSLContext | bool = True
        if ca_pem is not None and parts.scheme == "https":
            verify = ssl.create_default_context(cadata=ca_pem.decode("ascii", "replace"))
        self.url = url
        self.timeout = timeout
        self._requests = self._in_flight = self._peak = self._retries = 0
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT), verify=verify,
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections),
            headers={"content-type": "application/json"},
        )

    def stats(self) -> TransportStats:
        return TransportStats(None, self._requests, self._peak, self._retries)

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        import httpx

        self._requests += 1
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            for attempt in range(1, RETRIES + 2):
                try:
                    response = await self._client.post(self.url, content=body)
                    break
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    # No connection (or no free one): the request never left.
                    raise RequestNotSentError(f"cannot reach the node at {self.url}: "
                                              f"{_first_line(exc)}: {START_HINT}") from None
                except httpx.TimeoutException:
                    raise AnswerLostError(
                        f"{self.url} did not answer within {self.timeout:g} s"
                        + ("" if idempotent else MAYBE_APPLIED)) from None
                except httpx.HTTPError as exc:
                    # The connection broke under the request (a kept-alive one the node
                    # closed, a restart): a read is sent again on a new one, as over QUIC.
                    if not idempotent or attempt > RETRIES:
                        raise AnswerLostError(
                            f"cannot reach the node at {self.url}: {_first_line(exc)}"
                            + ("" if idempotent else MAYBE_APPLIED)) from None
                    self._retries += 1
                    await asyncio.sleep(0.01 * 2**attempt)
        finally:
            self._in_flight -= 1
        return _checked(self.url, response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


# ---- one place where a URL picks its transport ---------------------------------------

#: Transport names (`--transport`, GhostClient(transport=...)) and the URL schemes each
#: serves; a URL's scheme picks the class (httpx's mounts, by scheme).
TRANSPORTS: dict[str, tuple[str, ...]] = {"quic": ("quic",), "http": ("http", "https")}
_MOUNTS: dict[str, type] = {"quic": Http3Transport, "http": HttpTransport,
                            "https": HttpTransport}


def split_url(url: str):
    """`urlsplit(url)`, its port read: a URL Python cannot take apart (`http://[::1`, a
    port past 65535 or not a number) is a UsageError naming it, never a ValueError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError as exc:
        raise UsageError(f"{url!r} is not a valid URL ({exc})") from None
    return parts


def transport_name(url: str) -> str:
    """"quic" or "http": the transport a URL's scheme calls for."""
    scheme = split_url(url).scheme
    for name, schemes in TRANSPORTS.items():
        if scheme in schemes:
            return name
    raise UsageError(f"{url!r}: use quic://host:port (HTTP/3) or http://host:port "
                     "(HTTP/1.1)")


def open_transport(url: str, *, name: str | None = None, ca_pem: bytes | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> Transport:
    """The transport that serves `url`, chosen by its scheme. `name`, when given, is what
    the caller asked for ("quic" or "http") and must be what the scheme serves."""
    check_transport(name)
    scheme = split_url(url).scheme
    if name is not None and scheme not in TRANSPORTS[name]:
        raise UsageError(f"{url!r} is not a {name} URL: use "
                         + " or ".join(f"{s}://host:port" for s in TRANSPORTS[name]))
    return _MOUNTS[scheme if scheme in _MOUNTS else transport_name(url)](
        url, ca_pem=ca_pem, timeout=timeout)


def _checked(url: str, status: int, data: bytes) -> bytes:
    """A body the JSON-RPC layer can read: 200, or an error status carrying a JSON-RPC
    error (413 does); anything else is a node (or proxy) we cannot talk to, which may
    have passed the request on: an answer lost."""
    if status == 200 or data.lstrip().startswith(b"{"):
        return data
    raise AnswerLostError(f"{url} answered HTTP {status}: "
                               f"{data[:200].decode(errors='replace').strip() or 'no body'}")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

