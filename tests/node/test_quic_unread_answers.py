"""HTTP/3 answers a client does not read, on real UDP sockets over loopback: aioquic holds
an answer whole until QUIC's flow control lets it out, so a client that never reads would
keep it (up to 8 MiB a stream) for as long as it keeps its connection alive. The node
closes such a connection, as HTTP/1.1 closes one whose answer is not read; a client that
reads gets its answer whole."""

from __future__ import annotations

import asyncio
import time

import pytest
from aioquic.asyncio import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated

from ghost_cli.node import quic as node_quic
from ghost_cli.node.tls import ensure_dev_tls

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]
ANSWER = b"x" * (2 * 1024 * 1024)
#: Generous: a bound on waiting for loopback packets, never a measurement.
SETTLE = 10.0


class NeverReads(QuicConnection):
    """A client that takes the first 2,000 bytes of each stream and never grants more:
    what a client that stops reading looks like to the node."""

    def _write_stream_limits(self, builder, space, stream) -> None:
        pass


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.received = 0
        self.ended = asyncio.get_running_loop().create_future()
        self.terminated: asyncio.Future = asyncio.get_running_loop().create_future()

    def quic_event_received(self, event) -> None:
        if isinstance(event, ConnectionTerminated) and not self.terminated.done():
            self.terminated.set_result(event.reason_phrase)
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, DataReceived):
                self.received += len(h3_event.data)
                if h3_event.stream_ended and not self.ended.done():
                    self.ended.set_result(self.received)

    def ask(self) -> None:
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, HEADERS)
        self.h3.send_data(stream_id, b"{}", end_stream=True)
        self.transmit()


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, object]] = []

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None:
        self.lines.append((state, fields.get("reason")))


async def connect(port: int, tls, connection: type[QuicConnection]) -> tuple[Client, object]:
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                               max_stream_data=2000)
    config.load_verify_locations(cadata=tls.ca.read_bytes())
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        lambda: Client(connection(configuration=config)), remote_addr=("127.0.0.1", port))
    client.connect(("127.0.0.1", port))
    await asyncio.wait_for(client.wait_connected(), SETTLE)
    return client, transport


async def answer(body: bytes, peer: str) -> bytes:
    return ANSWER


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


def test_a_connection_whose_answer_is_not_read_is_closed(tls):
    async def scenario():
        log = Log()
        service = await node_quic.serve_quic(
            answer, host="127.0.0.1", port=0, tls=tls, log=log,
            limits=node_quic.QuicLimits(answer_timeout=0.5))
        client, transport = await connect(service.port, tls, NeverReads)
        try:
            client.ask()
            reason = await asyncio.wait_for(client.terminated, SETTLE)
            deadline = time.monotonic() + SETTLE
            while service.connections:  # gone, and its answer with it
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            return reason, client.received, log.lines
        finally:
            transport.close()
            service.close()

    reason, received, lines = asyncio.run(scenario())
    assert reason == "answer not read" and received < len(ANSWER)
    assert ("timeout", "answer not read within 0.5 s") in lines


def test_a_client_that_reads_gets_its_answer_whole(tls):
    async def scenario():
        service = await node_quic.serve_quic(
            answer, host="127.0.0.1", port=0, tls=tls,
            limits=node_quic.QuicLimits(answer_timeout=2.0))
        client, transport = await connect(service.port, tls, QuicConnection)
        try:
            client.ask()
            return await asyncio.wait_for(client.ended, SETTLE)
        finally:
            transport.close()
            service.close()

    assert asyncio.run(scenario()) == len(ANSWER)
