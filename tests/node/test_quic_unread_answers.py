"""Answers a client does not read, over HTTP/3 and DNS over QUIC alike, on real UDP
sockets over loopback: aioquic holds an answer whole until QUIC's flow control lets it out,
so a client that never reads would keep it (up to 8 MiB an HTTP/3 stream, 64 KiB a DoQ
one) for as long as it keeps its connection alive. The node closes such a connection, as
HTTP/1.1 closes one whose answer is not read; a client that reads, even slowly, gets its
answer whole."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from aioquic.asyncio import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection
from aioquic.h3.events import DataReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, StreamDataReceived

from ghost_cli.node import quic as node_quic
from ghost_cli.node.doq import DOQ_EXCESSIVE_LOAD
from ghost_cli.node.tls import ensure_dev_tls

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]
ANSWER = b"x" * (2 * 1024 * 1024)
DNS_ANSWER = b"x" * 60_000  # the node frames it as it is: no DNS message needed
QUERY = b"\0" * 12
#: Generous: a bound on waiting for loopback packets, never a measurement.
SETTLE = 10.0
#: How often a slow reader grants more credit: well inside its answer_timeout.
PACE = 0.3


class NeverReads(QuicConnection):
    """A client that takes the first 2,000 bytes of each stream and never grants more:
    what a client that stops reading looks like to the node."""

    def _write_stream_limits(self, builder, space, stream) -> None:
        pass


class ReadsSlowly(QuicConnection):
    """A client that grants more of each stream only when `read` says so (aioquic's own
    step: double the credit once it is half used), so an answer arrives in pieces, one a
    PACE, over more than an answer_timeout."""

    reading = False

    def _write_stream_limits(self, builder, space, stream) -> None:
        if self.reading:
            super()._write_stream_limits(builder, space, stream)


class Client(QuicConnectionProtocol):
    """Counts the answer bytes it is given and hears how its connection ends."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0
        self.ended = asyncio.get_running_loop().create_future()
        self.terminated: asyncio.Future = asyncio.get_running_loop().create_future()

    def quic_event_received(self, event) -> None:
        if isinstance(event, ConnectionTerminated) and not self.terminated.done():
            self.terminated.set_result(event)
        for data, ended in self.answer_data(event):
            self.received += len(data)
            if ended and not self.ended.done():
                self.ended.set_result(self.received)

    def read(self) -> None:
        """Grant a slow reader's next piece of credit."""
        self._quic.reading = True
        self.transmit()
        self._quic.reading = False


class H3Client(Client):
    alpn = H3_ALPN
    cancelled = ErrorCode.H3_REQUEST_CANCELLED

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)

    def answer_data(self, event):
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, DataReceived):
                yield h3_event.data, h3_event.stream_ended

    def ask(self) -> None:
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, HEADERS)
        self.h3.send_data(stream_id, b"{}", end_stream=True)
        self.transmit()


class DoqClient(Client):
    alpn = ["doq"]
    cancelled = DOQ_EXCESSIVE_LOAD

    def answer_data(self, event):
        if isinstance(event, StreamDataReceived):
            yield event.data, event.end_stream

    def ask(self) -> None:
        stream_id = self._quic.get_next_available_stream_id()
        self._quic.send_stream_data(stream_id, len(QUERY).to_bytes(2, "big") + QUERY,
                                    end_stream=True)
        self.transmit()


#: Each protocol's client and the bytes of the answer it gets (DoQ's length prefix too).
PROTOCOLS = {"h3": (H3Client, len(ANSWER)), "doq": (DoqClient, 2 + len(DNS_ANSWER))}


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, object]] = []

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None:
        self.lines.append((state, fields.get("reason")))


async def connect(port: int, tls, connection: type[QuicConnection],
                  client: type[Client]) -> tuple[Client, object]:
    config = QuicConfiguration(is_client=True, alpn_protocols=client.alpn,
                               max_stream_data=2000)
    config.load_verify_locations(cadata=tls.ca.read_bytes())
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: client(connection(configuration=config)), remote_addr=("127.0.0.1", port))
    protocol.connect(("127.0.0.1", port))
    await asyncio.wait_for(protocol.wait_connected(), SETTLE)
    return protocol, transport


async def answer(body: bytes, peer: str) -> bytes:
    return ANSWER


async def dns_answer(query: bytes, peer: str) -> bytes:
    return DNS_ANSWER


@contextlib.asynccontextmanager
async def asked(tls, answer_timeout: float, connection: type[QuicConnection],
                kind: type[Client]):
    """A node on loopback whose answers wait answer_timeout for a client to read them, and
    a client of `kind` (its QUIC `connection`) that has asked it once."""
    log = Log()
    service = await node_quic.serve_quic(
        answer, host="127.0.0.1", port=0, tls=tls, log=log, dns=dns_answer,
        limits=node_quic.QuicLimits(answer_timeout=answer_timeout))
    transport = None
    try:
        client, transport = await connect(service.port, tls, connection, kind)
        client.ask()
        yield client, service, log
    finally:
        if transport is not None:
            transport.close()
        service.close()


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_connection_whose_answer_is_not_read_is_closed(tls, protocol):
    kind, size = PROTOCOLS[protocol]

    async def scenario():
        async with asked(tls, 0.5, NeverReads, kind) as (client, service, log):
            closed = await asyncio.wait_for(client.terminated, SETTLE)
            deadline = time.monotonic() + SETTLE
            while service.connections:  # gone, and its answer with it
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            return closed, client.received, log.lines

    closed, received, lines = asyncio.run(scenario())
    assert closed.reason_phrase == node_quic.UNREAD and received < size
    assert closed.error_code == kind.cancelled
    assert ("timeout", "answer not read within 0.5 s") in lines


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_client_that_reads_gets_its_answer_whole(tls, protocol):
    kind, size = PROTOCOLS[protocol]

    async def scenario():
        async with asked(tls, 2.0, QuicConnection, kind) as (client, _, _):
            return await asyncio.wait_for(client.ended, SETTLE)

    assert asyncio.run(scenario()) == size


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_client_that_reads_slowly_but_steadily_keeps_its_connection(tls, protocol):
    """Its answer takes longer than answer_timeout to arrive, a piece every PACE:
    progress, not speed, is what the node asks for."""
    kind, size = PROTOCOLS[protocol]

    async def scenario():
        async with asked(tls, 1.0, ReadsSlowly, kind) as (client, _, log):
            pieces = 0
            while not client.ended.done():
                assert not client.terminated.done(), client.terminated.result()
                assert pieces < 100  # bounded: a stuck test fails
                await asyncio.sleep(PACE)
                client.read()
                pieces += 1
            return client.ended.result(), pieces, client.terminated.done(), log.lines

    received, pieces, terminated, lines = asyncio.run(scenario())
    assert received == size and not terminated
    assert pieces * PACE > 1.0  # it did take longer than answer_timeout
    assert not [line for line in lines if line[0] == "timeout"]
