"""Several `ghost node start --store postgresql://...` processes serving one chain from one
real PostgreSQL database: concurrent signed writes through different nodes, kill -9 of a
node under load, the database restarted under load, and a database that stops answering."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from node_helpers import CHAIN_ID, Client, recorded_streams, start_node

from ghost_cli.chain.transaction import from_json
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.core import NodeCore

pytestmark = pytest.mark.slow


def _post(http: httpx.Client, url: str, method: str, **params) -> dict:
    return http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                "params": params}).json()


def _deploy(node, key, counter_code) -> tuple[dict, str]:
    with Client(node.url, key) as c:
        doc = c.tx("deploy", code=counter_code, label="counter")
        return doc, c.send(doc)["result"]["address"]


def _streams(node, counter: str, senders: int, per_sender: int, seed: int) -> list[list[dict]]:
    """Signed up front: `per_sender` increments from each of `senders` fresh keys."""
    keys = [KeyPair.generate("ml-dsa-65", bytes([seed + i]) * 32) for i in range(senders)]
    with Client(node.url, keys[0]) as c:
        return [[c.call_tx(counter, "increment", key=k, nonce=n) for n in range(per_sender)]
                for k in keys]


def _check_chain(url: str, key, streams: list[list[dict]], acked: list[tuple[dict, dict]],
                 deploy_doc: dict, tmp_path) -> dict:
    """Every acknowledged transaction is recorded as acknowledged; per sender the recorded
    ones are a prefix of its nonces; heights 2..N+1 without a gap; and the state root is
    that of a single SQLite node replaying the recorded transactions in height order."""
    with Client(url, key) as c:
        recorded = recorded_streams(c, acked, streams)
        info = c.result("ghost_nodeInfo")
    replay = NodeCore.open(tmp_path / "replay", chain_id=CHAIN_ID)
    try:
        now = time.time()
        replay.send_transaction(from_json(deploy_doc), now=now)
        for doc, _ in sorted(recorded, key=lambda dr: dr[1]["block_height"]):
            replay.send_transaction(from_json(doc), now=now)
        assert "0x" + replay.state_root().hex() == info["state_root"]
    finally:
        replay.close()
    return info


def test_three_nodes_on_one_database_serve_one_chain(tmp_path, key, counter_code, pg_cluster,
                                                    monkeypatch):
    url = pg_cluster.new_database()
    nodes = [start_node(tmp_path / f"n{i}", "--store", url, "--checkpoint-every", "5")
             for i in range(2)]
    # the third takes its URL from the environment, with a password in it (the test
    # server trusts local connections, so any password works): it is never printed
    monkeypatch.setenv("GHOST_NODE_STORE", url.replace("postgres@", "postgres:s3kr1t-pw@"))
    nodes.append(start_node(tmp_path / "n2", "--checkpoint-every", "5"))
    monkeypatch.delenv("GHOST_NODE_STORE")
    try:
        deploy_doc, counter = _deploy(nodes[0], key, counter_code)
        streams = _streams(nodes[0], counter, senders=4, per_sender=9, seed=60)
        acked: list[tuple[dict, dict]] = []
        lock = threading.Lock()

        def send_all(s: int, docs: list[dict]) -> None:
            with httpx.Client(timeout=30) as http:
                for n, doc in enumerate(docs):  # each transaction through another node
                    reply = _post(http, nodes[(s + n) % 3].url, "ghost_sendTransaction", tx=doc)
                    assert "result" in reply, reply
                    with lock:
                        acked.append((doc, reply["result"]))

        threads = [threading.Thread(target=send_all, args=(s, d)) for s, d in enumerate(streams)]
        for t in threads:
            t.start()
        # meanwhile one signed transaction sent to all three nodes at once: one takes it
        with Client(nodes[0].url, key) as c:
            twice = c.call_tx(counter, "increment")
        replies: list[dict] = []

        def race(node) -> None:
            with httpx.Client(timeout=30) as http:
                replies.append(_post(http, node.url, "ghost_sendTransaction", tx=twice))

        racers = [threading.Thread(target=race, args=(n,)) for n in nodes]
        for t in racers:
            t.start()
        for t in racers + threads:
            t.join(120)
        assert sorted("result" in r for r in replies) == [False, False, True]
        assert {r["error"]["data"]["code"] for r in replies if "error" in r} == {"bad_nonce"}
        acked += [(twice, r["result"]) for r in replies if "result" in r]
        assert len(acked) == 4 * 9 + 1

        infos = [_check_chain(n.url, key, [*streams, [twice]], acked, deploy_doc,
                              tmp_path / f"replay{i}") for i, n in enumerate(nodes)]
        assert len({(i["height"], i["state_root"]) for i in infos}) == 1
        with Client(nodes[2].url, key) as c:
            got = c.result("ghost_query", address=counter, function="get")["return_data"]
            assert int.from_bytes(bytes.fromhex(got[2:]), "little") == 4 * 9 + 1
            # checkpoints were made (by one node), and every node serves them
            assert c.result("ghost_getCheckpoint")["height"] >= 5
        for n in nodes:
            assert httpx.get(f"{n.url}/health").json()["store"] == "postgresql"
        assert nodes[0].bound["store"] == url
        assert nodes[2].bound["store"] == url.replace("postgres@", "postgres:***@")
    finally:
        for n in nodes:
            n.stop()
    for f in tmp_path.iterdir():  # logs and stderr of every node
        if f.is_file():
            assert "s3kr1t" not in f.read_text(errors="replace"), f


def test_kill_9_of_one_node_under_load(tmp_path, key, counter_code, pg_cluster):
    url = pg_cluster.new_database()
    a, b = (start_node(tmp_path / f"n{i}", "--store", url) for i in range(2))
    try:
        deploy_doc, counter = _deploy(a, key, counter_code)
        streams = _streams(a, counter, senders=4, per_sender=12, seed=80)
        acked: list[tuple[dict, dict]] = []
        lock = threading.Lock()
        enough = threading.Event()

        def send_all(node, docs: list[dict]) -> None:
            with httpx.Client(timeout=30) as http:
                for doc in docs:
                    try:
                        reply = _post(http, node.url, "ghost_sendTransaction", tx=doc)
                    except httpx.HTTPError:
                        return  # the node is gone: what was in flight is unacknowledged
                    assert "result" in reply, reply
                    with lock:
                        acked.append((doc, reply["result"]))
                        if len(acked) >= 10:
                            enough.set()

        threads = [threading.Thread(target=send_all, args=(a if i < 2 else b, d))
                   for i, d in enumerate(streams)]
        for t in threads:
            t.start()
        assert enough.wait(120)
        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait(30)
        for t in threads:
            t.join(120)
        # the surviving node finished its streams; the killed one stopped mid-stream
        assert all(any(d is doc for d, _ in acked) for doc in streams[2] + streams[3])
        _check_chain(b.url, key, streams, acked, deploy_doc, tmp_path / "replay")
        again = start_node(tmp_path / "n0", "--store", url, chain_id=None)
        try:
            with Client(again.url, key) as c, Client(b.url, key) as d:
                assert c.result("ghost_nodeInfo") == d.result("ghost_nodeInfo")
        finally:
            again.stop()
    finally:
        a.stop()
        b.stop()


def test_database_restart_under_load_is_a_retryable_error_then_reconnects(
        tmp_path, key, counter_code, pg_cluster):
    url = pg_cluster.new_database()
    node = start_node(tmp_path / "n0", "--store", url)
    try:
        deploy_doc, counter = _deploy(node, key, counter_code)
        [docs] = _streams(node, counter, senders=1, per_sender=40, seed=100)
        acked: list[tuple[dict, dict]] = []
        errors: list[dict] = []
        restarted, stopped = threading.Event(), threading.Event()

        def send_all() -> None:
            with httpx.Client(timeout=30) as http:
                i = 0
                while i < len(docs):
                    reply = _post(http, node.url, "ghost_sendTransaction", tx=docs[i])
                    if "result" in reply:
                        acked.append((docs[i], reply["result"]))
                        i += 1
                        if len(acked) == 5:  # the rest is sent with the database away
                            stopped.wait(60)
                    elif reply["error"]["data"]["code"] == "bad_nonce" and restarted.is_set():
                        i += 1  # committed, but the answer was lost with the connection
                    else:
                        errors.append(reply["error"])
                        if reply["error"]["data"]["code"] != "store_unavailable":
                            return  # checked below: a thread's failed assert is not seen
                        time.sleep(0.2)  # retryable: try the same transaction again

        t = threading.Thread(target=send_all)
        t.start()
        while len(acked) < 5:
            time.sleep(0.05)
        pg_cluster.stop("fast")
        stopped.set()
        with httpx.Client(timeout=30) as http:
            down = _post(http, node.url, "ghost_nodeInfo")["error"]
        assert (down["code"], down["data"]["code"]) == (-32054, "store_unavailable")
        assert "retry" in down["message"]
        health = _health_until(node.url, 503)  # a load balancer takes the node out
        assert health.json()["error"]["code"] == "store_unavailable"
        # The sender's request in flight may wait seconds for the database before it
        # fails: give it that, or a restart now could let it succeed instead.
        deadline = time.monotonic() + 60
        while not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        restarted.set()
        pg_cluster.start()
        assert _health_until(node.url, 200).json()["ok"] is True  # and back in
        t.join(180)
        assert not t.is_alive()
        assert errors, "the sender saw the database gone"
        assert {e["data"]["code"] for e in errors} == {"store_unavailable"}, errors
        assert node.proc.poll() is None  # the node stayed up and reconnected
        _check_chain(node.url, key, [docs], acked, deploy_doc, tmp_path / "replay")
    finally:
        node.stop()


def test_a_frozen_database_takes_the_node_out_of_the_load_balancer(tmp_path, pg_cluster):
    """A database that keeps its connections open but never answers: /health must not go
    on saying ok from an idle LISTEN connection."""
    node = start_node(tmp_path / "n0", "--store", pg_cluster.new_database())
    try:
        _health_until(node.url, 200)
        with pg_cluster.frozen():
            health = _health_until(node.url, 503)
            assert health.json()["error"]["code"] == "store_unavailable"
        assert _health_until(node.url, 200).json()["ok"] is True
    finally:
        node.stop()


def test_metrics_answer_while_the_database_is_away(tmp_path, key, counter_code, pg_cluster):
    """A scrape during an outage is when an operator needs the metrics most: /metrics
    answers 200 with every series; the height is the one /health reports, and the storage
    slot count, which only the database knows, is NaN until it answers again."""
    node = start_node(tmp_path / "n0", "--store", pg_cluster.new_database())
    try:
        _deploy(node, key, counter_code)
        assert "ghost_state_keys 0.0" in httpx.get(f"{node.url}/metrics", timeout=30).text
        pg_cluster.stop("fast")
        try:
            _health_until(node.url, 503)
            text = _metrics_until(node.url, "ghost_state_keys NaN")
            assert "ghost_node_height 1.0" in text
            assert 'ghost_transactions_total{kind="deploy"} 1.0' in text
            assert "process_open_fds" in text
        finally:
            pg_cluster.start()
        _health_until(node.url, 200)
        _metrics_until(node.url, "ghost_state_keys 0.0")
        assert "Exception in ASGI application" not in node.log_file.read_text()
    finally:
        node.stop()


def _metrics_until(url: str, line: str) -> str:
    """GET /metrics (each a 200) until it holds `line` (a scrape reports the count the
    last read of the store gave; the deadline only fails a broken check)."""
    deadline = time.monotonic() + 60
    while True:
        r = httpx.get(f"{url}/metrics", timeout=30)
        assert r.status_code == 200, r.text
        if line in r.text.splitlines() or time.monotonic() > deadline:
            assert line in r.text.splitlines(), r.text
            return r.text
        time.sleep(0.2)


def _health_until(url: str, status: int) -> httpx.Response:
    """GET /health until it answers `status` (the listener notices within about a second;
    the deadline is only there so a broken check fails instead of hanging)."""
    deadline = time.monotonic() + 60
    while True:
        r = httpx.get(f"{url}/health", timeout=10)
        if r.status_code == status or time.monotonic() > deadline:
            assert r.status_code == status, r.text
            return r
        time.sleep(0.2)
