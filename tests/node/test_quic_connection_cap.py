"""The HTTP/3 listener's connection cap on real UDP sockets over loopback: handshakes a
stranger starts and never finishes cannot hold every place, and what runs is never
closed to make room."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import pytest
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection

from ghost_cli.client import transport as client_transport
from ghost_cli.exceptions import GhostError
from ghost_cli.node import quic as node_quic
from ghost_cli.node.tls import ensure_dev_tls

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]
CAP = 3
#: Generous: a bound on waiting for loopback packets, never a measurement.
SETTLE = 10.0


class Log:
    def __init__(self) -> None:
        self.states: list[str] = []

    def connection(self, transport: str, peer: str, state: str, **fields: object) -> None:
        self.states.append(state)


def half_open_handshakes(port: int, count: int) -> None:
    """`count` QUIC Initial packets from one socket, each a new connection, never answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(count):
            config = QuicConfiguration(is_client=True, alpn_protocols=["h3"],
                                       verify_mode=ssl.CERT_NONE)
            conn = QuicConnection(configuration=config)
            conn.connect(("127.0.0.1", port), now=time.time())
            for data, _ in conn.datagrams_to_send(now=time.time()):
                sock.sendto(data, ("127.0.0.1", port))


async def settle(check) -> None:
    deadline = time.monotonic() + SETTLE
    while not check():
        assert time.monotonic() < deadline, "the listener never got there"
        await asyncio.sleep(0.01)


async def open_client(port: int, tls):
    return await client_transport.open_quic(
        "quic://test", "127.0.0.1", port, alpn=["h3"], ca_pem=tls.ca.read_bytes(),
        protocol_class=client_transport._h3_client_protocol(), connect_timeout=5)


@pytest.fixture
def tls(tmp_path):
    return ensure_dev_tls(tmp_path)


def test_handshakes_never_finished_do_not_lock_clients_out(tls):
    async def echo(body: bytes, peer: str) -> bytes:
        return body

    async def scenario():
        log = Log()
        service = await node_quic.serve_quic(
            echo, host="127.0.0.1", port=0, tls=tls, log=log,
            limits=node_quic.QuicLimits(max_connections=CAP))
        try:
            half_open_handshakes(service.port, 2 * CAP)
            await settle(lambda: log.states.count("open") == 2 * CAP)
            protocol, transport = await open_client(service.port, tls)
            try:
                return await protocol.request(HEADERS, b'{"x": 1}'), service.connections, log
            finally:
                protocol.close()
                transport.close()
        finally:
            service.close()

    answer, connections, log = asyncio.run(scenario())
    assert answer == (200, b'{"x": 1}')
    assert connections == CAP and "refused" not in log.states
    # Each handshake past the cap evicted the oldest waiting one (the client's did too).
    assert log.states.count("evicted") == CAP + 1


def test_connections_with_requests_running_are_kept_and_a_new_one_refused(tls):
    release = None

    async def held(body: bytes, peer: str) -> bytes:
        await release.wait()
        return body

    async def scenario():
        nonlocal release
        release = asyncio.Event()
        log = Log()
        service = await node_quic.serve_quic(
            held, host="127.0.0.1", port=0, tls=tls, log=log,
            limits=node_quic.QuicLimits(max_connections=CAP))
        clients, running = [], []
        try:
            for i in range(CAP):
                clients.append(await open_client(service.port, tls))
                running.append(asyncio.create_task(
                    clients[-1][0].request(HEADERS, b'{"n": %d}' % i)))
            await settle(lambda: all(not p.waiting for p in service._server.connections))
            with pytest.raises(GhostError):
                await open_client(service.port, tls)
            release.set()
            return [await r for r in running], log
        finally:
            for protocol, transport in clients:
                protocol.close()
                transport.close()
            service.close()

    answers, log = asyncio.run(scenario())
    assert answers == [(200, b'{"n": %d}' % i) for i in range(CAP)]
    assert "evicted" not in log.states and "refused" in log.states
