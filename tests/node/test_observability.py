"""Connections on every transport reach the log and the metrics (a real node process)."""

from __future__ import annotations

import re
import time

import grpc
import httpx
import pytest
from node_helpers import CHAIN_ID, HAVE_QUIC, start_node

from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.config.project import NetworkConfig
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2 as chain
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc

pytestmark = pytest.mark.slow

WAIT = 20.0  # liveness bound for an event to show up


def _metric(node, name: str, transport: str) -> float:
    text = httpx.get(f"{node.url}/metrics").text
    found = re.search(rf'^{name}{{transport="{transport}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def _eventually(check) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "not within the liveness bound"
        time.sleep(0.2)


def _states(node, transport: str) -> list[str]:
    return [rec["state"] for rec in node.log()
            if rec["event"] == "connection" and rec["transport"] == transport]


def test_grpc_connections_are_counted_and_logged(tmp_path):
    node = start_node(tmp_path / "data", "--grpc", "127.0.0.1:0")
    try:
        with grpc.insecure_channel(node.bound["grpc"]) as channel:
            stub = chain_pb2_grpc.ChainStub(channel)
            assert stub.GetAccount(chain.GetAccountRequest(address=b"\1" * 20)).nonce == 0
            _eventually(lambda: _metric(node, "ghost_connections_open", "grpc") == 1)
            assert _metric(node, "ghost_connections_total", "grpc") == 1
            assert _states(node, "grpc") == ["open"]
            [opened] = [rec for rec in node.log() if rec["event"] == "connection"
                        and rec["transport"] == "grpc"]
            assert opened["peer"].startswith("127.0.0.1:")
        _eventually(lambda: _metric(node, "ghost_connections_open", "grpc") == 0)
        assert _states(node, "grpc") == ["open", "closed"]
    finally:
        node.stop()


@pytest.mark.skipif(not HAVE_QUIC, reason="the node has no QUIC adapter")
def test_quic_connections_are_logged_at_their_handshake_and_close(tmp_path):
    node = start_node(tmp_path / "data")
    try:
        config = NetworkConfig("local", "node", CHAIN_ID, url=f"quic://{node.bound['quic']}",
                               http_url=node.url, ca=node.bound["ca"])
        with RemoteNetwork(config) as net:
            assert net.client.health()["ok"] is True
            _eventually(lambda: "open" in _states(node, "quic"))
        _eventually(lambda: _states(node, "quic") == ["open", "closed"])
        [opened, closed] = [rec for rec in node.log() if rec["event"] == "connection"
                            and rec["transport"] == "quic"]
        assert opened["alpn"] == "h3" and opened["peer"].startswith("127.0.0.1:")
        assert closed["reason"]
    finally:
        node.stop()
