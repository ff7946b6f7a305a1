"""The gRPC listener's connection cap, in process over loopback: connections that only
hold a socket cannot take every file descriptor, and a place freed is taken again."""

from __future__ import annotations

import asyncio
import socket
import time

import grpc
import pytest

from ghost_cli.grpc_gen.ghost.v1 import chain_pb2 as chain
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc, contracts_pb2_grpc
from ghost_cli.grpc_gen.ghost.v1 import contracts_pb2 as pb
from ghost_cli.node.config import Endpoint
from ghost_cli.node.core import NodeCore
from ghost_cli.node.grpc import CommitFeed, serve_grpc, stop_grpc
from ghost_cli.rpc.methods import MAX_NAME_CHARS

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


async def get_account(port: int) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
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


def test_names_are_bounded_as_json_rpc_string_params(core):
    long = "x" * (MAX_NAME_CHARS + 1)

    async def scenario():
        server, port, _ = await serve_grpc(core, CommitFeed(), Endpoint("127.0.0.1", 0),
                                           max_body=1 << 20)
        codes = []
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
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
        finally:
            await stop_grpc(server, CommitFeed())
        return codes

    assert asyncio.run(scenario()) == [(grpc.StatusCode.INVALID_ARGUMENT, "invalid_params")] * 2
