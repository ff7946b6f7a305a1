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
from aioquic.quic.connection import QuicConnection
from quic_clients import PROTOCOLS, SETTLE, Client, serving

from ghost_cli.node import quic as node_quic
from ghost_cli.node.tls import ensure_dev_tls

ANSWER = b"x" * (2 * 1024 * 1024)
DNS_ANSWER = b"x" * 60_000  # the node frames it as it is: no DNS message needed
#: How often a slow reader grants more credit: well inside its answer_timeout.
PACE = 0.3
#: The bytes of the answer each protocol's client gets (DoQ's length prefix too).
SIZES = {"h3": len(ANSWER), "doq": 2 + len(DNS_ANSWER)}


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


def read(client: Client) -> None:
    """Grant a slow reader's next piece of credit."""
    client._quic.reading = True
    client.transmit()
    client._quic.reading = False


async def answer(body: bytes, peer: str) -> bytes:
    return ANSWER


async def dns_answer(query: bytes, peer: str) -> bytes:
    return DNS_ANSWER


@contextlib.asynccontextmanager
async def asked(tls, answer_timeout: float, connection: type[QuicConnection],
                kind: type[Client]):
    """A node on loopback whose answers wait answer_timeout for a client to read them, and
    a client of `kind` (its QUIC `connection`) that has asked it once."""
    async with serving(tls, kind, node_quic.QuicLimits(answer_timeout=answer_timeout),
                       answer=answer, dns_answer=dns_answer, connection=connection,
                       max_stream_data=2000) as (client, service, log):
        client.ask()
        yield client, service, log


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_connection_whose_answer_is_not_read_is_closed(tls, protocol):
    kind, size = PROTOCOLS[protocol], SIZES[protocol]

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
    kind, size = PROTOCOLS[protocol], SIZES[protocol]

    async def scenario():
        async with asked(tls, 2.0, QuicConnection, kind) as (client, _, _):
            return await asyncio.wait_for(client.ended, SETTLE)

    assert asyncio.run(scenario()) == size


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_client_that_reads_slowly_but_steadily_keeps_its_connection(tls, protocol):
    """Its answer takes longer than answer_timeout to arrive, a piece every PACE:
    progress, not speed, is what the node asks for."""
    kind, size = PROTOCOLS[protocol], SIZES[protocol]

    async def scenario():
        async with asked(tls, 1.0, ReadsSlowly, kind) as (client, _, log):
            pieces = 0
            while not client.ended.done():
                assert not client.terminated.done(), client.terminated.result()
                assert pieces < 100  # bounded: a stuck test fails
                await asyncio.sleep(PACE)
                read(client)
                pieces += 1
            return client.ended.result(), pieces, client.terminated.done(), log.lines

    received, pieces, terminated, lines = asyncio.run(scenario())
    assert received == size and not terminated
    assert pieces * PACE > 1.0  # it did take longer than answer_timeout
    assert not [line for line in lines if line[0] == "timeout"]
