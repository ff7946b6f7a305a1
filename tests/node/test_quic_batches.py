"""Datagrams read in batches: the node's HTTP/3 listener and the client's QUIC connection
read every datagram already waiting before they build packets once (ghost_cli/datagrams.py),
on real UDP sockets over loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from aioquic.asyncio import QuicConnectionProtocol
from aioquic.quic.connection import QuicConnection

from ghost_cli import datagrams
from ghost_cli.client import transport as client_transport
from ghost_cli.node import quic as node_quic
from ghost_cli.node.tls import ensure_dev_tls

HEADERS = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
           (b":path", b"/"), (b"content-type", b"application/json")]


@pytest.fixture
def udp_pair():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    yield receiver, sender
    receiver.close()
    sender.close()


def test_read_waiting_hands_over_every_waiting_datagram_in_order(udp_pair):
    receiver, sender = udp_pair
    for i in range(5):
        sender.sendto(b"d%d" % i, receiver.getsockname())
    got, errors = [], []
    datagrams.read_waiting(receiver, lambda data, addr: got.append((data, addr)), errors.append)
    assert [data for data, _ in got] == [b"d0", b"d1", b"d2", b"d3", b"d4"]
    assert {addr for _, addr in got} == {sender.getsockname()}
    assert errors == []


def test_read_waiting_stops_at_its_limit_and_leaves_the_rest_queued(udp_pair):
    receiver, sender = udp_pair
    for i in range(5):
        sender.sendto(b"d%d" % i, receiver.getsockname())
    got = []
    datagrams.read_waiting(receiver, lambda data, addr: got.append(data), pytest.fail, limit=3)
    assert got == [b"d0", b"d1", b"d2"]
    datagrams.read_waiting(receiver, lambda data, addr: got.append(data), pytest.fail)
    assert got[3:] == [b"d3", b"d4"]


def test_read_waiting_reports_a_socket_error_as_asyncio_would():
    # A connected UDP socket learns from ICMP that nobody listens on the port.
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    try:
        sock.send(b"anyone?")
        errors = []
        for _ in range(100):  # the ICMP answer arrives asynchronously
            datagrams.read_waiting(sock, lambda data, addr: pytest.fail(), errors.append)
            if errors:
                break
            time.sleep(0.01)
        assert [type(e) for e in errors] == [ConnectionRefusedError]
    finally:
        sock.close()


class Batches:
    """Per side, the most datagrams its QUIC connection received between two
    packet-building passes (aioquic's own `transmit`). Building after every datagram, as
    aioquic's protocol does by default, keeps it at 1."""

    def __init__(self, monkeypatch) -> None:
        self.since = {"server": 0, "client": 0}
        self.most = {"server": 0, "client": 0}
        receive, transmit = QuicConnection.receive_datagram, QuicConnectionProtocol.transmit

        def counted_receive(conn, data, addr, now):
            self.since["client" if conn.configuration.is_client else "server"] += 1
            return receive(conn, data, addr, now)

        def counted_transmit(protocol):
            side = "server" if isinstance(protocol, node_quic._H3Protocol) else "client"
            self.most[side] = max(self.most[side], self.since[side])
            self.since[side] = 0
            return transmit(protocol)

        monkeypatch.setattr(QuicConnection, "receive_datagram", counted_receive)
        monkeypatch.setattr(QuicConnectionProtocol, "transmit", counted_transmit)


def test_datagrams_that_wait_are_read_together_and_answered_in_one_pass(
        tmp_path, monkeypatch):
    """Each side's event loop is held up while the other sends: the datagrams queue on its
    socket, and when the loop runs again they are all received before one pass builds
    the packets that answer them."""
    tls = ensure_dev_tls(tmp_path)
    batches = Batches(monkeypatch)
    body = b'{"echo": "' + b"a" * 30_000 + b'"}'  # about 25 datagrams each way
    answering = threading.Event()
    started: list = []

    async def echo(request: bytes, peer: str) -> bytes:
        answering.set()
        return request

    async def serve():
        service = await node_quic.serve_quic(echo, host="127.0.0.1", port=0, tls=tls)
        stop = asyncio.get_running_loop().create_future()
        started.append((asyncio.get_running_loop(), service.port, stop))
        try:
            await stop
        finally:
            service.close()

    server_loop = asyncio.new_event_loop()
    serving = server_loop.create_task(serve())
    thread = threading.Thread(target=server_loop.run_until_complete, args=(serving,))
    thread.start()
    try:
        while not started:
            time.sleep(0.01)
        loop, port, stop = started[0]

        async def scenario():
            protocol, transport = await client_transport.open_quic(
                "quic://test", "127.0.0.1", port, alpn=["h3"],
                ca_pem=tls.ca.read_bytes(),
                protocol_class=client_transport._h3_client_protocol(), connect_timeout=5)
            try:
                # The node's loop sleeps while the client sends its first packets.
                held = threading.Event()
                loop.call_soon_threadsafe(lambda: (held.set(), time.sleep(0.3)))
                held.wait()
                request = asyncio.create_task(protocol.request(HEADERS, body))
                while not answering.is_set():
                    await asyncio.sleep(0.001)
                time.sleep(0.3)  # and the client's, while the node sends the answer
                return await request
            finally:
                protocol.close()
                transport.close()

        status, answer = asyncio.run(scenario())
    finally:
        if started:
            server_loop.call_soon_threadsafe(started[0][2].set_result, None)
        thread.join(10)
        server_loop.close()
    assert (status, answer) == (200, body)
    assert batches.most["server"] >= 5, batches.most
    assert batches.most["client"] >= 5, batches.most
