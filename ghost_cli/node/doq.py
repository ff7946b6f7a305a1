"""DNS over QUIC (RFC 9250) on the node's QUIC port, sans-IO: QUIC events in, queries out.

A connection whose negotiated ALPN is `doq` gets a `DoqStreams` instead of HTTP/3 (the
routing is in node/quic.py). Each client-initiated bidirectional stream carries exactly
one query: a 2-byte length, then the DNS message; the answer goes back the same way and
the stream is closed. What breaks the framing costs the connection, never the node:

- a second message (or any byte past the first) on a stream, a truncated message, or
  data on a unidirectional stream: the connection is closed with DOQ_PROTOCOL_ERROR
  (as for a query with edns-tcp-keepalive, which the adapter hears of from names/dns.py);
- a query longer than `max_query`: the stream alone is reset with DOQ_EXCESSIVE_LOAD;
- more than `max_streams` queries awaiting answers: the new stream is reset likewise;
- a query not whole by the adapter's deadline from its stream's first byte (HTTP/3's
  `request_timeout`, timed in node/quic.py from `opened`, enforced by `abandon`): likewise.

A malformed DNS message inside a well-framed stream is answered FORMERR (names/dns.py).
A connection whose client reads nothing more of its answers for the adapter's
`answer_timeout` (HTTP/3's rule, watched in node/quic.py) is closed with
DOQ_EXCESSIVE_LOAD (`unread`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import (
    ConnectionTerminated,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)

ALPN = "doq"
# RFC 9250 §8.4 error codes.
DOQ_NO_ERROR = 0x0
DOQ_INTERNAL_ERROR = 0x1
DOQ_PROTOCOL_ERROR = 0x2
DOQ_REQUEST_CANCELLED = 0x3
DOQ_EXCESSIVE_LOAD = 0x4
#: A name query is tens of bytes; 4 KiB leaves room for EDNS options and nothing else.
MAX_QUERY = 4096


@dataclass(frozen=True)
class Query:
    stream_id: int
    wire: bytes  # the DNS message, without its length prefix


@dataclass
class _Stream:
    data: bytearray = field(default_factory=bytearray)
    done: bool = False  # the whole query arrived (awaiting or given its answer)
    answered: bool = False
    ended: bool = False  # the client's FIN arrived: nothing more can come


class DoqStreams:
    def __init__(self, quic: QuicConnection, *, max_query: int = MAX_QUERY,
                 max_streams: int = 32) -> None:
        self.quic = quic
        self.max_query = max_query
        self.max_streams = max_streams
        self._streams: dict[int, _Stream] = {}
        self._ignored: set[int] = set()  # reset by us: late data is dropped
        self._opened: list[int] = []  # streams begun since the last `opened()`
        self.closed = False
        self.refused = 0

    @property
    def pending(self) -> int:
        return sum(1 for s in self._streams.values() if s.done and not s.answered)

    def receive(self, event: QuicEvent) -> list[Query]:
        if isinstance(event, ConnectionTerminated):
            self.closed = True
            self._streams.clear()
        elif isinstance(event, StreamReset):
            self._streams.pop(event.stream_id, None)  # the client gave up on it
            self._ignored.discard(event.stream_id)  # and it will send nothing more
        elif isinstance(event, StopSendingReceived):  # it wants no answer: none is sent,
            self._forget(event.stream_id)  # and what it still sends is no new query
        elif isinstance(event, StreamDataReceived) and not self.closed:
            query = self._data(event)
            return [query] if query is not None else []
        return []

    def opened(self) -> list[int]:
        """Streams begun since the last call whose query is still arriving: each needs the
        adapter's deadline once, as RequestAssembler.opened's do. A query whole in its first
        packet (the usual case) is never listed."""
        if not self._opened:
            return []
        out = [sid for sid in self._opened
               if (stream := self._streams.get(sid)) is not None and not stream.done]
        self._opened.clear()
        return out

    def abandon(self, stream_id: int) -> bool:
        """Reset a stream whose query has not arrived whole by the adapter's deadline, as
        RequestAssembler.abandon resets an HTTP/3 request: its place (QUIC's stream credit,
        granted again once the client's side ends) is freed and what it still sends is
        dropped. False if the query had arrived whole, or the stream is gone.

        The code is DOQ_EXCESSIVE_LOAD, as for this layer's other bounds. RFC 9250 §4.2
        lets a server bound "dangling" streams (no whole query after an implementation-
        defined timeout), up to closing the connection, and names no code for it; a stream
        held without a query is load on the server. Not DOQ_PROTOCOL_ERROR: a slow client
        breaks no rule, and that code closes the connection (§4.3.3); not
        DOQ_INTERNAL_ERROR: §4.3.2's code for a server that cannot answer, and the node is
        not at fault; DOQ_REQUEST_CANCELLED is a client's code (§4.3.1)."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.done or self.closed:
            return False
        self._refuse(stream_id, ended=False)
        return True

    def respond(self, stream_id: int, wire: bytes) -> None:
        """Send the answer and end the stream; a stream since reset is skipped. One the
        client has not ended yet is kept until it does, so that a second message on it is
        still seen as one (and its FIN as no new stream)."""
        stream = self._streams.get(stream_id)
        if stream is None or self.closed:
            return
        self.quic.send_stream_data(stream_id, len(wire).to_bytes(2, "big") + wire,
                                   end_stream=True)
        if stream.ended:
            del self._streams[stream_id]
        else:
            stream.answered = True

    def violation(self, reason: str) -> None:
        """A query whose content breaks DoQ (names/dns.py says which): close as for a
        framing error."""
        if not self.closed:
            self._protocol_error(reason)

    def unread(self, reason: str) -> None:
        """The client has read nothing more of its answers for the adapter's answer_timeout
        (node/quic.py watches, as for HTTP/3): close the connection, and with it the answers
        QUIC's flow control was holding. DOQ_EXCESSIVE_LOAD is RFC 9250's code for closing
        a connection for the load it puts on the server, which unread answers held without
        end are, and what this layer already resets streams with for its other bounds.
        Not DOQ_NO_ERROR: that says there is nothing wrong, to a client whose queries then
        go unanswered; not DOQ_INTERNAL_ERROR: the node is not at fault; and
        DOQ_REQUEST_CANCELLED is a client's code (§4.3)."""
        if not self.closed:
            self._close(DOQ_EXCESSIVE_LOAD, reason)

    def _data(self, ev: StreamDataReceived) -> Query | None:
        sid = ev.stream_id
        if sid in self._ignored:
            if ev.end_stream:  # its last byte: nothing more can come to ignore
                self._ignored.discard(sid)
            return None
        if sid & 0x3 != 0:  # only client-initiated bidirectional streams carry queries
            return self._protocol_error("DoQ queries go on bidirectional streams")
        stream = self._streams.get(sid)
        if stream is None:
            if not ev.data and ev.end_stream:
                return self._protocol_error("empty DoQ stream")
            stream = self._streams[sid] = _Stream()
            self._opened.append(sid)
        if stream.done:
            if ev.data:
                return self._protocol_error("more than one DNS message on a DoQ stream")
            stream.ended = stream.ended or ev.end_stream  # the FIN after a whole query
            if stream.ended and stream.answered:
                del self._streams[sid]
            return None
        stream.data += ev.data
        if len(stream.data) >= 2:
            size = int.from_bytes(stream.data[:2], "big")
            if size > self.max_query:
                return self._refuse(sid, ev.end_stream)
            if len(stream.data) > 2 + size:
                return self._protocol_error("more than one DNS message on a DoQ stream")
            if len(stream.data) == 2 + size:
                if self.pending >= self.max_streams:
                    return self._refuse(sid, ev.end_stream)
                stream.done, stream.ended = True, ev.end_stream
                return Query(sid, bytes(stream.data[2:]))
        if ev.end_stream:
            return self._protocol_error("DoQ stream ended inside its DNS message")
        return None

    def _forget(self, sid: int, ended: bool = False) -> None:
        """Drop a stream; its late data is ignored until the client's side ends. An id is
        kept no longer, so the set holds only streams QUIC still counts against the
        client's stream credit."""
        stream = self._streams.pop(sid, None)
        if stream is not None:
            ended = ended or stream.ended
        else:  # never seen, or answered and ended (STOP_SENDING after the answer left)
            ended = ended or self._client_done(sid)
        if not ended:
            self._ignored.add(sid)

    def _client_done(self, sid: int) -> bool:
        """QUIC's word on whether the client can still send on `sid`, for an id this layer
        no longer holds (aioquic has no public call for it): no stream, or its receiving
        side finished."""
        stream = self.quic._streams.get(sid)
        return stream is None or stream.receiver.is_finished

    def _refuse(self, sid: int, ended: bool) -> None:
        self.refused += 1
        self._forget(sid, ended)
        try:
            self.quic.stop_stream(sid, DOQ_EXCESSIVE_LOAD)
        except ValueError:  # the client already ended its side
            pass
        self.quic.reset_stream(sid, DOQ_EXCESSIVE_LOAD)
        return None

    def _protocol_error(self, reason: str) -> None:
        self._close(DOQ_PROTOCOL_ERROR, reason)

    def _close(self, code: int, reason: str) -> None:
        self.closed = True
        self._streams.clear()
        self.quic.close(error_code=code, reason_phrase=reason)
