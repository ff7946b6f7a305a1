"""HTTP/3 against a real node process: ghost's own pooled client, niquests (a third-party
HTTP/3 client) trusting the node's development CA, the limits that keep a stream hog
from taking the node down, and reconnects."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time

import httpx
import pytest
from node_helpers import CHAIN_ID, HAVE_QUIC, start_node

from ghost_cli.chain.transaction import sign_single, to_json
from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.client.rpc_client import GhostClient, SyncGhostClient
from ghost_cli.config.project import NetworkConfig
from ghost_cli.exceptions import NodeUnavailableError, NonceError, NotFoundError
from ghost_cli.node.tls import ensure_dev_tls

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_QUIC, reason="the node has no QUIC adapter")]


def network(node, transport: str | None = None) -> RemoteNetwork:
    config = NetworkConfig("local", "node", CHAIN_ID, url=f"quic://{node.bound['quic']}",
                           http_url=f"http://{node.bound['http']}", ca=node.bound["ca"])
    return RemoteNetwork(config, transport=transport)


def metric(node, name: str, transport: str = "quic") -> float:
    text = httpx.get(f"http://{node.bound['http']}/metrics").text
    found = re.search(rf'^{name}\{{transport="{transport}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_deploy_call_query_over_http3_on_one_pooled_connection(node, counter_code, key):
    with network(node) as net:
        deployed = net.deploy(counter_code, name="counter", signer=key)
        for _ in range(20):
            receipt = net.call("counter", "increment", signer=key)
        assert receipt.result == 20 and receipt.events[0].name == "Incremented"
        assert net.query("counter", "get").result == 20
        assert net.receipt(receipt.tx_hash).function == "increment"
        assert len(net.events("counter", limit=1000)) == 20
        stats = net.client.stats()
    assert deployed.address == receipt.address
    # Every request (nonce lookups, 21 transactions, reads) went over one QUIC connection.
    assert stats.connections_opened == 1 and stats.requests > 40
    assert metric(node, "ghost_connections_total") == 1


def test_the_same_calls_over_http1_give_the_same_results(node, counter_code, key):
    with network(node, transport="http") as net:
        net.deploy(counter_code, name="counter", signer=key)
        net.call("counter", "add", [5], signer=key)
        assert net.query("counter", "get").result == 5
    with network(node) as net:  # and HTTP/3 sees the same state
        assert net.query("counter", "get").result == 5
    assert metric(node, "ghost_connections_total", "http") >= 1


def test_concurrent_requests_are_streams_of_one_connection(node, counter_code, key):
    with network(node) as net:
        net.deploy(counter_code, name="counter", signer=key)
        address = net.resolve("counter")
        calldata = net.encode_args(address, "get", [])

    async def burst():
        async with GhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as client:
            replies = await asyncio.gather(*(client.query(address, "get", calldata)
                                             for _ in range(100)))
            return replies, client.stats()

    replies, stats = asyncio.run(burst())
    assert {r["return_data"] for r in replies} == {"0x" + bytes(8).hex()}
    assert stats.connections_opened == 1 and stats.requests == 100
    assert stats.peak_streams > 10  # multiplexed, not one after another
    assert metric(node, "ghost_connections_total") == 2  # the network above, and this one


def test_node_errors_arrive_as_the_same_ghost_errors(node, counter_code, key):
    with network(node) as net:
        net.deploy(counter_code, name="counter", signer=key)
        with pytest.raises(NotFoundError, match="no contract named 'nope'"):
            net.resolve("nope")
        tx = net.new_transaction("call", key.address, target=net.resolve("counter"),
                                 function="increment", args=b"")
        signed = sign_single(tx, key.secret_key, key.public_key)
        net.submit(signed)
        with pytest.raises(NonceError) as replay:
            net.submit(signed)
    assert replay.value.exit_code == 13 and "already used" in replay.value.message


def test_niquests_speaks_http3_to_the_node_trusting_its_ca(node, counter_code, key):
    niquests = pytest.importorskip("niquests")
    with network(node) as net:
        net.deploy(counter_code, name="counter", signer=key)
        tx = net.new_transaction("call", key.address, target=net.resolve("counter"),
                                 function="add", args=net.encode_args(
                                     net.resolve("counter"), "add", [7]))
    signed = to_json(sign_single(tx, key.secret_key, key.public_key))
    url = f"https://{node.bound['quic']}/"
    # HTTP/3 only: no TCP fallback could hide a QUIC failure.
    with niquests.Session(disable_http1=True, disable_http2=True) as session:
        def rpc(method, **params):
            r = session.post(url, verify=node.bound["ca"], timeout=20,
                             headers={"content-type": "application/json"},
                             data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                              "params": params}))
            assert r.status_code == 200 and r.http_version == 30  # HTTP/3
            return r.json()

        receipt = rpc("ghost_sendTransaction", tx=signed)["result"]
        assert receipt["function"] == "add" and receipt["block_height"] == 2
        again = rpc("ghost_sendTransaction", tx=signed)["error"]
        assert again["data"]["code"] == "bad_nonce"


def test_a_client_that_does_not_trust_the_nodes_ca_is_refused(node, tmp_path):
    other = ensure_dev_tls(tmp_path / "other")
    with pytest.raises(NodeUnavailableError, match="certificate"):
        with SyncGhostClient(f"quic://{node.bound['quic']}", ca=other.ca) as client:
            client.health()


class _Hog:
    """A QUIC client that opens request streams it never finishes, then stops reading:
    no ACKs, no flow-control credit, nothing."""

    def __init__(self, url_host: str, port: int, ca: str) -> None:
        self.host, self.port, self.ca = url_host, port, ca

    async def run(self, streams: int) -> int:
        from aioquic.asyncio import QuicConnectionProtocol
        from aioquic.asyncio.client import connect
        from aioquic.h3.connection import H3_ALPN, H3Connection
        from aioquic.quic.configuration import QuicConfiguration

        class Deaf(QuicConnectionProtocol):
            deaf = False

            def datagram_received(self, data, addr):
                if not self.deaf:
                    super().datagram_received(data, addr)

        config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
        config.load_verify_locations(cafile=self.ca)
        async with connect(self.host, self.port, configuration=config,
                           create_protocol=Deaf) as proto:
            h3 = H3Connection(proto._quic)
            for _ in range(streams):
                sid = proto._quic.get_next_available_stream_id()
                h3.send_headers(sid, [(b":method", b"POST"), (b":scheme", b"https"),
                                      (b":authority", b"x"), (b":path", b"/"),
                                      (b"content-type", b"application/json")])
                h3.send_data(sid, b'{"jsonrpc": "2.0", "id": 1, "method": "ghost_health"',
                             end_stream=False)  # never finished
            proto.transmit()
            await asyncio.sleep(0.3)
            proto.deaf = True
            await asyncio.sleep(3.0)  # hold everything while the honest client works
            return streams


def test_a_stream_hog_does_not_starve_other_clients(node, counter_code, key):
    host, port = node.bound["quic"].rsplit(":", 1)

    async def scenario():
        hog = asyncio.create_task(_Hog(host, int(port), node.bound["ca"]).run(500))
        await asyncio.sleep(0.5)  # the hog holds its streams and has gone deaf
        held = metric(node, "ghost_streams_open")
        async with GhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as c:
            start = time.perf_counter()
            healthy = await asyncio.gather(*(c.health() for _ in range(50)))
            elapsed = time.perf_counter() - start
        await hog
        return held, healthy, elapsed

    held, healthy, elapsed = asyncio.run(scenario())
    # The hog got no more than its stream limit, and everyone else was answered promptly.
    assert 0 < held <= 32
    assert all(h["ok"] for h in healthy) and elapsed < 2.0
    with network(node) as net:
        net.deploy(counter_code, name="counter", signer=key)
        assert net.query("counter", "get").result == 0


def test_the_pooled_connection_is_replaced_after_a_node_restart(tmp_path, counter_code, key):
    node = start_node(tmp_path / "data")
    quic = node.bound["quic"]
    try:
        with network(node) as net:
            net.deploy(counter_code, name="counter", signer=key)
            node.stop()
            node = start_node(tmp_path / "data", "--quic", quic)
            # The old connection is seen closed before the transaction is put on it.
            assert net.call("counter", "increment", signer=key).result == 1
            assert net.client.stats().connections_opened == 2
            node.stop(signal.SIGKILL)  # no goodbye this time
            node = start_node(tmp_path / "data", "--quic", quic)
            assert net.query("counter", "get").result == 1
    finally:
        node.stop()
    with pytest.raises(NodeUnavailableError, match="cannot reach the node"):
        with SyncGhostClient(f"quic://{quic}", ca=node.bound["ca"]) as client:
            client.health()


def test_handshakes_past_an_addresses_budget_go_through_a_retry(tmp_path):
    """`--handshakes-per-address 1`: two new connections at once (the burst), then a
    third proves its address with a Retry's token first; all three are answered."""
    node = start_node(tmp_path / "data", "--handshakes-per-address", "1")
    try:
        async def three():
            answers = []
            for _ in range(3):
                async with GhostClient(f"quic://{node.bound['quic']}",
                                       ca=node.bound["ca"]) as client:
                    answers.append((await client.health())["ok"])
            return answers

        assert asyncio.run(three()) == [True] * 3
        text = httpx.get(f"http://{node.bound['http']}/metrics").text
        counts = dict(re.findall(r'^ghost_quic_handshakes_total\{outcome="(\w+)"\} (\S+)$',
                                 text, re.M))
    finally:
        node.stop()
    assert counts == {"started": "3.0", "retry": "1.0"}
