"""The HTTP/3 listener's handshake budgets on real UDP sockets over loopback: Initial
packets past an address's budget get a Retry instead of a TLS handshake, a real client
still gets through (it returns the Retry's token), and one address's flood leaves another
address's budget alone."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import ssl
import time

import pytest
from aioquic.buffer import Buffer
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.packet import QuicPacketType, pull_quic_header
from node_helpers import has_ipv6_loopback

from ghost_cli.client import transport as client_transport
from ghost_cli.exceptions import GhostError
from ghost_cli.node import quic as node_quic
from ghost_cli.node.handshakes import HandshakeLimits
from ghost_cli.node.tls import ensure_dev_tls

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]
#: Generous: a bound on waiting for loopback packets, never a measurement.
SETTLE = 10.0


class Observer:
    """The listener's metric hooks, recorded: handshake outcomes and open connections."""

    def __init__(self) -> None:
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.opened = 0

    def connection_opened(self, transport: str) -> None:
        self.opened += 1

    def connection_closed(self, transport: str) -> None:
        pass

    stream_opened = stream_closed = connection_closed

    def handshake(self, transport: str, outcome: str) -> None:
        self.outcomes[outcome] += 1


def initial(port: int, token: bytes = b"") -> bytes:
    """The first datagram of a new client connection (its own connection ID)."""
    config = QuicConfiguration(is_client=True, alpn_protocols=["h3"],
                               verify_mode=ssl.CERT_NONE)
    config.token = token
    conn = QuicConnection(configuration=config)
    conn.connect(("127.0.0.1", port), now=time.time())
    [(data, _)] = conn.datagrams_to_send(now=time.time())
    return data


def sender(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(SETTLE)
    return sock


def packet_types(sock: socket.socket, count: int) -> list[QuicPacketType]:
    """The types of the next `count` datagrams the node sends `sock`."""
    types = []
    for _ in range(count):
        data = sock.recv(65536)
        types.append(pull_quic_header(Buffer(data=data), host_cid_length=8).packet_type)
    return types


async def settle(check) -> None:
    deadline = time.monotonic() + SETTLE
    while not check():
        assert time.monotonic() < deadline, "the listener never got there"
        await asyncio.sleep(0.01)


async def request(port: int, tls, connect_timeout: float = 5.0):
    protocol, transport = await client_transport.open_quic(
        "quic://test", "127.0.0.1", port, alpn=["h3"], ca_pem=tls.ca.read_bytes(),
        protocol_class=client_transport._h3_client_protocol(),
        connect_timeout=connect_timeout)
    try:
        return await protocol.request(HEADERS, b'{"x": 1}')
    finally:
        protocol.close()
        transport.close()


async def echo(body: bytes, peer: str) -> bytes:
    return body


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


def serve(tls, observer: Observer, **handshakes):
    limits = node_quic.QuicLimits(handshakes=HandshakeLimits(**handshakes))
    return node_quic.serve_quic(echo, host="127.0.0.1", port=0, tls=tls, observer=observer,
                                limits=limits)


def test_a_flood_from_one_address_gets_retries_past_its_budget_and_not_another(tls):
    async def scenario():
        observer = Observer()
        service = await serve(tls, observer, per_address_burst=4, per_address_rate=0.0)
        try:
            with sender("127.0.0.2") as flood:
                for _ in range(20):
                    flood.sendto(initial(service.port), ("127.0.0.1", service.port))
                await settle(lambda: sum(observer.outcomes.values()) == 20)
                assert dict(observer.outcomes) == {"started": 4, "retry": 16}
                assert observer.opened == 4
                # The retries were sent (each answer is a datagram of its own; the
                # handshakes' come first or interleaved, all of type Initial/Handshake).
                seen = await asyncio.to_thread(packet_types, flood, 16 + 4)
                assert seen.count(QuicPacketType.RETRY) == 16
            with sender("127.0.0.1") as other:
                other.sendto(initial(service.port), ("127.0.0.1", service.port))
                await settle(lambda: observer.outcomes["started"] == 5)
            return observer.opened
        finally:
            service.close()

    assert asyncio.run(scenario()) == 5


def test_a_real_client_past_the_listeners_budget_gets_through_a_retry(tls):
    async def scenario():
        observer = Observer()
        # No handshake at all without a Retry; two proven ones for the address.
        service = await serve(tls, observer, total_burst=0, total_rate=0.0,
                              per_address_burst=2, per_address_rate=0.0)
        try:
            answers = [await request(service.port, tls), await request(service.port, tls)]
            assert dict(observer.outcomes) == {"retry": 2, "started": 2}
            # The third proves its address too, but the address's budget is spent: its
            # Initials are dropped, and it cannot connect.
            with pytest.raises(GhostError):
                await request(service.port, tls, connect_timeout=1.0)
            assert observer.outcomes["dropped"] >= 1 and observer.outcomes["started"] == 2
            return answers
        finally:
            service.close()

    assert asyncio.run(scenario()) == [(200, b'{"x": 1}')] * 2


def test_an_initial_with_a_token_the_node_never_made_opens_nothing(tls):
    async def scenario():
        observer = Observer()
        service = await serve(tls, observer)
        try:
            with sender("127.0.0.1") as forger:
                forger.sendto(initial(service.port, token=b"\x00" * 40),
                              ("127.0.0.1", service.port))
                await settle(lambda: observer.outcomes["invalid_token"] == 1)
                # aioquic closes it at once (INVALID_TOKEN, in an Initial packet).
                assert await asyncio.to_thread(packet_types, forger, 1) == \
                    [QuicPacketType.INITIAL]
            # A client with no token is unaffected.
            answer = await request(service.port, tls)
            return answer, observer
        finally:
            service.close()

    answer, observer = asyncio.run(scenario())
    assert answer == (200, b'{"x": 1}')
    assert observer.opened == 1 and dict(observer.outcomes) == {"invalid_token": 1,
                                                                "started": 1}


def long_header(version: int, dcid: bytes, scid: bytes, size: int = 0) -> bytes:
    """A long-header packet of `version` (a Handshake packet's layout in QUIC v1, empty),
    padded to `size` bytes."""
    packet = (b"\xe0" + version.to_bytes(4, "big") + bytes([len(dcid)]) + dcid
              + bytes([len(scid)]) + scid + b"\x00")
    return packet + b"\x00" * (size - len(packet))


def test_a_short_packet_of_an_unknown_version_gets_no_version_negotiation(tls):
    """A Version Negotiation is larger than the shortest long-header packet asking for
    it (8 bytes in, 15 out): answered to a spoofed source, the node would amplify. Only
    a datagram that could open a connection (1200 bytes) gets one (RFC 9000 §5.2.2)."""

    async def scenario():
        service = await serve(tls, Observer())
        try:
            with sender("127.0.0.1") as probe:
                target = ("127.0.0.1", service.port)
                probe.sendto(long_header(0x1A2A3A4A, b"", b"small"), target)
                probe.sendto(long_header(0x1A2A3A4A, b"", b"large", size=1200), target)
                # Loopback keeps the order: an answer to the short one would come first.
                return await asyncio.to_thread(probe.recv, 65536)
        finally:
            service.close()

    answer = asyncio.run(scenario())
    header = pull_quic_header(Buffer(data=answer), host_cid_length=8)
    assert header.packet_type == QuicPacketType.VERSION_NEGOTIATION
    assert header.destination_cid == b"large"


@pytest.mark.skipif(not has_ipv6_loopback(socket.SOCK_DGRAM), reason="no IPv6 loopback")
def test_the_ghost_client_reaches_an_ipv6_listener_through_a_retry(tls):
    async def scenario():
        observer = Observer()
        # No handshake without a Retry: the client's return carries an IPv6 token.
        limits = node_quic.QuicLimits(handshakes=HandshakeLimits(total_burst=0,
                                                                 total_rate=0.0))
        service = await node_quic.serve_quic(echo, host="::1", port=0, tls=tls,
                                             observer=observer, limits=limits)
        transport = client_transport.Http3Transport(f"quic://[::1]:{service.port}",
                                                    ca_pem=tls.ca.read_bytes())
        try:
            return await transport.post(b'{"x": 1}', idempotent=True), observer
        finally:
            await transport.aclose()
            service.close()

    answer, observer = asyncio.run(scenario())
    assert answer == b'{"x": 1}'
    assert dict(observer.outcomes) == {"retry": 1, "started": 1}


def test_a_retry_token_opens_a_connection_only_from_the_address_and_port_it_was_for(tls):
    """A Retry's token proves one address and port: the same Initial from another port
    of the same host starts nothing. It is a token not its own, as a forged one is: here,
    with no budget for Initials without a proven address, dropped (within that budget,
    closed with INVALID_TOKEN: the test below)."""

    async def scenario():
        observer = Observer()
        # No handshake without a Retry.
        service = await serve(tls, observer, total_burst=0, total_rate=0.0)
        target = ("127.0.0.1", service.port)
        try:
            with sender("127.0.0.1") as owner, sender("127.0.0.1") as other:
                config = QuicConfiguration(is_client=True, alpn_protocols=["h3"],
                                           verify_mode=ssl.CERT_NONE)
                client = QuicConnection(configuration=config)
                client.connect(target, now=time.time())
                [(first, _)] = client.datagrams_to_send(now=time.time())
                owner.sendto(first, target)
                retry = await asyncio.to_thread(owner.recv, 65536)
                client.receive_datagram(retry, target, now=time.time())
                [(proven, _)] = client.datagrams_to_send(now=time.time())
                other.sendto(proven, target)
                await settle(lambda: observer.outcomes["dropped"] == 1)
                owner.sendto(proven, target)
                await settle(lambda: observer.outcomes["started"] == 1)
            return dict(observer.outcomes)
        finally:
            service.close()

    assert asyncio.run(scenario()) == {"retry": 1, "dropped": 1, "started": 1}


def test_forged_tokens_are_answered_only_within_the_budget(tls):
    """An INVALID_TOKEN close costs the node more than a Retry: past the budget of
    Initials without a proven address, one with a forged token is dropped unanswered."""
    async def scenario():
        observer = Observer()
        service = await serve(tls, observer, per_address_burst=4, per_address_rate=0.0)
        try:
            with sender("127.0.0.2") as forger:
                forger.settimeout(0.5)
                for _ in range(12):
                    forger.sendto(initial(service.port, token=b"\x00" * 40),
                                  ("127.0.0.1", service.port))
                await settle(lambda: sum(observer.outcomes.values()) == 12)
                answers = 0
                with contextlib.suppress(TimeoutError):
                    while True:
                        await asyncio.to_thread(forger.recv, 65536)
                        answers += 1
            return dict(observer.outcomes), answers, observer.opened
        finally:
            service.close()

    outcomes, answers, opened = asyncio.run(scenario())
    assert outcomes == {"invalid_token": 4, "dropped": 8}
    assert answers == 4 and opened == 0
