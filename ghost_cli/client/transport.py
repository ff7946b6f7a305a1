"""How a JSON-RPC body reaches a node: HTTP/3 over one pooled QUIC connection, or HTTP/1.1.

Both transports have one method, `post(body, idempotent=...) -> bytes`, so the client
above them never knows which it has (httpx's habit: swappable transports).

`Http3Transport` keeps ONE QUIC connection per node and sends every request on a new
stream of it, so concurrent requests are multiplexed instead of queued. A connection
that has gone away (idle timeout, node restart) is replaced on the next request. What
happens to a request that was in flight when a connection broke depends on what it was:
a read (`idempotent=True`) is sent again on a new connection; a transaction is not,
because the node may have applied it, and the caller is told so.

Third-party errors (aioquic, httpx, sockets) become NodeUnavailableError here.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from ..exceptions import NodeUnavailableError, UsageError

DEFAULT_TIMEOUT = 30.0  # seconds for one request, connecting included
CONNECT_TIMEOUT = 5.0
#: A request the node refused unread (busy, over its stream limit), or a read whose
#: connection broke, is sent again this many times (refusals after a short pause).
RETRIES = 5
#: Our idle timeout; QUIC uses the smaller of ours and the node's.
IDLE_TIMEOUT = 60.0
#: Silence, while a request waits, after which the node is asked for a PING's ACK; no ACK
#: within as long again means the node has lost the connection (a restart after kill -9
#: drops packets of connections it never knew, without a word).
LIVENESS = 1.5


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


# ---- HTTP/3 ---------------------------------------------------------------------------


class _Lost(Exception):
    """The connection ended after the request left and before the response came."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    """The node reset the stream without processing the request: safe to send again."""


@functools.cache
def _h3_client_protocol():
    # aioquic is imported on first use: `ghost --help` and sandbox commands never load it.
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.h3.connection import ErrorCode, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.events import ConnectionTerminated, StreamReset

    # Resets that mean "not processed, try again" (RFC 9114 §4.1.1, §8.1).
    retryable = {ErrorCode.H3_REQUEST_REJECTED, ErrorCode.H3_EXCESSIVE_LOAD}

    class H3ClientProtocol(QuicConnectionProtocol):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._h3 = H3Connection(self._quic)
            self._waiting: dict[int, tuple[asyncio.Future, bytearray, list[int]]] = {}
            self.terminated: str | None = None
            self.peak = 0
            self.last_rx = self._loop.time()

        def datagram_received(self, data, addr) -> None:
            self.last_rx = self._loop.time()
            super().datagram_received(data, addr)

        def usable(self) -> bool:
            """False once the connection has ended, including an idle timeout that came
            due while no event loop was running (the sync client sleeps between calls)."""
            timer = self._quic.get_timer()
            if self.terminated is None and timer is not None and timer <= self._loop.time():
                self._quic.handle_timer(now=self._loop.time())
                self._process_events()
                self.transmit()  # re-arms the protocol's own timer
            return self.terminated is None

        async def request(self, headers: list, body: bytes) -> tuple[int, bytes]:
            stream_id = self._quic.get_next_available_stream_id()
            future = self._loop.create_future()
            self._waiting[stream_id] = (future, bytearray(), [0])
            self.peak = max(self.peak, len(self._waiting))
            self._h3.send_headers(stream_id, headers)
            self._h3.send_data(stream_id, body, end_stream=True)
            self.transmit()
            try:
                while True:
                    done, _ = await asyncio.wait({future}, timeout=LIVENESS)
                    if done:
                        return future.result()
                    if self._loop.time() - self.last_rx >= LIVENESS:
                        await self._check_alive()
            except asyncio.CancelledError:  # timed out: tell the node to stop
                if self.terminated is None:  # the request was sent whole: stop the reply
                    self._quic.stop_stream(stream_id, ErrorCode.H3_REQUEST_CANCELLED)
                    self.transmit()
                raise
            finally:
                self._waiting.pop(stream_id, None)

        async def _check_alive(self) -> None:
            try:
                await asyncio.wait_for(self.ping(), LIVENESS)
            except (TimeoutError, ConnectionError):
                if self.terminated is None:
                    self._end("the node stopped answering on this connection")
                    self.close()

        def _end(self, reason: str) -> None:
            self.terminated = reason
            for future, _, _ in self._waiting.values():
                if not future.done():
                    future.set_exception(_Lost(reason))

        def quic_event_received(self, event) -> None:
            if isinstance(event, ConnectionTerminated):
                if self.terminated is None:
                    self._end(event.reason_phrase or f"error {event.error_code}")
                return
            if isinstance(event, StreamReset) and event.stream_id in self._waiting:
                future = self._waiting[event.stream_id][0]
                if not future.done():
                    future.set_exception(
                        _Refused() if event.error_code in retryable
                        else _Lost(f"stream reset by the node (code {event.error_code:#x})"))
            for h3_event in self._h3.handle_event(event):
                slot = self._waiting.get(getattr(h3_event, "stream_id", None))
                if slot is None:
                    continue
                future, body, status = slot
                if isinstance(h3_event, HeadersReceived):
                    status[0] = int(dict(h3_event.headers).get(b":status", b"0"))
                elif isinstance(h3_event, DataReceived):
                    body += h3_event.data
                if getattr(h3_event, "stream_ended", False) and not future.done():
                    future.set_result((status[0], bytes(body)))

        def error_received(self, exc: OSError) -> None:
            # ICMP "port unreachable" on a dead node: fail now, not at the idle timeout.
            # A request in flight may still have reached the node before it went away.
            if self.terminated is None:
                self._end(f"{exc.strerror or exc}")
                self._quic.close()
                if self._connected_waiter is not None and not self._connected_waiter.done():
                    self._connected_waiter.set_exception(ConnectionRefusedError(self.terminated))

    return H3ClientProtocol


class _PooledQuic:
    """ONE QUIC connection to a node, reused while it is usable and replaced when it has
    gone away; concurrent first users share one handshake. Subclasses say how to open it."""

    url: str

    def __init__(self) -> None:
        self._protocol = None
        self._transport = None
        self._connecting: asyncio.Lock | None = None
        self.opened = 0

    async def _open(self):  # -> (protocol, transport)
        raise NotImplementedError

    def _lost(self, reason: str) -> NodeUnavailableError:
        return NodeUnavailableError(f"cannot reach the node at {self.url}: {reason}")

    async def _connection(self):
        if self._protocol is not None and self._protocol.usable():
            return self._protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and self._protocol.usable():
                return self._protocol
            await self._drop()
            self._protocol, self._transport = await self._open()
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


class Http3Transport(_PooledQuic):
    """JSON-RPC over HTTP/3 to `quic://host:port`, trusting the CA in `ca_pem` only."""

    def __init__(self, url: str, *, ca_pem: bytes | None, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme != "quic" or not parts.hostname or not parts.port:
            raise UsageError(f"{url!r} is not a QUIC URL like quic://127.0.0.1:8443")
        super().__init__()
        self.url = url
        self.host, self.port = parts.hostname, parts.port
        self.ca_pem = ca_pem
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self._requests = self._retries = self._peak = 0
        authority = f"[{self.host}]" if ":" in self.host else self.host
        self._authority = f"{authority}:{self.port}".encode()

    def stats(self) -> TransportStats:
        peak = max(self._peak, self._protocol.peak if self._protocol else 0)
        return TransportStats(self.opened, self._requests, peak, self._retries)

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        self._requests += 1
        headers = [(b":method", b"POST"), (b":scheme", b"https"),
                   (b":authority", self._authority), (b":path", b"/"),
                   (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
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
                    raise NodeUnavailableError(
                        f"{self.url} refused the request {attempt} times: the node is busy"
                    ) from None
                await asyncio.sleep(0.01 * 2**attempt)
            except _Lost as exc:
                if not idempotent:
                    raise NodeUnavailableError(
                        f"connection to {self.url} lost before the node answered "
                        f"({exc.reason}); the transaction may have been applied: look it up "
                        "with `ghost receipt`") from None
                if attempt > RETRIES:
                    raise self._lost(exc.reason) from None
            except TimeoutError:
                raise NodeUnavailableError(
                    f"{self.url} did not answer within {self.timeout:g} s") from None
            self._retries += 1

    async def _connection(self):
        if self._protocol is not None:
            # Two turns of the loop read whatever already waits in the socket (say the
            # CONNECTION_CLOSE of a node that restarted since the last request), so a
            # connection is judged before a transaction is put on it, not after.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        return await super()._connection()

    async def _open(self):
        from aioquic.h3.connection import H3_ALPN

        return await open_quic(
            self.host, self.port, alpn=H3_ALPN, ca_pem=self.ca_pem,
            protocol_class=_h3_client_protocol(), connect_timeout=self.connect_timeout,
            lost=self._lost)

    async def _drop(self) -> None:
        if self._protocol is not None:
            self._peak = max(self._peak, self._protocol.peak)
        await super()._drop()


async def open_quic(host: str, port: int, *, alpn: list[str], ca_pem: bytes | None,
                    protocol_class, connect_timeout: float, lost):
    """One QUIC connection to host:port with `alpn`, trusting `ca_pem` only: (protocol,
    datagram transport). `lost(reason)` makes the error for an unreachable node."""
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection

    config = QuicConfiguration(is_client=True, alpn_protocols=alpn,
                               idle_timeout=IDLE_TIMEOUT, server_name=host)
    if ca_pem is not None:
        config.load_verify_locations(cadata=ca_pem)
    config.verify_mode = ssl.CERT_REQUIRED
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, *_, addr = infos[0]
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: protocol_class(QuicConnection(configuration=config)),
            local_addr=("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
    except OSError as exc:
        raise lost(exc.strerror or str(exc)) from None
    try:
        protocol.connect(addr)
        await asyncio.wait_for(protocol.wait_connected(), connect_timeout)
    except TimeoutError:
        transport.close()
        raise NodeUnavailableError(
            f"cannot reach the node at quic://{host}:{port}: no QUIC handshake within "
            f"{connect_timeout:g} s") from None
    except (ConnectionError, OSError) as exc:
        transport.close()
        reason = protocol.terminated or str(exc) or "handshake failed"
        if "certificate" in reason.lower():
            reason += " (is --ca the node's DATA_DIR/tls/ca.pem?)"
        raise lost(reason) from None
    return protocol, transport


# ---- DNS over QUIC --------------------------------------------------------------------


@functools.cache
def _doq_client_protocol():
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.quic.events import ConnectionTerminated, StreamDataReceived, StreamReset

    class DoqClientProtocol(QuicConnectionProtocol):
        """RFC 9250 client: each query on a new stream, its answer read to the FIN."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._waiting: dict[int, tuple[asyncio.Future, bytearray]] = {}
            self.terminated: str | None = None

        def usable(self) -> bool:
            timer = self._quic.get_timer()
            if self.terminated is None and timer is not None and timer <= self._loop.time():
                self._quic.handle_timer(now=self._loop.time())
                self._process_events()
                self.transmit()
            return self.terminated is None

        async def query(self, wire: bytes) -> bytes:
            stream_id = self._quic.get_next_available_stream_id()
            future = self._loop.create_future()
            self._waiting[stream_id] = (future, bytearray())
            self._quic.send_stream_data(stream_id, len(wire).to_bytes(2, "big") + wire,
                                        end_stream=True)
            self.transmit()
            try:
                return await future
            finally:
                self._waiting.pop(stream_id, None)

        def quic_event_received(self, event) -> None:
            if isinstance(event, ConnectionTerminated):
                self.terminated = event.reason_phrase or f"error {event.error_code}"
                for future, _ in self._waiting.values():
                    if not future.done():
                        future.set_exception(_Lost(self.terminated))
            elif isinstance(event, StreamReset) and event.stream_id in self._waiting:
                future = self._waiting[event.stream_id][0]
                if not future.done():
                    future.set_exception(_Lost(f"query refused (code {event.error_code})"))
            elif isinstance(event, StreamDataReceived) and event.stream_id in self._waiting:
                future, data = self._waiting[event.stream_id]
                data += event.data
                if event.end_stream and not future.done():
                    size = int.from_bytes(data[:2], "big")
                    if len(data) == 2 + size:
                        future.set_result(bytes(data[2:]))
                    else:
                        future.set_exception(_Lost("malformed DoQ answer"))

        def error_received(self, exc: OSError) -> None:
            if self.terminated is None:
                self.terminated = f"{exc.strerror or exc}"
                self._quic.close()
                if self._connected_waiter is not None and not self._connected_waiter.done():
                    self._connected_waiter.set_exception(ConnectionRefusedError(self.terminated))

    return DoqClientProtocol


class DoqResolver(_PooledQuic):
    """DNS over QUIC to a node's QUIC port: ONE pooled connection (ALPN `doq`), one stream
    per query, replaced when it has gone away; queries are idempotent, so a query whose
    connection broke is sent again."""

    def __init__(self, host: str, port: int, *, ca_pem: bytes | None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT):
        super().__init__()
        self.host, self.port, self.ca_pem = host, port, ca_pem
        self.url = f"doq://{host}:{port}"
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.queries = 0

    async def query(self, wire: bytes) -> bytes:
        self.queries += 1
        for attempt in range(1, RETRIES + 2):
            protocol = await self._connection()
            try:
                return await asyncio.wait_for(protocol.query(wire), self.timeout)
            except _Lost as exc:
                if attempt > RETRIES or protocol.terminated is None:
                    raise NodeUnavailableError(
                        f"{self.url}: {exc.reason}") from None
            except TimeoutError:
                raise NodeUnavailableError(
                    f"{self.url} did not answer within {self.timeout:g} s") from None
        raise AssertionError("unreachable")

    async def _open(self):
        return await open_quic(
            self.host, self.port, alpn=["doq"], ca_pem=self.ca_pem,
            protocol_class=_doq_client_protocol(), connect_timeout=self.connect_timeout,
            lost=self._lost)


# ---- HTTP/1.1 -------------------------------------------------------------------------


class HttpTransport:
    """JSON-RPC over HTTP/1.1 (`http://` or `https://`), keep-alive pooled by httpx."""

    def __init__(self, url: str, *, ca_pem: bytes | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_connections: int = 100) -> None:
        import httpx

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url!r} is not an HTTP URL like http://127.0.0.1:8545")
        verify: ssl.SSLContext | bool = True
        if ca_pem is not None and parts.scheme == "https":
            verify = ssl.create_default_context(cadata=ca_pem.decode("ascii", "replace"))
        self.url = url
        self._requests = self._in_flight = self._peak = 0
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT), verify=verify,
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections),
            headers={"content-type": "application/json"},
        )

    def stats(self) -> TransportStats:
        return TransportStats(None, self._requests, self._peak, 0)

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        import httpx

        self._requests += 1
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            response = await self._client.post(self.url, content=body)
        except httpx.TimeoutException:
            raise NodeUnavailableError(f"{self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise NodeUnavailableError(f"cannot reach the node at {self.url}: "
                                       f"{_first_line(exc)}") from None
        finally:
            self._in_flight -= 1
        return _checked(self.url, response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def _checked(url: str, status: int, data: bytes) -> bytes:
    """A body the JSON-RPC layer can read: 200, or an error status carrying a JSON-RPC
    error (413 does); anything else is a node (or proxy) we cannot talk to."""
    if status == 200 or data.lstrip().startswith(b"{"):
        return data
    raise NodeUnavailableError(f"{url} answered HTTP {status}: "
                               f"{data[:200].decode(errors='replace').strip() or 'no body'}")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

