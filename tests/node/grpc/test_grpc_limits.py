"""The gRPC listener's connection cap, in process over loopback: connections that only
hold a socket cannot take every file descriptor, a place freed is taken again, and
connections that only hold a socket are closed to keep places free for new ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from contextlib import asynccontextmanager

import grpc
import pytest
from node_helpers import has_ipv6_loopback

from ghost_cli.chain.store import ReceiptRecord
from ghost_cli.chain.transaction import Transaction, sign_single
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2 as chain
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc, contracts_pb2_grpc
from ghost_cli.grpc_gen.ghost.v1 import contracts_pb2 as pb
from ghost_cli.node import grpc as node_grpc
from ghost_cli.node.config import Endpoint
from ghost_cli.node.core import NodeCore
from ghost_cli.node.grpc import (
    SUBSCRIPTION_READS,
    CallsRunning,
    CommitFeed,
    ConnectionWatch,
    serve_grpc,
    stop_grpc,
)
from ghost_cli.node.pool import client_of
from ghost_cli.rpc.methods import MAX_NAME_CHARS
from ghost_cli.vm.types import Event

CAP = 2
#: An HTTP/2 client preface and an empty SETTINGS frame: a connection that asks nothing.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
#: Generous: a bound on waiting for loopback sockets, never a measurement.
SETTLE = 10.0


@pytest.fixture
def core(tmp_path):
    node = NodeCore.open(tmp_path / "node", chain_id=1337)
    yield node
    node.close()


@asynccontextmanager
async def channel_to(core):
    """A gRPC server over `core` on a loopback port, and a channel to it."""
    server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                       max_body=1 << 20)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            yield ch
    finally:
        await stop_grpc(server, CommitFeed())


async def get_account(port: int) -> grpc.StatusCode:
    """On a connection of its own (not shared with the process's other channels)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}",
                                         options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
        try:
            await chain_pb2_grpc.ChainStub(ch).GetAccount(
                chain.GetAccountRequest(address=bytes(20)), timeout=SETTLE)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK


def test_connections_past_the_cap_are_closed_at_once(core):
    async def scenario():
        server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20, max_connections=CAP)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(CAP)]
        try:
            for sock in held:
                sock.sendall(PREFACE)
            refused = await get_account(port)
            for sock in held:
                sock.close()
            deadline = time.monotonic() + SETTLE
            while (served := await get_account(port)) != grpc.StatusCode.OK:
                assert time.monotonic() < deadline, served
                await asyncio.sleep(0.05)
            return refused, served
        finally:
            for sock in held:
                sock.close()
            await stop_grpc(server, CommitFeed())

    assert asyncio.run(scenario()) == (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.OK)


class Seen:
    """The watch's metrics and log, as lists."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.open = 0

    def connection_opened(self, transport: str) -> None:
        self.open += 1

    def connection_closed(self, transport: str) -> None:
        self.open -= 1

    def connection(self, transport: str, peer: str, state: str, **fields) -> None:
        self.lines.append((peer, state))


def closed_by_server(sock: socket.socket) -> bool:
    """Reads what the server sent until it closes (True) or SETTLE passes (False)."""
    sock.settimeout(SETTLE)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset
        pass
    return True


def peer_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"{host}:{port}"


def test_at_the_cap_the_longest_unused_connection_is_closed_and_a_running_call_kept(core):
    cap = 8
    keep = cap - node_grpc.free_places(cap)

    async def scenario():
        feed = CommitFeed()
        server, port, server_id, seen, watch = await watched(core, feed, "127.0.0.1", cap)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        held: list[socket.socket] = []
        try:
            # the oldest connection, with a call running all along
            stream = chain_pb2_grpc.ChainStub(channel).SubscribeBlocks(
                chain.SubscribeBlocksRequest())
            await settle(lambda: feed._waiters)  # the call is open, waiting for a block
            deadline = time.monotonic() + SETTLE
            while len(watch.open) < 1:  # seen first: the one closed, were its call not running
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
                watch.sample()
            held = [socket.create_connection(("127.0.0.1", port)) for _ in range(cap - 1)]
            for sock in held:
                sock.sendall(PREFACE)
            deadline = time.monotonic() + SETTLE
            while len(dict(node_grpc._server_sockets(server_id))) < cap:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            refused = await get_account(port)  # at the cap, before the watch acts
            watch.sample()
            evicted = [peer for peer, state in seen.lines if state == "evicted"]
            # one of the connections that only held a socket (they were first seen together)
            [gone] = [sock for sock in held if peer_of(sock) in evicted]
            first_closed = await asyncio.to_thread(closed_by_server, gone)
            served = await get_account(port)
            still_running = not stream.done()
            stream.cancel()
            return refused, evicted, first_closed, served, still_running, seen.open
        finally:
            for sock in held:
                sock.close()
            await channel.close()
            await stop_grpc(server, feed)

    refused, evicted, first_closed, served, still_running, opened = asyncio.run(scenario())
    assert refused == grpc.StatusCode.UNAVAILABLE
    assert opened == cap and len(evicted) == cap - keep == 1
    assert first_closed and served == grpc.StatusCode.OK and still_running


def test_channelz_times_and_peers_read_as_channelz_writes_them():
    assert node_grpc._stamp_ns("1970-01-01T00:00:01Z") == 10**9
    assert node_grpc._stamp_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert node_grpc._stamp_ns("1970-01-01T00:00:01.000000007Z") == 1_000_000_007
    assert node_grpc._stamp_ns(None) == 0
    assert node_grpc._peer_name("::ffff:127.0.0.1", 5) == "127.0.0.1:5"
    assert node_grpc._peer_name("127.0.0.1", 5) == "127.0.0.1:5"
    assert node_grpc._peer_name("::1", 5) == "[::1]:5"


def test_a_connection_that_sends_no_preface_is_closed(core, monkeypatch):
    monkeypatch.setattr(node_grpc, "HANDSHAKE_MS", 300)

    async def scenario():
        server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20)
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            return await asyncio.to_thread(closed_by_server, sock)
        finally:
            sock.close()
            await stop_grpc(server, CommitFeed())

    assert asyncio.run(scenario())


@pytest.mark.parametrize("long", ["x" * (MAX_NAME_CHARS + 1), "a\0b"],
                         ids=["over the limit", "a NUL"])
def test_names_are_bounded_as_json_rpc_string_params(core, long):

    async def scenario():
        codes = []
        async with channel_to(core) as ch:
            stub = contracts_pb2_grpc.ContractsStub(ch)
            calls = [stub.Query(pb.QueryRequest(address=bytes(20), function=long),
                                timeout=SETTLE),
                     stub.SubscribeEvents(pb.SubscribeEventsRequest(name=long),
                                          timeout=SETTLE).read()]
            for call in calls:
                try:
                    await call
                except grpc.aio.AioRpcError as exc:
                    codes.append((exc.code(), dict(exc.trailing_metadata())["ghost-code"]))
        return codes

    assert asyncio.run(scenario()) == [(grpc.StatusCode.INVALID_ARGUMENT, "invalid_params")] * 2


def test_a_subscription_from_past_any_height_stays_open_and_sends_nothing(core):
    """GetBlock of such a height is not_found; a subscription reads it as 2^63 - 1 and
    waits, as from any height not yet reached: its client's deadline ends it."""
    async def scenario():
        server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20)
        codes = []
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                contracts = contracts_pb2_grpc.ContractsStub(ch)
                chain_stub = chain_pb2_grpc.ChainStub(ch)
                for call in (contracts.SubscribeEvents(
                                 pb.SubscribeEventsRequest(from_block=2**64 - 1), timeout=1),
                             chain_stub.SubscribeBlocks(
                                 chain.SubscribeBlocksRequest(from_block=2**64 - 1), timeout=1)):
                    try:
                        async for _ in call:
                            codes.append("message")
                    except grpc.aio.AioRpcError as exc:
                        codes.append(exc.code())
        finally:
            await stop_grpc(server, CommitFeed())
        return codes

    assert asyncio.run(scenario()) == [grpc.StatusCode.DEADLINE_EXCEEDED] * 2


def test_each_call_reaches_the_pool_under_its_clients_address(core):
    """The pool shares its waiting places by client: gRPC hands it the caller's peer."""
    peers: list[str] = []

    async def run(peer, fn, /, *args, **kwargs):  # the node's pool, noting whose call
        peers.append(peer)
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def scenario():
        server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20, run=run)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                await chain_pb2_grpc.ChainStub(ch).GetAccount(
                    chain.GetAccountRequest(address=bytes(20)), timeout=SETTLE)
        finally:
            await stop_grpc(server, CommitFeed())

    asyncio.run(scenario())
    [peer] = peers
    host, port = peer.rsplit(":", 1)
    assert host == "127.0.0.1" and port.isdigit() and client_of(peer) == "127.0.0.1"


def test_subscriptions_past_the_cap_are_busy_and_their_reads_share_few_pool_places(core):
    """Every commit wakes every subscription: their number is capped, and however many
    are woken at once, only SUBSCRIPTION_READS of their reads are in the pool together."""
    running, most = 0, 0

    async def run(peer, fn, /, *args, **kwargs):  # the node's pool, counting who is inside
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.02)  # long enough for every woken read to arrive
            return await asyncio.to_thread(fn, *args, **kwargs)
        finally:
            running -= 1

    async def scenario():
        feed = CommitFeed(max_subscriptions=10)
        server, port, _ = await serve_grpc(core, feed, Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20, run=run)
        try:
            channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(2)]
            streams = [chain_pb2_grpc.ChainStub(channels[i % 2]).SubscribeBlocks(
                chain.SubscribeBlocksRequest()) for i in range(10)]
            deadline = time.monotonic() + SETTLE
            while len(feed._waiters) < 10:  # every stream has read the height and waits
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            first_reads = most
            one_more = chain_pb2_grpc.ChainStub(channels[0]).SubscribeBlocks(
                chain.SubscribeBlocksRequest(), timeout=SETTLE)
            try:
                await one_more.read()
                refused = None
            except grpc.aio.AioRpcError as exc:
                refused = (exc.code(), dict(exc.trailing_metadata())["ghost-code"])
            feed.committed_elsewhere(1)  # wakes all ten at once
            deadline = time.monotonic() + SETTLE
            while running or len(feed._waiters) < 10:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            for s in streams:
                s.cancel()
            for ch in channels:
                await ch.close()
            return refused, first_reads, most
        finally:
            await stop_grpc(server, feed)

    refused, first_reads, woken_reads = asyncio.run(scenario())
    assert refused == (grpc.StatusCode.UNAVAILABLE, "busy")
    assert first_reads <= SUBSCRIPTION_READS and woken_reads <= SUBSCRIPTION_READS


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (len(payload).to_bytes(3, "big") + bytes([kind, flags])
            + stream.to_bytes(4, "big") + payload)


def _literal(name: bytes, value: bytes) -> bytes:
    """An HPACK field line: literal name and value, never indexed (RFC 7541 §6.2.3)."""
    return b"\x10" + bytes([len(name)]) + name + bytes([len(value)]) + value


async def watched(core, feed: CommitFeed, host: str, cap: int):
    """A gRPC server on `host` capped at `cap` connections, and its ConnectionWatch
    reporting to a Seen: (server, port, channelz id, seen, watch)."""
    calls = CallsRunning()
    server, port, server_id = await serve_grpc(
        core, feed, Endpoint(host, 0), max_body=1 << 20, max_connections=cap, calls=calls)
    seen = Seen()
    watch = ConnectionWatch(server_id, seen, seen, calls=calls, port=port, cap=cap)
    return server, port, server_id, seen, watch


def deploy_counter(core, code: bytes, key) -> None:
    """The counter, deployed on `core`: block 1, for a subscription to send."""
    deploy = Transaction(chain_id=1337, sender=key.address, nonce=0, kind="deploy",
                         gas_limit=10_000_000, expiry=int(time.time()) + 3600,
                         code=code, label="counter")
    core.send_transaction(sign_single(deploy, key.secret_key, key.public_key),
                          now=time.time())


async def settle(check) -> None:
    """Wait until `check()` holds (SETTLE bounds the wait; it is no measurement)."""
    deadline = time.monotonic() + SETTLE
    while not check():
        assert time.monotonic() < deadline, "never got there"
        await asyncio.sleep(0.02)


def stalled_subscriber(port: int) -> socket.socket:
    """A SubscribeBlocks from block 1 by a client that reads nothing."""
    return stalled_call(port, b"/ghost.v1.Chain/SubscribeBlocks",
                        b"\x08\x01")  # SubscribeBlocksRequest(from_block=1)


def stalled_call(port: int, path: bytes, message: bytes) -> socket.socket:
    """A call by a client that reads nothing: its HTTP/2 stream window is 0, so not one
    byte of a message can reach it (RFC 9113 §6.9.2)."""
    sock = socket.create_connection(("127.0.0.1", port))
    settings = _frame(4, 0, 0, (4).to_bytes(2, "big") + (0).to_bytes(4, "big"))
    head = b"".join(_literal(n, v) for n, v in (
        (b":method", b"POST"), (b":scheme", b"http"), (b":authority", b"127.0.0.1"),
        (b":path", path), (b"content-type", b"application/grpc"), (b"te", b"trailers")))
    sock.sendall(PREFACE[:24] + settings + _frame(1, 4, 1, head)
                 + _frame(0, 1, 1, b"\x00" + len(message).to_bytes(4, "big") + message))
    sock.settimeout(SETTLE)
    assert read_frame(sock)[0] == 4  # the server's SETTINGS: acknowledged, as HTTP/2 asks
    sock.sendall(_frame(4, 1, 0, b""))
    return sock


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    """The next HTTP/2 frame the server sent: its type, flags, stream and payload."""
    head = sock.recv(9, socket.MSG_WAITALL)
    assert len(head) == 9, "the connection closed"
    size = int.from_bytes(head[:3], "big")
    payload = sock.recv(size, socket.MSG_WAITALL) if size else b""
    assert len(payload) == size, "the connection closed"
    return head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, payload


def read_headers(sock: socket.socket, stream: int) -> None:
    """Read frames until `stream`'s first HEADERS: the server has begun its answer."""
    while True:
        kind, _, sid, _ = read_frame(sock)
        if (kind, sid) == (1, stream):
            return


def test_a_subscriber_that_reads_nothing_gives_its_place_back(core, counter_code, key,
                                                                monkeypatch):
    """A subscription's message that waits for its client past WRITE_TIMEOUT ends it: its
    place is free again for others, the connection's other calls go on."""
    monkeypatch.setattr(node_grpc, "WRITE_TIMEOUT", 0.5)
    deploy_counter(core, counter_code, key)

    async def scenario():
        feed = CommitFeed(max_subscriptions=1)
        server, port, _ = await serve_grpc(core, feed, Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20)
        try:
            sock = await asyncio.to_thread(stalled_subscriber, port)
            held = []
            deadline = time.monotonic() + SETTLE
            while not feed._waiters:  # it took the one place...
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            held.append(len(feed._waiters))
            while feed._waiters:  # ...and gives it back, its client still connected
                assert time.monotonic() < deadline, "the stalled subscription kept its place"
                await asyncio.sleep(0.01)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                stream = chain_pb2_grpc.ChainStub(ch).SubscribeBlocks(
                    chain.SubscribeBlocksRequest(from_block=1), timeout=SETTLE)
                first = await stream.read()
                stream.cancel()
            sock.close()
            return held, first.height
        finally:
            await stop_grpc(server, feed)

    held, height = asyncio.run(scenario())
    assert held == [1] and height == 1


def read_stream(sock: socket.socket, stream: int) -> tuple[int, bytes]:
    """Read frames until `stream` ends (a HEADERS frame with END_STREAM): its DATA frames'
    count, and that last HEADERS frame's payload (the trailers)."""
    messages = 0
    while True:
        kind, flags, sid, payload = read_frame(sock)
        if sid == stream and kind == 0:
            messages += 1
        if sid == stream and kind == 1 and flags & 1:  # HEADERS, END_STREAM
            return messages, payload


@pytest.mark.parametrize("then", ["reads again", "goes"])
def test_a_stream_ended_by_its_write_deadline_still_ends_cleanly(core, counter_code, key,
                                                                 monkeypatch, caplog, then):
    """A stream ended by its write deadline gives its place back at once, and still ends
    on the wire: its UNAVAILABLE waits behind the message no one read, so a client that
    reads again gets both. Nothing of it is an error for grpcio to log, the client
    leaving meanwhile included. (The status went with the first message's headers, still
    pending: grpcio refused that batch, logged an error, and the stream never ended.)"""
    monkeypatch.setattr(node_grpc, "WRITE_TIMEOUT", 0.5)
    deploy_counter(core, counter_code, key)

    async def scenario():
        feed, reports = CommitFeed(), Reports()
        server, port, _ = await serve_grpc(core, feed, Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20, observers=(reports,))
        sock = await asyncio.to_thread(stalled_subscriber, port)
        try:
            deadline = time.monotonic() + SETTLE
            while not feed._waiters:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            while feed._waiters:  # ended by its deadline: the place is free
                assert time.monotonic() < deadline, "the stalled subscription kept its place"
                await asyncio.sleep(0.01)
            if then == "goes":
                sock.close()
                return None, reports
            # The client reads again: credit for the stream and the connection.
            credit = (1 << 20).to_bytes(4, "big")
            sock.sendall(_frame(8, 0, 0, credit) + _frame(8, 0, 1, credit))
            return await asyncio.to_thread(read_stream, sock, 1), reports
        finally:
            sock.close()
            await stop_grpc(server, feed)

    with caplog.at_level(logging.ERROR, logger="grpc"):
        read, reports = asyncio.run(scenario())
    if then == "reads again":
        messages, trailers = read
        assert messages == 1 and b"grpc-status\x0214" in trailers  # 14: UNAVAILABLE
    assert [r for r in caplog.records if r.name.startswith("grpc")] == []
    assert reports.calls == [("/ghost.v1.Chain/SubscribeBlocks", "node_unavailable")]
    assert reports.internal == []


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_at_the_cap_an_ipv6_connection_is_closed_too(core):
    """channelz names an IPv6 peer percent-encoded ("%5B::1%5D:port"): the watch must
    find its socket all the same (or no IPv6 connection is ever closed for room), and
    know the connection whose call is running (or it would close that one)."""
    cap = 2

    async def scenario():
        feed = CommitFeed()
        server, port, server_id, seen, watch = await watched(core, feed, "::1", cap)
        channel = grpc.aio.insecure_channel(f"[::1]:{port}")
        held = None
        try:
            stream = chain_pb2_grpc.ChainStub(channel).SubscribeBlocks(
                chain.SubscribeBlocksRequest())
            await settle(lambda: feed._waiters)  # the call is open, waiting for a block
            deadline = time.monotonic() + SETTLE
            watch.sample()  # seen first: the one closed, were its call not known running
            held = socket.create_connection(("::1", port))
            held.sendall(PREFACE)
            while len(dict(node_grpc._server_sockets(server_id))) < cap:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            watch.sample()
            evicted = [peer for peer, state in seen.lines if state == "evicted"]
            closed = await asyncio.to_thread(closed_by_server, held)
            running = not stream.done()
            stream.cancel()
            return (evicted, f"[::1]:{held.getsockname()[1]}", closed, running,
                    sorted(watch.open.values()))
        finally:
            if held is not None:
                held.close()
            await channel.close()
            await stop_grpc(server, feed)

    evicted, raw, closed, running, names = asyncio.run(scenario())
    assert evicted == [raw] and closed and running
    assert len(names) == cap and all(name.startswith("[::1]:") for name in names)


def test_at_the_cap_a_connection_whose_answers_are_not_read_is_closed(core, counter_code,
                                                                        key, monkeypatch):
    """grpcio keeps a call open until its answer is sent, however long its client reads
    nothing; the node has nothing of it running. At the cap such a connection is closed
    for room, as HTTP/1.1 closes one not reading its answer: else one client holds every
    place with one unread answer on each (a unary call's, or a subscription's once its
    write deadline has ended it)."""
    monkeypatch.setattr(node_grpc, "WRITE_TIMEOUT", 0.5)
    deploy_counter(core, counter_code, key)
    cap = 4
    get_account = (b"/ghost.v1.Chain/GetAccount",
                   b"\x0a\x14" + bytes(20))  # GetAccountRequest(address=20 zero bytes)

    def answered(server_id: int, count: int) -> bool:
        """At least `count` connections with an answer made (sent, as channelz counts)."""
        return count <= sum(
            int((node_grpc._socket_data(sid) or {}).get("messagesSent", 0)) >= 1
            for sid, _ in node_grpc._server_sockets(server_id))

    async def scenario():
        feed = CommitFeed()
        server, port, server_id, seen, watch = await watched(core, feed, "127.0.0.1", cap)
        held: list[socket.socket] = []
        try:
            held.append(await asyncio.to_thread(stalled_subscriber, port))
            await settle(lambda: feed._waiters)
            await settle(lambda: not feed._waiters)  # ended by its write deadline
            watch.sample()  # seen first: the longest unused
            for _ in range(cap - 1):
                held.append(await asyncio.to_thread(stalled_call, port, *get_account))
            await settle(lambda: answered(server_id, cap - 1))
            assert len(dict(node_grpc._server_sockets(server_id))) == cap
            watch.sample()
            evicted = [peer for peer, state in seen.lines if state == "evicted"]
            closed = await asyncio.to_thread(closed_by_server, held[0])
            return evicted, peer_of(held[0]), closed
        finally:
            for sock in held:
                sock.close()
            await stop_grpc(server, feed)

    evicted, first, closed = asyncio.run(scenario())
    assert evicted == [first] and closed


class Reports:
    """The adapter's observer hooks, recorded: each call's outcome, each internal error."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.internal: list[str] = []

    def request(self, method: str, error: str | None, seconds: float) -> None:
        self.calls.append((method, error))

    def internal_error(self, method: str, exc: BaseException) -> None:
        self.internal.append(f"{method}: {exc!r}")


@pytest.mark.parametrize("ending", ["the client goes", "the node stops"])
def test_a_subscription_whose_message_waits_ends_without_an_internal_error(
        core, counter_code, key, ending):
    """A subscription's message waiting for its client (HTTP/2's flow control) when the
    call ends under it, its client gone or the node stopping, is not a bug: no
    internal_error line, and its place is given back."""
    deploy_counter(core, counter_code, key)

    async def scenario():
        feed, reports = CommitFeed(), Reports()
        server, port, server_id = await serve_grpc(
            core, feed, Endpoint("127.0.0.1", 0), max_body=1 << 20, observers=(reports,))
        sock = await asyncio.to_thread(stalled_subscriber, port)
        try:
            # Its headers are out: its message follows, held by flow control.
            await asyncio.to_thread(read_headers, sock, 1)
            if ending == "the client goes":
                sock.close()
            else:
                await stop_grpc(server, feed)
            await settle(lambda: reports.calls)
            return reports, feed._held.counts()
        finally:
            sock.close()
            await stop_grpc(server, feed)

    reports, held = asyncio.run(scenario())
    assert reports.internal == [] and held == {}
    assert reports.calls == [("/ghost.v1.Chain/SubscribeBlocks", None)]


def test_a_subscription_pages_through_a_large_block_once(core, monkeypatch):
    """A block of more events than one page is read a page at a time from just past the
    last event sent: every read asks for one page, and no event is read twice (it once
    read from the block's first event again with twice the limit each time, so a block
    of n events cost reads of up to 2n rows each)."""
    monkeypatch.setattr(node_grpc, "EVENT_PAGE", 4)
    name = b"E".ljust(32, b"\0")
    with core.store.transaction():
        core.store.add_block(1, 0, b"\x01" * 32)
        core.store.put_receipt(ReceiptRecord(
            b"\x01" * 32, 1, "call", bytes(20), b"\x02" * 20, "f", 1, b"", (),
            tuple(Event(b"\x02" * 20, (name,), bytes([i])) for i in range(25))))
    reads = []
    events = core.events
    monkeypatch.setattr(core, "events", lambda **f: reads.append(
        (f["limit"], len(out := events(**f)))) or out)

    async def scenario():
        got = []
        with contextlib.suppress(asyncio.CancelledError):
            async with channel_to(core) as ch:
                call = contracts_pb2_grpc.ContractsStub(ch).SubscribeEvents(
                    pb.SubscribeEventsRequest(), timeout=SETTLE)
                async for rec in call:
                    got.append((rec.block_height, rec.index, rec.event.data))
                    if len(got) == 25:
                        call.cancel()
        return got

    assert asyncio.run(scenario()) == [(1, i, bytes([i])) for i in range(25)]
    assert reads[:7] == [(4, 4)] * 6 + [(4, 1)]  # 6 full pages, then the last event
