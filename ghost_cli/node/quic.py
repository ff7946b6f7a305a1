"""HTTP/3 JSON-RPC over QUIC: the node's UDP adapter, on aioquic.

Two layers, as aioquic itself is built:

- `RequestAssembler` (sans-IO): HTTP/3 events of one connection in, whole requests out.
  It enforces the limits a public endpoint needs: concurrent request streams per
  connection, request head size (on the wire and decoded), request body size, body
  bytes buffered per connection. What breaks a limit is refused on its own stream (413,
  or a reset the client may retry) and never costs the connection or the node.
- `NodeH3Connection`: aioquic's H3Connection with no QPACK dynamic table for what the
  node decodes, and no more field lines decoded than the head bound can hold, so a
  HEADERS frame decodes to a few dozen KB at most (with a table, one 4 KB entry
  referenced by each byte of a 16 KB frame is 60 MB, decoded on the event loop every
  transport shares).
- `_H3Protocol` and `serve_quic` (the thin asyncio adapter): sockets, timers, tasks.
  Each whole request is handed to the node's `handle(body, peer)` coroutine, the same
  JSON-RPC dispatcher the HTTP/1.1 adapter (node/http.py) calls.

The same port speaks DNS over QUIC (RFC 9250) to clients that negotiate ALPN `doq`
(node/doq.py): a connection is routed by its ALPN once, at ProtocolNegotiated.

HTTP/3 and DoQ alike, a request (or DNS query) that has not arrived whole within
`request_timeout` of its stream's first byte is reset, so a client that opens streams and
stalls frees them; a connection whose client reads nothing of an answer for
`answer_timeout` is closed, so an answer nobody reads is not held for good; a connection
that goes quiet for `idle_timeout` is dropped by QUIC itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pylsqpack
from aioquic.asyncio import QuicConnectionProtocol
from aioquic.asyncio.server import QuicServer
from aioquic.buffer import Buffer
from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection, Setting
from aioquic.h3.events import DataReceived, Headers, HeadersReceived
from aioquic.quic.configuration import SMALLEST_MAX_DATAGRAM_SIZE, QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import (
    ConnectionTerminated,
    ProtocolNegotiated,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)
from aioquic.quic.packet import QuicErrorCode, QuicPacketType, pull_quic_header
from aioquic.quic.retry import QuicRetryTokenHandler

from .. import datagrams
from ..exceptions import ConfigError, DoqProtocolError, GhostError, NodeUnavailableError
from ..rpc.dispatcher import Limits as RpcLimits
from .doq import ALPN as DOQ_ALPN
from .doq import DoqStreams, Query
from .handshakes import Admission, HandshakeGate, HandshakeLimits
from .tls import TlsFiles

log = logging.getLogger("ghost.node.quic")
DEFAULT_MAX_BODY = RpcLimits().max_body

#: The node's JSON-RPC entry point: request body and peer ("host:port") in, response out
#: (b"" when the body held only notifications).
Handler = Callable[[bytes, str], Awaitable[bytes]]
#: The node's DNS entry point: one DNS query message and the peer in, the answer out.
DnsHandler = Callable[[bytes, str], Awaitable[bytes]]


@dataclass(frozen=True)
class QuicLimits:
    max_streams: int = 32  # request streams one connection may have open at once
    max_buffered: int = 16 * 1024 * 1024  # request bytes held per connection, all streams
    # Bytes a request stream may send before its HEADERS frame is whole (as HTTP/1.1's
    # request line and headers). aioquic holds a frame whole before decoding it, so a
    # HEADERS frame of any declared size would otherwise be held, unseen, without bound.
    # The same bound holds for the decoded headers, counted as RFC 9114 §4.2.2 counts a
    # field section (each field's name and value, plus 32 bytes: at most 512 fields),
    # and for a trailers frame held whole.
    max_head: int = 16 * 1024
    # Seconds for a request (or a DoQ query) to arrive whole, from its stream's first byte.
    request_timeout: float = 10.0
    # Seconds an answer may wait without the client reading any of it (QUIC's flow
    # control holding it) before the connection is closed, as HTTP/1.1 closes one whose
    # answer is not read: aioquic holds an answer whole until it is sent (up to the
    # 8 MiB reply bound per HTTP/3 stream, 64 KiB per DoQ stream) for as long as the
    # client keeps its connection alive.
    answer_timeout: float = 10.0
    idle_timeout: float = 30.0  # seconds of silence before QUIC drops a connection
    max_connections: int = 256
    # The UDP socket's receive buffer (bytes; the kernel caps it at net.core.rmem_max).
    # Many clients' requests arrive as bursts of full packets; the usual default (about
    # 208 KiB) overflows under them, and every datagram dropped there is a QUIC loss:
    # a retransmission and a halved congestion window for that client.
    receive_buffer: int = 4 * 1024 * 1024
    # Handshakes started per source address and for the whole listener; past them an
    # Initial gets a Retry, or (from an address it proved) is dropped: node/handshakes.py.
    handshakes: HandshakeLimits = HandshakeLimits()


TRANSPORT = "quic"  # the label this adapter reports under


class QuicObserver(Protocol):
    """The transport hooks of the node's metrics (ghost_cli.node.metrics.NodeMetrics)."""

    def connection_opened(self, transport: str) -> None: ...
    def connection_closed(self, transport: str) -> None: ...
    def stream_opened(self, transport: str) -> None: ...
    def stream_closed(self, transport: str) -> None: ...
    def handshake(self, transport: str, outcome: str) -> None: ...


class ConnectionLog(Protocol):
    """Where connection events go (ghost_cli.node.logging.NodeLog)."""

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None: ...


class Answers(Protocol):
    """The JSON-RPC bodies of the answers the adapter gives itself, each reported to the
    node's metrics and log as HTTP/1.1's are (ghost_cli.rpc.Dispatcher has them)."""

    def too_large(self, size: int | None, *, peer: str) -> bytes: ...
    def refused(self, exc: GhostError, *, peer: str) -> bytes: ...
    def failed(self, exc: BaseException) -> bytes: ...


class _Silent:
    def connection_opened(self, transport: str) -> None:
        pass

    connection_closed = stream_opened = stream_closed = connection_opened

    def handshake(self, transport: str, outcome: str) -> None:
        pass

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None:
        pass


class _PlainAnswers:
    """Answers for an adapter served without a dispatcher's: the same bodies, reported
    nowhere (a failure goes to Python's logging)."""

    def __init__(self, max_body: int) -> None:
        self._too_large = too_large_body(max_body)

    def too_large(self, size: int | None, *, peer: str) -> bytes:
        return self._too_large(size)

    def refused(self, exc: GhostError, *, peer: str) -> bytes:
        from ..rpc import codec

        return codec.encode([codec.failure(None, exc)], is_batch=False)

    def failed(self, exc: BaseException) -> bytes:
        from ..rpc import codec
        from ..rpc.errors import internal_error

        log.error("QUIC request handler failed", exc_info=exc)
        return codec.encode_one({"jsonrpc": "2.0", "id": None, "error": internal_error()})


# ---- HTTP/3 with bounded header decoding ---------------------------------------------


#: What RFC 9114 §4.2.2 counts per field of a field section, besides name and value.
FIELD_OVERHEAD = 32


def field_section_size(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """A decoded field section's size as RFC 9114 §4.2.2 counts it (SETTINGS_MAX_FIELD_
    SECTION_SIZE): each field's name and value, plus 32 bytes of overhead."""
    return sum(len(name) + len(value) + FIELD_OVERHEAD for name, value in headers)


def field_lines_over(block: bytes, limit: int) -> bool:
    """Whether an encoded field section (a HEADERS frame's payload) holds more than
    `limit` field lines, counted without decoding (RFC 9204 §4.5) and in at most `limit`
    steps: literals are skipped by their length. A malformed block is left to the
    decoder (False)."""
    try:
        _, pos = _prefixed_int(block, 0, 8)  # Required Insert Count
        _, pos = _prefixed_int(block, pos, 7)  # sign and Delta Base
        lines = 0
        while pos < len(block):
            lines += 1
            if lines > limit:
                return True
            first = block[pos]
            if first & 0x80:  # indexed field line
                _, pos = _prefixed_int(block, pos, 6)
            elif first & 0x40:  # literal with name reference
                _, pos = _prefixed_int(block, pos, 4)
                length, pos = _prefixed_int(block, pos, 7)
                pos += length
            elif first & 0x20:  # literal with literal name
                length, pos = _prefixed_int(block, pos, 3)
                length, pos = _prefixed_int(block, pos + length, 7)
                pos += length
            elif first & 0x10:  # indexed field line with post-base index
                _, pos = _prefixed_int(block, pos, 4)
            else:  # literal with post-base name reference
                _, pos = _prefixed_int(block, pos, 3)
                length, pos = _prefixed_int(block, pos, 7)
                pos += length
    except (IndexError, ValueError):
        return False
    return False


def _prefixed_int(data: bytes, pos: int, prefix: int) -> tuple[int, int]:
    """The QPACK integer with a `prefix`-bit prefix at data[pos] (RFC 9204 §4.1.1, as
    RFC 7541 §5.1), and the position after it."""
    top = (1 << prefix) - 1
    value = data[pos] & top
    pos += 1
    if value < top:
        return value, pos
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 62:
            raise ValueError("QPACK integer too long")


class FieldSectionTooLarge(Exception):
    """A HEADERS frame refused before it is decoded: more field lines than its bound."""

    def __init__(self, stream_id: int) -> None:
        super().__init__(f"stream {stream_id}: too many header fields")
        self.stream_id = stream_id


class NodeH3Connection(H3Connection):
    """aioquic's H3Connection, decoding headers with no QPACK dynamic table.

    aioquic's decoder keeps a 4096-byte dynamic table by default: a client inserts one
    4 KB header and sends a HEADERS frame that references it once per byte, 16 KB on the
    wire for 60 MB of headers, decoded at once (pylsqpack has no bound of its own) on the
    event loop. With a table of 0 (SETTINGS_QPACK_MAX_TABLE_CAPACITY and
    QPACK_BLOCKED_STREAMS both 0) a client's encoder uses only QPACK's static table and
    literals, and a client that inserts anyway breaks the protocol (its connection is
    closed with QPACK_ENCODER_STREAM_ERROR). A one-byte static reference still decodes
    to up to 69 bytes and a pair of Python objects, so a frame with more field lines than
    a section of `max_field_section` bytes can hold (32 bytes each, RFC 9114 §4.2.2) is
    refused before it is decoded (`FieldSectionTooLarge`, out of `handle_event`); what
    is decoded is a few dozen KB at most, and RequestAssembler bounds its exact size
    (advertised as SETTINGS_MAX_FIELD_SECTION_SIZE). The node's own responses still use
    whatever table the client offers: that is the client's memory, not the node's."""

    def __init__(self, quic: QuicConnection, *, max_field_section: int) -> None:
        self._max_field_section = max_field_section
        self._max_field_lines = max_field_section // FIELD_OVERHEAD
        super().__init__(quic)

    def _init_connection(self) -> None:
        # H3Connection.__init__ has built its decoder for its default table, and sends
        # the SETTINGS here: both say 0 before anything is sent.
        self._max_table_capacity = 0
        self._blocked_streams = 0
        self._decoder = pylsqpack.Decoder(0, 0)
        super()._init_connection()

    def _get_local_settings(self) -> dict[int, int]:
        settings = super()._get_local_settings()
        settings[Setting.MAX_FIELD_SECTION_SIZE] = self._max_field_section
        return settings

    def _decode_headers(self, stream_id: int, frame_data: bytes | None) -> Headers:
        # frame_data is None only to resume a blocked stream: none with no table.
        if frame_data is not None and field_lines_over(frame_data, self._max_field_lines):
            # aioquic drops what it holds of the stream when the refusal resets it.
            raise FieldSectionTooLarge(stream_id)
        return super()._decode_headers(stream_id, frame_data)

    def held(self, stream_id: int) -> int:
        """Bytes of a request stream aioquic holds undecoded: a HEADERS (or trailers)
        frame still arriving, as aioquic holds such a frame whole (DATA passes through)."""
        stream = self._stream.get(stream_id)
        return len(stream.buffer) if stream is not None else 0


# ---- sans-IO: HTTP/3 events -> requests ----------------------------------------------


@dataclass(frozen=True)
class Request:
    stream_id: int
    body: bytes


@dataclass
class _Partial:
    body: bytearray = field(default_factory=bytearray)


JSON = b"application/json"


class RequestAssembler:
    """One QUIC connection's HTTP/3 request streams, assembled under `limits`.

    `receive` takes every QUIC event and returns the requests that became whole; the
    caller answers each with `respond`. Streams are counted from their HEADERS until the
    response is sent (or the stream is reset), so a request being executed still holds
    its place against `max_streams`. Before its HEADERS, a stream is bounded by
    `max_head` bytes and, like a body, by the adapter's deadline from its first byte.
    """

    def __init__(self, quic: QuicConnection, limits: QuicLimits, *, max_body: int,
                 too_large: Callable[[int | None], bytes],
                 observer: QuicObserver | None = None) -> None:
        self.quic = quic
        self.h3 = NodeH3Connection(quic, max_field_section=limits.max_head)
        self.limits = limits
        self.max_body = max_body
        self.too_large = too_large  # the JSON-RPC error body a 413 carries
        self.observer = observer or _Silent()
        self._partial: dict[int, _Partial] = {}  # receiving a body
        self._opened: list[int] = []  # streams begun since the last `opened()`
        self._pending: set[int] = set()  # whole, awaiting `respond`
        self._heads: dict[int, int] = {}  # bytes received before the HEADERS were whole
        self._ignored: set[int] = set()  # refused before HEADERS: late data never reaches h3
        self._buffered = 0
        self.refused = 0  # streams reset unread: over a limit, or too slow

    @property
    def open_streams(self) -> int:
        return len(self._partial) + len(self._pending)

    @property
    def receiving(self) -> tuple[int, ...]:
        """Streams whose request (headers or body) is still arriving."""
        return (*self._heads, *self._partial)

    def opened(self) -> list[int]:
        """Streams begun since the last call whose request is still arriving: each needs
        a deadline once (cheaper than looking at every open stream per event)."""
        if not self._opened:
            return []
        out = [s for s in self._opened if s in self._partial or s in self._heads]
        self._opened.clear()
        return out

    def receive(self, event: QuicEvent) -> list[Request]:
        if isinstance(event, StreamDataReceived) and not self._admit(event):
            return []
        if isinstance(event, StreamReset | StopSendingReceived):
            self._forget(event.stream_id)
            if isinstance(event, StreamReset):
                self._heads.pop(event.stream_id, None)
                self._ignored.discard(event.stream_id)
        elif isinstance(event, ConnectionTerminated):
            self.close()
        ended = isinstance(event, StreamDataReceived) and event.end_stream
        try:
            h3_events = self.h3.handle_event(event)
        except FieldSectionTooLarge as exc:  # refused undecoded: as decoded past the bound
            self._heads.pop(exc.stream_id, None)
            self._refuse_head(exc.stream_id, ErrorCode.H3_EXCESSIVE_LOAD, ended=ended)
            h3_events = []
        done: list[Request] = []
        for h3_event in h3_events:
            if h3_event.stream_id in self._ignored:
                continue  # refused by an earlier event of this same batch
            if isinstance(h3_event, HeadersReceived):
                request = self._headers(h3_event, ended)
            elif isinstance(h3_event, DataReceived):
                request = self._data(h3_event)
            else:
                request = None
            if request is not None:
                done.append(request)
        if isinstance(event, StreamDataReceived) and event.stream_id in self._partial \
                and self.h3.held(event.stream_id) > self.limits.max_head:
            # A trailers frame, held whole by aioquic as it arrives: bounded as the head.
            self._refuse_head(event.stream_id, ErrorCode.H3_EXCESSIVE_LOAD, ended=ended)
        return done

    def respond(self, stream_id: int, status: int, body: bytes,
                content_type: bytes = JSON,
                extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
        """Send the response; a stream the client has since reset is skipped silently."""
        if stream_id not in self._pending and stream_id not in self._partial:
            return
        self._forget(stream_id)
        self.h3.send_headers(stream_id, [
            (b":status", str(status).encode()), (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()), *extra])
        self.h3.send_data(stream_id, body, end_stream=True)

    def close(self) -> None:
        """The connection is gone: every stream with it."""
        for stream_id in (*self._partial, *self._pending):
            self._forget(stream_id)
        self._heads.clear()
        self._ignored.clear()

    def abandon(self, stream_id: int, code: ErrorCode = ErrorCode.H3_REQUEST_INCOMPLETE) -> bool:
        """Reset a stream whose request never arrived whole; False if it already had."""
        if stream_id in self._heads:
            del self._heads[stream_id]
            self._refuse_head(stream_id, code)
            return True
        if stream_id not in self._partial:
            return False
        self._refuse(stream_id, code)
        return True

    # -- internals --

    def _admit(self, ev: StreamDataReceived) -> bool:
        """Count what a request stream sends before its HEADERS are whole; False for data
        h3 must not see (a stream refused here)."""
        sid = ev.stream_id
        if sid & 0x3:  # not a client-initiated bidirectional stream: HTTP/3's own
            return True
        if sid in self._ignored:
            if ev.end_stream:
                self._ignored.discard(sid)
            return False
        if sid in self._partial or sid in self._pending:
            return True
        seen = self._heads.get(sid)
        if seen is None:
            if not ev.data:
                return True  # a lone FIN
            self._opened.append(sid)
        seen = (seen or 0) + len(ev.data)
        if seen > self.limits.max_head:
            self._heads.pop(sid, None)
            self._refuse_head(sid, ErrorCode.H3_EXCESSIVE_LOAD)
            return False
        if ev.end_stream:
            self._heads.pop(sid, None)  # h3 now has all of it: HEADERS, or nothing
        else:
            self._heads[sid] = seen
        return True

    def _refuse_head(self, stream_id: int, code: ErrorCode, *, ended: bool = False) -> None:
        """Reset a stream refused over its headers, and have h3 drop what it holds of it
        (as when a client resets a stream; its own reset after ours has no effect). Its
        later data never reaches h3, unless `ended`: the stream has no more."""
        if not ended:
            self._ignored.add(stream_id)
        self._refuse(stream_id, code)
        self.h3.handle_event(StreamReset(stream_id=stream_id, error_code=code))

    def _headers(self, ev: HeadersReceived, ended: bool = False) -> Request | None:
        self._heads.pop(ev.stream_id, None)
        if field_section_size(ev.headers) > self.limits.max_head:
            # Decoded past the bound (headers or trailers): refused as a frame past it is.
            self._refuse_head(ev.stream_id, ErrorCode.H3_EXCESSIVE_LOAD, ended=ended)
            return None
        if ev.stream_id in self._partial or ev.stream_id in self._pending:
            return None  # trailers: nothing we use
        if self.open_streams >= self.limits.max_streams:
            self._refuse(ev.stream_id, ErrorCode.H3_REQUEST_REJECTED)
            return None
        headers = dict(ev.headers)
        self._partial[ev.stream_id] = _Partial()
        self._opened.append(ev.stream_id)
        self.observer.stream_opened(TRANSPORT)
        if headers.get(b":method") != b"POST":
            return self._early(ev.stream_id, 405, b'{"error": "POST JSON-RPC to /"}', ev)
        if headers.get(b":path", b"/").split(b"?")[0] != b"/":
            return self._early(ev.stream_id, 404, b'{"error": "POST JSON-RPC to /"}', ev)
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != JSON:  # as HTTP/1.1 answers
            return self._early(ev.stream_id, 415,
                               b'{"error":"Content-Type must be application/json"}', ev)
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return self._early(ev.stream_id, 413, self.too_large(int(length)), ev)
        return self._complete(ev.stream_id) if ev.stream_ended else None

    def _data(self, ev: DataReceived) -> Request | None:
        partial = self._partial.get(ev.stream_id)
        if partial is None:
            return None  # refused or answered already; the rest is ignored
        partial.body += ev.data
        self._buffered += len(ev.data)
        if len(partial.body) > self.max_body:
            return self._early(ev.stream_id, 413, self.too_large(None), ev)
        if self._buffered > self.limits.max_buffered:
            # Many large bodies at once: refuse this one, it may be retried.
            self._refuse(ev.stream_id, ErrorCode.H3_EXCESSIVE_LOAD)
            return None
        return self._complete(ev.stream_id) if ev.stream_ended else None

    def _complete(self, stream_id: int) -> Request:
        partial = self._partial.pop(stream_id)
        self._buffered -= len(partial.body)
        self._pending.add(stream_id)
        return Request(stream_id, bytes(partial.body))

    def _early(self, stream_id: int, status: int, body: bytes, ev) -> None:
        """Answer before the body is read (RFC 9114 §4.1): stop the client's sending."""
        if not ev.stream_ended:
            self.quic.stop_stream(stream_id, ErrorCode.H3_NO_ERROR)
        self.respond(stream_id, status, body)

    def _refuse(self, stream_id: int, code: ErrorCode) -> None:
        self.refused += 1
        self._forget(stream_id)
        try:
            self.quic.stop_stream(stream_id, code)
        except ValueError:  # the peer ended its side already: nothing to stop
            pass
        self.quic.reset_stream(stream_id, code)

    def _forget(self, stream_id: int) -> None:
        partial = self._partial.pop(stream_id, None)
        if partial is not None:
            self._buffered -= len(partial.body)
        elif stream_id in self._pending:
            self._pending.discard(stream_id)
        else:
            return
        self.observer.stream_closed(TRANSPORT)


# ---- the asyncio adapter ------------------------------------------------------------


class _Server:
    """State shared by one listening socket's connections."""

    def __init__(self, handle: Handler, limits: QuicLimits, observer: QuicObserver,
                 max_body: int, dns: DnsHandler | None = None,
                 log: ConnectionLog | None = None, answers: Answers | None = None) -> None:
        self.handle = handle
        self.dns = dns
        self.limits = limits
        self.observer = observer
        self.log = log or _Silent()
        self.max_body = max_body
        self.answers = answers or _PlainAnswers(max_body)
        # Every counted connection, oldest first: the eviction order at the cap.
        self.connections: dict[_H3Protocol, None] = {}
        # While the listener drains its socket: the connections that received datagrams,
        # each to transmit once at the end of the batch (None outside a batch).
        self.touched: dict[_H3Protocol, None] | None = None

    def make_room(self) -> bool:
        """At the cap: close the oldest connection that runs nothing (idle, still in its
        handshake, or its request still arriving), as HTTP/1.1 does. Otherwise a stranger
        holds every place with handshakes it never finishes: one Initial packet each,
        for the idle timeout."""
        for other in self.connections:
            if other.waiting:
                other.evict()
                return True
        return False


class _DrainingServer(QuicServer):
    """aioquic's server, reading every datagram already waiting before answering any
    (ghost_cli/datagrams.py says why): each connection that got some transmits once,
    after the last. An Initial that would open a connection starts a handshake only
    within the listener's budgets (node/handshakes.py); otherwise it gets aioquic's Retry,
    or is dropped. A packet of a version the node does not speak, in a datagram too short
    to open a connection, is dropped unanswered."""

    def __init__(self, *, server: _Server, **kwargs) -> None:
        super().__init__(**kwargs)
        self._state = server
        self._sock = None
        self._tokens = QuicRetryTokenHandler()
        self._gate = HandshakeGate(server.limits.handshakes, now=self._loop.time())

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._sock = datagrams.duplicate(transport)

    def datagram_received(self, data, addr) -> None:
        state = self._state
        if state.touched is not None or self._sock is None:
            self._receive(data, addr)
            return
        touched = state.touched = {}
        try:
            self._receive(data, addr)
            datagrams.read_waiting(self._sock, self._receive, self.error_received)
        finally:
            state.touched = None
            for protocol in touched:
                protocol.transmit()

    def _receive(self, data: bytes, addr) -> None:
        # Only a long-header packet (first bit set) can be an Initial.
        if data and data[0] & 0x80 and not self._admit(data, addr):
            return
        super().datagram_received(data, addr)

    def _admit(self, data: bytes, addr) -> bool:
        """Set aioquic's Retry switch for this packet (on: an Initial without a token
        gets a Retry, one with a token is checked); False: drop it."""
        self._retry = None
        config = self._configuration
        try:
            header = pull_quic_header(Buffer(data=data),
                                      host_cid_length=config.connection_id_length)
        except ValueError:
            return True  # aioquic drops it
        could_open = len(data) >= SMALLEST_MAX_DATAGRAM_SIZE
        if header.version not in config.supported_versions:
            # aioquic answers any unknown version with a Version Negotiation, larger than
            # a short packet (8 bytes in, 15 out): to a spoofed source, an amplifier.
            # RFC 9000 §5.2.2: only a datagram that could open a connection gets one.
            return could_open
        # What aioquic would open a connection for (the rest it handles on its own).
        if (header.packet_type != QuicPacketType.INITIAL or not could_open
                or header.destination_cid in self._protocols):
            return True
        now = self._loop.time()
        observer = self._state.observer
        proven = bool(header.token)
        if proven:
            # The node sends no NEW_TOKEN frames: a token is a Retry's, or forged.
            self._retry = self._tokens
            try:
                self._tokens.validate_token(address=addr, token=header.token, now=now,
                                            destination_cid=header.destination_cid)
            except ValueError:
                # Answering costs about four Retries: within the unproven budgets only,
                # so a flood of forged tokens is read and dropped, never answered.
                if self._gate.admit(addr[0], proven=False, now=now) is not Admission.START:
                    observer.handshake(TRANSPORT, Admission.DROP.value)
                    return False
                observer.handshake(TRANSPORT, "invalid_token")
                return True  # aioquic closes it with INVALID_TOKEN
        outcome = self._gate.admit(addr[0], proven=proven, now=now)
        observer.handshake(TRANSPORT, outcome.value)
        if outcome is Admission.RETRY:
            self._retry = self._tokens
        return outcome is not Admission.DROP

    def close(self) -> None:
        super().close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None


#: The reason phrase of a connection closed for answers its client does not read.
UNREAD = "answer not read"


def unsent_answers(quic: QuicConnection) -> dict[int, int]:
    """Streams whose answer (to an HTTP/3 request or a DoQ query: both ride the client's
    bidirectional streams) is not sent whole, each by the offset it has got to. aioquic
    has no public view of this: a sender's next offset moves only as the client's flow
    control credit (its reading) lets the answer out."""
    return {stream_id: stream.sender.next_offset
            for stream_id, stream in quic._streams.items()
            if stream_id % 4 == 0  # client-initiated, bidirectional: a request or query
            and not stream.sender.buffer_is_empty and not stream.sender.is_finished}


def answers_stalled(before: dict[int, int] | None, unsent: dict[int, int]) -> bool:
    """Whether nothing more has been sent of any answer that was unsent at the last look
    (`before`, `unsent_answers` then; None: there was no last look): a client reading one
    answer while others wait is not stalled, and asking for new answers does not count
    as reading."""
    return bool(before) and all(unsent.get(stream_id) == offset
                                for stream_id, offset in before.items())


class _H3Protocol(QuicConnectionProtocol):
    def __init__(self, quic: QuicConnection, *, server: _Server, **kwargs) -> None:
        super().__init__(quic, **kwargs)
        self._server = server
        self._peer = "?"
        # Made once the ALPN is known: HTTP/3 opens its control streams on creation,
        # which a DoQ connection must never see.
        self._requests: RequestAssembler | None = None
        self._doq: DoqStreams | None = None
        self._tasks: set[asyncio.Task] = set()
        self._deadlines: dict[int, asyncio.TimerHandle] = {}
        self._watch: asyncio.Handle | None = None  # over answers not yet sent whole
        self._counted = False
        self._refused = False
        self._flush_due = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        server = self._server
        if len(server.connections) >= server.limits.max_connections \
                and not server.make_room():
            self._quic.close(error_code=QuicErrorCode.CONNECTION_REFUSED,
                             reason_phrase="too many connections")
            self._refused = True
            return
        server.connections[self] = None
        server.observer.connection_opened(TRANSPORT)
        self._counted = True

    @property
    def waiting(self) -> bool:
        """Nothing of this connection's is running: no request or DNS answer under way."""
        return not self._tasks

    def evict(self) -> None:
        """Close to make room at the cap; counted as closed once QUIC says it has."""
        self._server.connections.pop(self, None)
        self._server.log.connection(TRANSPORT, self._peer, "evicted",
                                    reason="connection cap reached")
        self._quic.close(error_code=QuicErrorCode.NO_ERROR,
                         reason_phrase="connection cap reached")
        self.transmit()

    def datagram_received(self, data, addr) -> None:
        if self._peer == "?":
            host, port = addr[0], addr[1]
            self._peer = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        super().datagram_received(data, addr)

    def transmit(self) -> None:
        touched = self._server.touched
        if touched is None:
            super().transmit()
        else:  # the listener is reading a batch: it transmits once, after the last
            touched[self] = None

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ProtocolNegotiated):
            self._negotiated(event.alpn_protocol)
        if isinstance(event, ConnectionTerminated):
            self._closed_down(event.reason_phrase or f"error {event.error_code}")
        layer = self._layer
        if layer is None:
            return
        if isinstance(event, StreamReset | StopSendingReceived):
            self._clear_deadline(event.stream_id)
        serve = self._answer if layer is self._doq else self._serve
        for whole in layer.receive(event):
            self._clear_deadline(whole.stream_id)
            self._spawn(serve(whole))
        # Every stream still receiving its request or DNS query gets one deadline, set
        # when it opens: HTTP/3 and DoQ alike.
        for stream_id in layer.opened():
            if stream_id not in self._deadlines:
                self._deadlines[stream_id] = self._loop.call_later(
                    self._server.limits.request_timeout, self._expire, stream_id)

    @property
    def _layer(self) -> RequestAssembler | DoqStreams | None:
        """The connection's request layer, once its ALPN is known: HTTP/3's or DoQ's."""
        return self._doq if self._doq is not None else self._requests

    def _negotiated(self, alpn: str | None) -> None:
        server = self._server
        if self._refused:
            server.log.connection(TRANSPORT, self._peer, "refused",
                                  reason="too many connections")
            return
        server.log.connection(TRANSPORT, self._peer, "open", alpn=alpn)
        if alpn == DOQ_ALPN and server.dns is not None:
            self._doq = DoqStreams(self._quic, max_streams=server.limits.max_streams)
        else:
            peer = self._peer
            self._requests = RequestAssembler(
                self._quic, server.limits, max_body=server.max_body,
                too_large=lambda size: server.answers.too_large(size, peer=peer),
                observer=server.observer)

    def _spawn(self, coro) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, query: Query) -> None:
        try:
            wire = await self._server.dns(query.wire, self._peer)
        except DoqProtocolError as exc:  # the client broke DoQ: its connection ends
            self._deliver(self._doq.violation, exc.message)
            return
        except Exception:  # names/dns.answer turns every failure into an rcode: a bug
            log.exception("DoQ handler failed")
            from ..names.dns import servfail

            wire = servfail(query.wire)
        self._deliver(self._doq.respond, query.stream_id, wire)
        self._watch_soon()

    async def _serve(self, request: Request) -> None:
        server = self._server
        extra: tuple[tuple[bytes, bytes], ...] = ()
        try:
            body = await server.handle(request.body, self._peer)
            status = 200 if body else 204  # 204: only notifications, nothing to say
        except NodeUnavailableError as exc:  # busy, or stopping: nothing ran
            body, status = server.answers.refused(exc, peer=self._peer), 503
            extra = ((b"retry-after", b"1"),)  # as HTTP/1.1's 503
        except Exception as exc:  # the dispatcher answers every error itself: this is a bug
            body, status = server.answers.failed(exc), 500
        self._deliver(self._requests.respond, request.stream_id, status, body,
                      JSON, extra)
        self._watch_soon()

    def _watch_soon(self) -> None:
        """Watch the connection's answers (HTTP/3 or DoQ: one rule for both) until all
        are sent, unless already watched. First looked at once flushed (_deliver's
        _flush_soon runs first): what leaves at once is the client's credit, not its
        reading."""
        if self._watch is None:
            self._watch = self._loop.call_soon(self._watch_answers, None)

    def _watch_answers(self, before: dict[int, int] | None) -> None:
        """Close the connection if its client has read nothing more of the answers it
        had unread answer_timeout ago (`before`, see `answers_stalled`); else look again
        later."""
        self._watch = None
        unsent = unsent_answers(self._quic) if self._counted else {}
        if not unsent:
            return  # all sent, or closed down meanwhile
        if answers_stalled(before, unsent):
            self._server.log.connection(TRANSPORT, self._peer, "timeout",
                                        reason="answer not read within "
                                               f"{self._server.limits.answer_timeout:g} s")
            if self._doq is not None:
                self._doq.unread(UNREAD)
            else:
                self._quic.close(error_code=ErrorCode.H3_REQUEST_CANCELLED,
                                 reason_phrase=UNREAD)
            self.transmit()
            return
        self._watch = self._loop.call_later(self._server.limits.answer_timeout,
                                            self._watch_answers, unsent)

    def _deliver(self, respond: Callable[..., None], *args: Any) -> None:
        """Hand an answer to QUIC, flushed at the end of this turn of the loop. The
        answerers skip a stream the client has reset; anything else they raise is a bug,
        logged here rather than lost in a task nobody awaits."""
        try:
            respond(*args)
        except Exception:
            log.exception("QUIC answer failed")
        self._flush_soon()

    def _flush_soon(self) -> None:
        """Send once this turn of the event loop is over: the answers of a group commit
        finish together, and one flush packs them all (one `transmit` per answer costs
        a packet-building pass each)."""
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        self.transmit()

    def _expire(self, stream_id: int) -> None:
        """A stream's request (or DNS query) has not arrived whole within request_timeout:
        reset it, unless it has meanwhile (or its connection has closed)."""
        self._deadlines.pop(stream_id, None)
        layer = self._layer
        if layer is not None and layer.abandon(stream_id):
            self.transmit()

    def _clear_deadline(self, stream_id: int) -> None:
        handle = self._deadlines.pop(stream_id, None)
        if handle is not None:
            handle.cancel()

    def _closed_down(self, reason: str = "node stopping") -> None:
        for handle in self._deadlines.values():
            handle.cancel()
        self._deadlines.clear()
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        for task in self._tasks:
            task.cancel()
        if self._requests is not None:
            self._requests.close()
        if self._counted:
            self._counted = False
            self._server.connections.pop(self, None)
            self._server.observer.connection_closed(TRANSPORT)
            self._server.log.connection(TRANSPORT, self._peer, "closed", reason=reason)


@dataclass(frozen=True)
class QuicService:
    """A listening HTTP/3 endpoint; `close()` stops it and drops its connections."""

    host: str
    port: int
    _server: _Server = field(repr=False)
    _quic_server: object = field(repr=False)

    @property
    def connections(self) -> int:
        return len(self._server.connections)

    def close(self) -> None:
        for protocol in list(self._server.connections):
            protocol._closed_down()
        self._quic_server.close()


def server_configuration(tls: TlsFiles, limits: QuicLimits, *,
                         doq: bool = False) -> QuicConfiguration:
    """HTTP/3, and DNS-over-QUIC beside it when `doq`: the client's ALPN picks."""
    alpn = [*H3_ALPN, DOQ_ALPN] if doq else H3_ALPN
    config = QuicConfiguration(is_client=False, alpn_protocols=alpn,
                               idle_timeout=limits.idle_timeout)
    try:
        config.load_cert_chain(tls.cert, tls.key)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the node's TLS certificate {tls.cert}: {exc}") from exc
    return config


def too_large_body(max_body: int) -> Callable[[int | None], bytes]:
    """The 413's body: the JSON-RPC `too_large` error the dispatcher itself would give."""
    from ..exceptions import RequestTooLargeError
    from ..rpc import codec

    def body(size: int | None) -> bytes:
        said = f"{size} bytes" if size is not None else "body"
        exc = RequestTooLargeError(f"{said} is over the limit of {max_body} bytes",
                                   limit=max_body)
        return codec.encode([codec.failure(None, exc)], is_batch=False)

    return body


async def serve_quic(handle: Handler, *, host: str, port: int, tls: TlsFiles,
                     limits: QuicLimits = QuicLimits(), observer: QuicObserver | None = None,
                     max_body: int = DEFAULT_MAX_BODY,
                     dns: DnsHandler | None = None,
                     log: ConnectionLog | None = None,
                     answers: Answers | None = None) -> QuicService:
    """Serve `handle` over HTTP/3 on UDP host:port (port 0: any free port) until `close()`.
    `observer` is the node's metrics (NodeMetrics has the hooks); `max_body` should be the
    dispatcher's, so both transports refuse the same bodies. `dns`, when given, answers
    DNS-over-QUIC on the same port for clients that negotiate ALPN `doq` (node/doq.py).
    `log` gets a `connection` event per connection opened (at its handshake), closed or
    refused. `handle` may raise NodeUnavailableError (busy, stopping): a 503 with the
    JSON-RPC error and `Retry-After: 1`. `answers` (the node's Dispatcher) makes the
    bodies of the 413, 503 and 500 the adapter gives itself, and reports each as
    HTTP/1.1's are (a `rejected` line and count, an `internal_error` line); without it
    they are the same bodies, reported nowhere."""
    server = _Server(handle, limits, observer or _Silent(), max_body, dns, log, answers)

    def create_protocol(quic: QuicConnection, **kwargs) -> _H3Protocol:
        # QUIC's own stream credit matches the request limit, so a well-behaved client
        # waits for a free stream instead of being refused (aioquic has no public knob
        # for it; the value is read when the transport parameters are first sent).
        limit = quic._local_max_streams_bidi
        limit.value = limit.sent = limits.max_streams
        return _H3Protocol(quic, server=server, **kwargs)

    configuration = server_configuration(tls, limits, doq=dns is not None)
    loop = asyncio.get_running_loop()
    try:
        transport, quic_server = await loop.create_datagram_endpoint(
            lambda: _DrainingServer(server=server, configuration=configuration,
                                    create_protocol=create_protocol),
            local_addr=(host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen for QUIC on {host}:{port}: "
                          f"{exc.strerror or exc}") from exc
    grow_receive_buffer(transport, limits.receive_buffer)
    return QuicService(host, transport.get_extra_info("sockname")[1], server, quic_server)


def grow_receive_buffer(transport: asyncio.DatagramTransport, size: int) -> None:
    """Ask for a `size`-byte receive buffer on the endpoint's socket (best effort: the
    kernel may give less, and a platform without the option keeps its default)."""
    import socket

    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    except OSError:
        pass
