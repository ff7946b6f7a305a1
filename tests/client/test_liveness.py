"""When the HTTP/3 client gives up on a node, and when it must not: a node that is alive
but silent (its process stopped, as under heavy CPU load) is waited for; a port nobody
listens on is reported at once, as never sent, with a hint to start a node; and the pool
resends a refused transaction without a receipt lookup. Real node processes throughout."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import time

import pytest
from node_helpers import CHAIN_ID, start_node

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.pool import READS, NodePool
from ghost_cli.client.rpc_client import RPC_NAMES, GhostClient, SyncGhostClient
from ghost_cli.client.transport import IDLE_TIMEOUT, KEEPALIVE, HttpTransport
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import AnswerLostError, RequestNotSentError
from ghost_cli.rpc.methods import BY_NAME, METHODS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate("ed25519", b"\x0c" * 32)


def _deploy_doc(key: KeyPair, nonce: int, code: bytes) -> dict:
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce, kind="deploy",
                     gas_limit=10_000_000, expiry=int(time.time()) + 600, code=code)
    return to_json(sign_single(tx, key.secret_key, key.public_key))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def asyncio_errors(caplog):
    """What asyncio logged at ERROR (e.g. "Future exception was never retrieved")."""
    caplog.set_level(logging.ERROR, logger="asyncio")

    def collect() -> list[str]:
        gc.collect()  # a future's unretrieved exception is reported when it is collected
        return [r.getMessage() for r in caplog.records if r.name == "asyncio"]

    return collect


def test_a_node_silent_for_longer_than_the_old_liveness_check_is_waited_for(
        tmp_path, key, counter_code, asyncio_errors):
    """The node process is stopped (SIGSTOP) while transactions wait on its connection,
    for half the idle timeout: no packet, no ACK, as a node starved of CPU. It then
    resumes: every transaction is answered on the same connection, none reported lost."""
    assert KEEPALIVE < IDLE_TIMEOUT / 2
    node = start_node(tmp_path / "n")
    pause = IDLE_TIMEOUT / 2  # past a keep-alive PING and the old 1.5 s + 1.5 s check
    try:
        async def main():
            async with GhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as c:
                await c.health()
                senders = [KeyPair.generate("ed25519", bytes([i]) * 32) for i in range(1, 9)]
                docs = [_deploy_doc(k, 0, counter_code) for k in senders]
                node.proc.send_signal(signal.SIGSTOP)
                try:
                    sends = [asyncio.create_task(c.send_transaction(d)) for d in docs]
                    await asyncio.sleep(pause)
                    assert not any(t.done() for t in sends)  # still waiting, not given up
                finally:
                    node.proc.send_signal(signal.SIGCONT)
                receipts = await asyncio.wait_for(asyncio.gather(*sends), 30)
                assert [r["tx_hash"] for r in receipts] == [d["hash"] for d in docs]
                assert c.stats().connections_opened == 1

        asyncio.run(main())
    finally:
        node.proc.send_signal(signal.SIGCONT)
        node.stop()
    assert asyncio_errors() == []


def test_a_node_silent_for_the_idle_timeout_is_lost_and_says_so(tmp_path, key, counter_code,
                                                                asyncio_errors):
    """The other side: a node silent for longer than QUIC's idle timeout (stopped for good,
    or a restart that dropped the connection) ends the connection before the request's
    own timeout, and a transaction on it is reported as possibly applied."""
    node = start_node(tmp_path / "n")
    try:
        async def main():
            async with GhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as c:
                await c.health()
                node.proc.send_signal(signal.SIGSTOP)
                with pytest.raises(AnswerLostError) as lost:
                    await c.send_transaction(_deploy_doc(key, 0, counter_code))
                assert "(Idle timeout); the transaction may have been applied" in str(lost.value)
                node.proc.send_signal(signal.SIGCONT)
                # The next request gets a new connection.
                assert (await c.health())["ok"] and c.stats().connections_opened == 2

        asyncio.run(main())
    finally:
        node.proc.send_signal(signal.SIGCONT)
        node.stop()
    assert asyncio_errors() == []


def test_a_port_nobody_listens_on_is_reported_at_once_with_a_hint(asyncio_errors):
    port = _free_udp_port()
    with pytest.raises(RequestNotSentError) as quic:
        with SyncGhostClient(f"quic://127.0.0.1:{port}") as client:
            client.health()
    # Refused by the network (ICMP on the connected socket), not the handshake timeout.
    assert quic.value.message == (
        f"cannot reach the node at quic://127.0.0.1:{port}: Connection refused: is a node "
        "running there? Start one with `ghost node start --data-dir DIR`")
    assert quic.value.exit_code == 14 and quic.value.code == "node_unavailable"

    port = _free_tcp_port()
    with pytest.raises(RequestNotSentError, match="ghost node start"):
        with SyncGhostClient(f"http://127.0.0.1:{port}") as client:
            client.health()
    assert asyncio_errors() == []


def test_the_cli_reports_a_node_that_is_not_running(ghost):
    import certifi  # any PEM certificate: no handshake ever gets to use it

    port = _free_udp_port()
    assert ghost("network", "add", "down", "--url", f"quic://127.0.0.1:{port}",
                 "--ca", certifi.where(), "--chain-id", str(CHAIN_ID)).code == 0
    result = ghost("query", "counter", "get", "--network", "down", "--json")
    assert result.code == 14
    assert result.json["error"]["message"] == (
        f"cannot reach the node at quic://127.0.0.1:{port}: Connection refused: is a node "
        "running there? Start one with `ghost node start --data-dir DIR`")
    assert result.stderr.count("\n") == 1


def test_a_refused_transaction_is_resent_elsewhere_without_a_receipt_lookup(
        tmp_path, key, counter_code):
    node = start_node(tmp_path / "n")
    try:
        async def main():
            live = _Recording(node.url)
            dead = GhostClient(f"http://127.0.0.1:{_free_tcp_port()}")
            async with NodePool([dead, GhostClient(live.url, transport=live)],
                                backoff=0.01) as pool:
                doc = _deploy_doc(key, 0, counter_code)
                receipt = await pool.send_transaction(doc)  # the dead node is tried first
                assert receipt["tx_hash"] == doc["hash"]
                assert pool.nodes[0].failures == 1
                # Never sent to the dead node, so nothing to look up before sending.
                assert live.methods == ["ghost_sendTransaction"]

        asyncio.run(main())
    finally:
        node.stop()


def test_reads_are_what_the_method_table_says():
    assert set(RPC_NAMES.values()) == {m.name for m in METHODS}  # the client covers each
    assert set(READS) == {c for c, rpc in RPC_NAMES.items() if not BY_NAME[rpc].writes}
    assert "send_transaction" not in READS and "query" in READS


class _Recording:
    def __init__(self, url: str) -> None:
        self.inner = HttpTransport(url)
        self.url = url
        self.methods: list[str] = []

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        import json

        self.methods.append(json.loads(body)["method"])
        return await self.inner.post(body, idempotent=idempotent)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def stats(self):
        return self.inner.stats()


def test_concurrent_reads_after_the_node_closed_the_connection_both_get_answers(tmp_path):
    """Two reads that find the pooled connection ended (the node restarted on its port)
    both go out on the one new connection; neither trips over the other's replacing it."""
    quic, http = _free_udp_port(), _free_tcp_port()
    ports = ("--quic", f"127.0.0.1:{quic}", "--http", f"127.0.0.1:{http}")
    nodes = [start_node(tmp_path / "n", *ports)]
    try:
        async def main():
            async with GhostClient(f"quic://127.0.0.1:{quic}", ca=nodes[0].bound["ca"]) as c:
                await c.node_info()
                nodes[0].stop()  # graceful: the node closes the connection
                nodes.append(start_node(tmp_path / "n", *ports))
                answers = await asyncio.gather(c.node_info(), c.node_info(), c.health())
                assert [a["chain_id"] for a in answers[:2]] == [CHAIN_ID, CHAIN_ID]
                assert answers[2]["ok"] is True and c.stats().connections_opened == 2

        asyncio.run(main())
    finally:
        nodes[-1].stop()


def test_a_sync_client_idle_past_the_idle_timeout_sends_on_a_new_connection(
        tmp_path, key, counter_code):
    """Between a sync client's calls no loop runs, so the idle timeout has not fired on
    its side when the next call comes: the call must not go out on that connection (the
    node's side has closed it) and wait for the timer, then fail a write never applied."""
    node = start_node(tmp_path / "n")
    try:
        with SyncGhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as c:
            assert c.health()["ok"]
            time.sleep(IDLE_TIMEOUT + 2)
            receipt = c.send_transaction(_deploy_doc(key, 0, counter_code))
            assert receipt["tx_hash"] and c.stats().connections_opened == 2
    finally:
        node.stop()
