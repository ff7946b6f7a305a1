"""NodePool against real node processes: failover, per-node limits, timeouts, and a
transaction whose answer is lost is found by its receipt, never applied twice."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest
from node_helpers import CHAIN_ID, start_node

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.pool import NodePool
from ghost_cli.client.rpc_client import GhostClient
from ghost_cli.client.transport import HttpTransport
from ghost_cli.config.project import load_project
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import (
    NodeUnavailableError,
    NonceError,
    NotFoundError,
    OutOfGasError,
    RequestNotSentError,
    UsageError,
)
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def counter_code(tmp_path_factory) -> bytes:
    root = new_project("demo", "counter", tmp_path_factory.mktemp("pool") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x0b" * 32)


@pytest.fixture
def two_nodes(tmp_path):
    """Two nodes sharing nothing: separate data directories and ports."""
    nodes = [start_node(tmp_path / "a"), start_node(tmp_path / "b")]
    yield nodes
    for n in nodes:
        n.stop()


def _deploy_doc(key: KeyPair, nonce: int, code: bytes) -> dict:
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce, kind="deploy",
                     gas_limit=10_000_000, expiry=int(time.time()) + 600, code=code)
    return to_json(sign_single(tx, key.secret_key, key.public_key))


class Recording:
    """A real HTTP transport that counts what it sends and can lose an answer: it passes
    the body to the node, waits for the reply, then reports the connection lost (or loses
    the request before sending). The test double httpx's habit calls for."""

    def __init__(self, url: str, *, lose: str | None = None, delay: float = 0.0) -> None:
        self.inner = HttpTransport(url)
        self.url = self.inner.url
        self.lose = lose  # "response" | "request" | "abandon" | None: the first write's fate
        self.abandoned: list[asyncio.Task] = []
        self.delay = delay
        self.methods: list[str] = []
        self.in_flight = self.peak = 0

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        method = json.loads(body)["method"]
        self.methods.append(method)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if method == "ghost_sendTransaction" and self.lose == "abandon":
                self.lose = None  # sent; the node applies it; we stop waiting at once
                self.abandoned.append(asyncio.create_task(
                    self.inner.post(body, idempotent=idempotent)))
                await asyncio.sleep(0)
                raise NodeUnavailableError(f"{self.url}: gave up waiting for the reply")
            if method == "ghost_sendTransaction" and self.lose == "request":
                self.lose = None
                raise NodeUnavailableError(f"{self.url}: connection lost before sending")
            reply = await self.inner.post(body, idempotent=idempotent)
            if method == "ghost_sendTransaction" and self.lose == "response":
                self.lose = None  # the node has applied it; its answer never arrives
                raise NodeUnavailableError(f"{self.url}: connection lost awaiting the reply")
            return reply
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()

    def stats(self):
        return self.inner.stats()


def _pool(*transports, **kwargs) -> NodePool:
    return NodePool([GhostClient(t.url, transport=t) for t in transports], **kwargs)


def test_reads_fail_over_to_the_node_that_is_up(two_nodes, key, counter_code):
    a, b = two_nodes

    async def main():
        ta, tb = Recording(a.url), Recording(b.url)
        async with _pool(ta, tb, timeout=5, cooldown=60, backoff=0.01) as pool:
            assert (await pool.health())["ok"] and (await pool.health())["ok"]
            assert ta.methods and tb.methods  # both took turns
            a.stop(signal.SIGKILL)  # node a is gone without a word
            for _ in range(6):
                assert (await pool.get_account(key.address))["nonce"] == 0
            assert pool.nodes[0].down_until > 0 and pool.nodes[1].failures == 0
            tried_a = len(ta.methods)
            assert (await pool.node_info())["chain_id"] == CHAIN_ID
            assert len(ta.methods) == tried_a  # marked down: not tried while b answers
            # An answer is the answer: not retried elsewhere, not a failover.
            with pytest.raises(NotFoundError):
                await pool.get_receipt("0x" + "11" * 32)
            b.stop(signal.SIGKILL)
            with pytest.raises(NodeUnavailableError, match="no node answered"):
                await pool.health()
            # Nobody takes a transaction: it was not applied, and the error says so.
            with pytest.raises(RequestNotSentError, match="no node took it; it was not applied"):
                await pool.send_transaction(_deploy_doc(key, 0, counter_code))
            with pytest.raises(UsageError):
                await pool.read("send_transaction", {})

    asyncio.run(main())


def test_a_slow_node_times_out_and_reads_move_on(two_nodes):
    a, b = two_nodes

    async def main():
        slow, fast = Recording(a.url, delay=3.0), Recording(b.url)
        async with _pool(slow, fast, timeout=0.5, retries=0) as pool:
            started = time.monotonic()
            for _ in range(3):
                assert (await pool.health())["ok"]
            assert time.monotonic() - started < 2.5  # one timeout, then b only
            assert pool.nodes[0].failures == 1

    asyncio.run(main())


def test_per_node_concurrency_limit(two_nodes):
    a, _ = two_nodes

    async def main():
        t = Recording(a.url, delay=0.05)
        async with _pool(t, concurrency=3) as pool:
            results = await asyncio.gather(*(pool.health() for _ in range(20)))
        assert all(r["ok"] for r in results) and t.peak == 3

    asyncio.run(main())


@pytest.mark.parametrize("lose", ["response", "request"])
def test_a_lost_answer_is_found_by_receipt_and_never_applied_twice(tmp_path, key, counter_code,
                                                                   lose):
    node = start_node(tmp_path / "n")
    try:
        async def main():
            t = Recording(node.url, lose=lose)
            async with _pool(t, backoff=0.01) as pool:
                doc = _deploy_doc(key, 0, counter_code)
                receipt = await pool.send_transaction(doc)
                assert receipt["tx_hash"] == doc["hash"] and receipt["kind"] == "deploy"
                assert (await pool.get_account(key.address))["nonce"] == 1
                sends = t.methods.count("ghost_sendTransaction")
                if lose == "response":
                    # Applied by the first send: found by its hash, not sent again.
                    assert sends == 1 and t.methods[1] == "ghost_getReceipt"
                else:
                    # Never reached the node: the lookup finds nothing, the resend applies.
                    assert sends == 2
                # The caller's own replay is still refused, not masked as a success.
                with pytest.raises(NonceError):
                    await pool.send_transaction(doc)

        asyncio.run(main())
    finally:
        node.stop()


def test_a_resend_refused_as_a_replay_returns_the_first_attempts_receipt(tmp_path, key,
                                                                        counter_code):
    """The first send is abandoned while the node still works on it, so the lookup may
    run before it commits and the pool sends again; the node refuses the nonce; the pool
    looks again and finds the first attempt's receipt. (If the first lookup already finds
    it, the answer is the same.)"""
    node = start_node(tmp_path / "n")
    try:
        async def main():
            t = Recording(node.url, lose="abandon")
            async with _pool(t, backoff=0.01) as pool:
                doc = _deploy_doc(key, 0, counter_code)
                receipt = await pool.send_transaction(doc)
                assert receipt["tx_hash"] == doc["hash"] and receipt["kind"] == "deploy"
                assert (await pool.get_account(key.address))["nonce"] == 1
                await asyncio.gather(*t.abandoned)
                assert t.methods.count("ghost_sendTransaction") in (1, 2)

        asyncio.run(main())
    finally:
        node.stop()


def test_a_lost_answer_of_a_transaction_that_failed_is_its_error_not_a_success(tmp_path, key,
                                                                             counter_code):
    """The first send runs and fails (its gas limit is below the base), and its answer is
    lost: the receipt the pool finds says "failed", and the caller gets the failure, as a
    direct send would give it, never that receipt as if the transaction had succeeded."""
    node = start_node(tmp_path / "n")
    try:
        async def main():
            t = Recording(node.url, lose="response")
            async with _pool(t, backoff=0.01) as pool:
                tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=0, kind="deploy",
                                 gas_limit=1_000, expiry=int(time.time()) + 600,
                                 code=counter_code)
                doc = to_json(sign_single(tx, key.secret_key, key.public_key))
                with pytest.raises(OutOfGasError) as caught:
                    await pool.send_transaction(doc)
                assert caught.value.details["tx_hash"] == doc["hash"]
                assert t.methods.count("ghost_sendTransaction") == 1

        asyncio.run(main())
    finally:
        node.stop()


def test_connect_given_one_url_string_says_it_takes_a_list():
    """`NodePool.connect("quic://…")` iterated the string: a 'node' per character and
    the error "'q': use quic://host:port", naming neither the call nor the fix."""
    with pytest.raises(UsageError, match=r"takes a list of node URLs, not one string: "
                       r"NodePool.connect\(\['quic://127.0.0.1:8443'\]\)"):
        NodePool.connect("quic://127.0.0.1:8443")
    with pytest.raises(UsageError, match="at least one node"):
        NodePool.connect([])
