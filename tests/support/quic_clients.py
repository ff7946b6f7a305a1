"""Clients for the node's QUIC port on loopback, one per protocol it speaks (HTTP/3 and
DNS over QUIC) with the same calls, so a test of a rule both share runs for each: open a
request stream whole or in pieces, and see what comes back (answers, the streams the node
resets, how the connection ends)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aioquic.asyncio import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection
from aioquic.h3.events import DataReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, StreamDataReceived, StreamReset

from ghost_cli.node.doq import DOQ_EXCESSIVE_LOAD
from ghost_cli.node.quic import DnsHandler, Handler, QuicLimits, serve_quic

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]
QUERY = b"\0" * 12  # the node's DNS handler in these tests answers anything
#: Generous: a bound on waiting for loopback packets, never a measurement.
SETTLE = 10.0


class Client(QuicConnectionProtocol):
    """Counts the answer bytes it is given, keeps each answer once whole and each stream
    the node resets (by its code), and hears how its connection ends."""

    alpn: list[str]
    cancelled: int  # the code of a connection closed for answers its client left unread
    incomplete: int  # the code of a stream reset for a request not whole in time
    message: bytes  # a whole request, as `start` and `more` send it

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        loop = asyncio.get_running_loop()
        self.received = 0
        self.ended = loop.create_future()  # the first answer whole: bytes received by then
        self.terminated: asyncio.Future = loop.create_future()
        self.answers: dict[int, bytes] = {}
        self.resets: dict[int, int] = {}
        self._arriving: dict[int, bytearray] = {}
        self._event = asyncio.Event()

    def quic_event_received(self, event) -> None:
        if isinstance(event, ConnectionTerminated) and not self.terminated.done():
            self.terminated.set_result(event)
        if isinstance(event, StreamReset):
            self.resets[event.stream_id] = event.error_code
        for stream_id, data, ended in self.answer_data(event):
            self.received += len(data)
            self._arriving.setdefault(stream_id, bytearray()).extend(data)
            if ended:
                self.answers[stream_id] = bytes(self._arriving.pop(stream_id))
                if not self.ended.done():
                    self.ended.set_result(self.received)
        self._event.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (at most SETTLE) until `condition()` holds, looked at after each event."""
        async def wait() -> None:
            while not condition():
                self._event.clear()
                await self._event.wait()

        await asyncio.wait_for(wait(), SETTLE)

    def ask(self) -> int:
        """Send a whole request on a new stream."""
        return self.start(self.message, end=True)

    def start(self, data: bytes, *, end: bool = False) -> int:
        """Open a request stream with the first `data` of its request."""
        raise NotImplementedError

    def more(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        """Send more of a stream's request."""
        raise NotImplementedError

    def answer_data(self, event):
        """(stream id, answer bytes, whether the answer ended) in `event`."""
        raise NotImplementedError


class H3Client(Client):
    alpn = H3_ALPN
    cancelled = ErrorCode.H3_REQUEST_CANCELLED
    incomplete = ErrorCode.H3_REQUEST_INCOMPLETE
    message = b'{"jsonrpc": "2.0", "method": "ghost_chainId", "id": 1}'  # a body

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)

    def answer_data(self, event):
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, DataReceived):
                yield h3_event.stream_id, h3_event.data, h3_event.stream_ended

    def start(self, data: bytes, *, end: bool = False) -> int:
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, HEADERS)
        self.more(stream_id, data, end=end)
        return stream_id

    def more(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        self.h3.send_data(stream_id, data, end_stream=end)
        self.transmit()


class DoqClient(Client):
    alpn = ["doq"]
    cancelled = DOQ_EXCESSIVE_LOAD
    incomplete = DOQ_EXCESSIVE_LOAD
    message = len(QUERY).to_bytes(2, "big") + QUERY  # framed: its length, then the query

    def answer_data(self, event):
        if isinstance(event, StreamDataReceived):
            yield event.stream_id, event.data, event.end_stream

    def start(self, data: bytes, *, end: bool = False) -> int:
        stream_id = self._quic.get_next_available_stream_id()
        self.more(stream_id, data, end=end)
        return stream_id

    def more(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        self._quic.send_stream_data(stream_id, data, end_stream=end)
        self.transmit()


#: The client of each protocol the node's QUIC port speaks.
PROTOCOLS: dict[str, type[Client]] = {"h3": H3Client, "doq": DoqClient}


class Log:
    """The node's connection log, as (state, reason) pairs."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, object]] = []

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None:
        self.lines.append((state, fields.get("reason")))


@contextlib.asynccontextmanager
async def serving(tls, kind: type[Client], limits: QuicLimits, *, answer: Handler,
                  dns_answer: DnsHandler, connection: type[QuicConnection] = QuicConnection,
                  **config):
    """The node's QUIC port on loopback (`answer` for HTTP/3, `dns_answer` for DoQ, under
    `limits`) and a client of `kind` (on its QUIC `connection`, configured with `config`)
    connected to it, trusting `tls`'s CA: (client, service, the node's connection log)."""
    log = Log()
    service = await serve_quic(answer, host="127.0.0.1", port=0, tls=tls, log=log,
                               dns=dns_answer, limits=limits)
    transport = None
    try:
        configuration = QuicConfiguration(is_client=True, alpn_protocols=kind.alpn,
                                          **config)
        configuration.load_verify_locations(cadata=tls.ca.read_bytes())
        transport, client = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: kind(connection(configuration=configuration)),
            remote_addr=("127.0.0.1", service.port))
        client.connect(("127.0.0.1", service.port))
        await asyncio.wait_for(client.wait_connected(), SETTLE)
        yield client, service, log
    finally:
        if transport is not None:
            transport.close()
        service.close()
