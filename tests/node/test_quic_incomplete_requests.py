"""Requests that never arrive whole, over HTTP/3 and DNS over QUIC alike, on real UDP
sockets over loopback: a stream whose request (for DoQ, a query whose length promises
more bytes than it sends) is not whole within request_timeout of its first byte is reset,
so a client that opens streams and stalls gives their places back; its connection's other
requests are served, and a request sent slowly in pieces but whole in time is served."""

from __future__ import annotations

import asyncio

import pytest
from quic_clients import PROTOCOLS, serving

from ghost_cli.node import quic as node_quic
from ghost_cli.node.tls import ensure_dev_tls

#: Request streams a connection may have open: the two stalled ones take them all.
STREAMS = 2
#: How far apart a slow client's pieces go out: its deadline is many of these away.
PACE = 0.2


async def answer(body: bytes, peer: str) -> bytes:
    return b'{"jsonrpc": "2.0", "result": "0x1", "id": 1}'


async def dns_answer(query: bytes, peer: str) -> bytes:
    return query  # the node frames it as it is: no DNS message needed


def connected(tls, request_timeout: float, kind):
    """A node on loopback whose requests have request_timeout to arrive whole, and a
    client of `kind` connected to it."""
    limits = node_quic.QuicLimits(request_timeout=request_timeout, max_streams=STREAMS)
    return serving(tls, kind, limits, answer=answer, dns_answer=dns_answer)


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_not_whole_in_time_is_reset_and_gives_its_place_back(tls, protocol):
    kind = PROTOCOLS[protocol]

    async def scenario():
        async with connected(tls, 0.5, kind) as (client, _, log):
            first = client.ask()
            await client.until(lambda: first in client.answers)
            # Every place the connection has, held by a request one byte short.
            stalled = [client.start(kind.message[:-1]) for _ in range(STREAMS)]
            # Waits for QUIC's stream credit: only a stalled stream's reset frees it.
            last = client.ask()
            await client.until(lambda: last in client.answers)
            return first, stalled, last, client, list(log.lines)

    first, stalled, last, client, lines = asyncio.run(scenario())
    assert client.resets == {stream: kind.incomplete for stream in stalled}
    assert set(client.answers) == {first, last} and not client.terminated.done()
    # As over HTTP/3, a stream's reset is not a connection event: nothing is logged.
    assert [state for state, _ in lines] == ["open"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_sent_slowly_but_whole_in_time_is_served(tls, protocol):
    """Its pieces go out PACE apart, the first (for DoQ, half its length) on its own:
    the node waits for the rest until the deadline."""
    kind = PROTOCOLS[protocol]

    async def scenario():
        async with connected(tls, 5.0, kind) as (client, _, _):
            message = kind.message
            stream = client.start(message[:1])
            for piece in (message[1:3], message[3:5]):
                await asyncio.sleep(PACE)
                client.more(stream, piece)
            await asyncio.sleep(PACE)
            client.more(stream, message[5:], end=True)
            await client.until(lambda: stream in client.answers or bool(client.resets))
            return stream, client

    stream, client = asyncio.run(scenario())
    assert client.resets == {} and stream in client.answers
