"""`ghost node start` as a real process on loopback, driven over HTTP/1.1 with httpx."""

from __future__ import annotations

import json
import signal

import httpx
import pytest
from node_helpers import CHAIN_ID, READY_TIMEOUT, Client, _readline, start_node

from ghost_cli.abi import Abi, encode_call
from ghost_cli.crypto.keypair import KeyPair

pytestmark = pytest.mark.slow

U64_MAX = 2**64 - 1


def _u64(n: int) -> str:
    return "0x" + n.to_bytes(8, "little").hex()


@pytest.fixture
def counter(client, counter_code) -> str:
    return client.result("ghost_sendTransaction",
                         tx=client.tx("deploy", code=counter_code, label="counter"))["address"]


def test_deploy_call_query_receipt_events_account_contract_metrics(node, client, counter, key):
    sent = client.send(client.call_tx(counter, "increment"))["result"]
    assert sent["return_data"] == _u64(1) and sent["block_height"] == 2
    assert client.result("ghost_query", address=counter, function="get")["return_data"] == \
        _u64(1)
    assert client.result("ghost_getReceipt", hash=sent["tx_hash"]) == sent
    [event] = client.result("ghost_getEvents", address=counter)["events"]
    assert event["name"] == "Incremented" and event["tx_hash"] == sent["tx_hash"]
    assert client.nonce() == 2
    contract = client.result("ghost_getContract", name="counter")
    assert contract["address"] == counter and contract["height"] == 1
    info = client.result("ghost_nodeInfo")
    assert info["chain_id"] == CHAIN_ID and info["height"] == 2
    assert info["state_root"].startswith("0x") and "http" in info["transports"]

    assert httpx.get(f"{node.url}/health").json() == {"ok": True, "height": 2,
                                                          "store": "sqlite"}
    metrics = httpx.get(f"{node.url}/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'ghost_rpc_requests_total{method="ghost_sendTransaction"} 2.0' in text
    assert 'ghost_transactions_total{kind="call"} 1.0' in text
    assert f'ghost_contract_calls_total{{contract="0x{counter[2:].lower()}"}} 2.0' in text
    assert "ghost_node_height 2.0" in text and "ghost_state_keys 1.0" in text
    assert 'ghost_connections_total{transport="http"}' in text
    assert 'ghost_rpc_latency_seconds_count{method="ghost_query"} 1.0' in text


def test_errors_have_their_codes_and_the_node_stays_up(node, client, counter, key):
    abi = Abi.from_json(client.result("ghost_getContract", address=counter)["abi"])

    bad = client.call_tx(counter, "increment")
    bad["auth"]["signature"] = bad["auth"]["signature"][:-2] + (
        "00" if bad["auth"]["signature"][-2:] != "00" else "01")
    assert client.send(bad)["error"]["data"]["code"] == "bad_signature"

    ok = client.call_tx(counter, "increment")
    assert "result" in client.send(ok)
    replay = client.send(ok)["error"]
    assert (replay["code"], replay["data"]["code"]) == (-32013, "bad_nonce")

    wrong = client.send(client.call_tx(counter, "increment", chain_id=CHAIN_ID + 1))["error"]
    assert (wrong["code"], wrong["data"]["code"]) == (-32012, "wrong_chain")

    unknown = client.send(client.call_tx("0x" + "33" * 20, "increment"))["error"]
    assert (unknown["code"], unknown["data"]["code"]) == (-32040, "not_found")

    add = abi.function("add")
    assert "result" in client.send(client.call_tx(counter, "add", encode_call(add, [U64_MAX - 1])))
    revert = client.send(client.call_tx(counter, "add", encode_call(add, [1])))["error"]
    assert (revert["code"], revert["data"]["code"], revert["data"]["reason"]) == (
        -32021, "reverted", "Overflow")

    assert node.proc.poll() is None
    # The revert is recorded as a failed transaction (nonce used, own block); the refused
    # ones (signature, replay, chain, unknown contract) are not.
    assert client.nonce() == 4 and client.result("ghost_health")["height"] == 4
    metrics = httpx.get(f"{node.url}/metrics").text
    assert f'ghost_contract_failures_total{{code="reverted",contract="0x{counter[2:].lower()}"}}' \
        in metrics
    # Refused by its checks: `other`, whether refused before the writer (the replay) or by
    # it (the bad signature, looked at after the nonce).
    for code in ("bad_signature", "bad_nonce", "wrong_chain"):
        assert f'ghost_contract_failures_total{{code="{code}",contract="other"}} 1.0' in metrics
        assert f'code="{code}",contract="0x' not in metrics


def test_http_framing(node, client):
    url = node.url
    r = httpx.post(url, content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["error"]["code"] == -32700
    r = httpx.post(url, content=b"[1]", headers={"content-type": "application/json"})
    assert r.json()[0]["error"]["code"] == -32600
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert r.json()["error"]["code"] == -32601
    r = httpx.post(url, json=[{"jsonrpc": "2.0", "id": i, "method": "ghost_health"}
                              for i in range(3)])
    assert [x["id"] for x in r.json()] == [0, 1, 2]
    r = httpx.post(url, json={"jsonrpc": "2.0", "method": "ghost_health"})  # notification
    assert r.status_code == 204 and r.content == b""
    assert httpx.post(url, content=b"{}", headers={"content-type": "text/plain"}).status_code \
        == 415
    assert httpx.get(url).status_code == 405
    assert httpx.get(f"{url}/nope").status_code == 404


def test_a_body_naming_a_member_twice_is_refused_and_runs_nothing(node, client, counter):
    """Two signed transactions under one name `tx` (or two `method`s): which one a JSON
    parser keeps differs between parsers, so the node runs neither."""
    first = json.dumps(client.call_tx(counter, "increment"))
    second = json.dumps(client.call_tx(counter, "add", (5).to_bytes(8, "little")))
    send = '{"jsonrpc":"2.0","id":1,"method":"ghost_sendTransaction","params":{"tx":'
    bodies = [
        send + first + ',"tx":' + second + "}}",
        '{"jsonrpc":"2.0","id":1,"method":"ghost_getAccount","method":"ghost_sendTransaction",'
        '"params":{"tx":' + first + "}}",
        "[" + send + first + '},"id":2}]',
    ]
    for body in bodies:
        r = httpx.post(node.url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200
        err = r.json()
        assert err["id"] is None and err["error"]["code"] == -32700, err
        assert err["error"]["data"]["code"] == "parse_error"
        assert "twice" in err["error"]["message"]
    assert client.nonce() == 1 and client.result("ghost_health")["height"] == 1
    assert client.result("ghost_query", address=counter, function="get")["return_data"] == \
        _u64(0)


def test_a_document_without_auth_is_malformed_not_unsigned(node, client, counter):
    """transactions.md: a tx.json missing a member is tx_rejected; `auth` is null when
    not signed, never absent."""
    doc = client.call_tx(counter, "increment")
    del doc["auth"]
    err = client.send(doc)["error"]
    assert (err["code"], err["data"]["code"]) == (-32010, "tx_rejected")
    assert "auth is missing" in err["message"]
    doc["auth"] = None
    err = client.send(doc)["error"]
    assert (err["code"], err["data"]["code"]) == (-32011, "bad_signature")
    assert client.nonce() == 1 and client.result("ghost_health")["height"] == 1


def test_oversized_body_is_refused_without_reading_it(node):
    # Content-Length says 5 MiB; the node answers 413 before the body is sent.
    huge = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    r = httpx.post(node.url, content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == -32001 and err["data"]["code"] == "too_large"

    def chunks():  # no Content-Length: refused once the chunks pass the limit
        for _ in range(80):
            yield b" " * 65536

    r = httpx.post(node.url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert httpx.get(f"{node.url}/health").json()["ok"] is True


def test_logs_are_json_lines_without_secrets(node, client, counter):
    doc = client.call_tx(counter, "increment")
    client.send(doc)
    client.send(doc)  # a replay: rejected
    lines = node.log()
    txs = [rec for rec in lines if rec["event"] == "tx"]
    assert [t["status"] for t in txs] == ["ok", "ok", "bad_nonce"]
    assert txs[1]["hash"] == doc["hash"] and txs[1]["kind"] == "call"
    assert txs[1]["contract"] == "0x" + counter[2:].lower() and txs[1]["gas"] > 21_000
    assert txs[1]["latency_ms"] >= 0 and txs[1]["sender"]
    rejected = [rec for rec in lines if rec["event"] == "rejected"]
    assert rejected[-1]["code"] == "bad_nonce" and rejected[-1]["peer"].startswith("127.0.0.1:")
    assert any(rec["event"] == "connection" for rec in lines)
    text = node.log_file.read_text()
    assert doc["auth"]["signature"][:64] not in text and doc["tx"][:200] not in text


def test_sigterm_stops_cleanly_and_state_survives_a_restart(tmp_path, key, counter_code):
    first = start_node(tmp_path / "data")
    with Client(first.url, key) as c:
        address = c.result("ghost_sendTransaction",
                           tx=c.tx("deploy", code=counter_code, label="counter"))["address"]
        c.send(c.call_tx(address, "increment"))
        root = c.result("ghost_nodeInfo")["state_root"]
    assert first.stop(signal.SIGTERM) == 0
    assert first.log()[-1]["event"] == "node_stopped"

    again = start_node(tmp_path / "data", chain_id=None)  # the data dir knows its chain
    try:
        with Client(again.url, key) as c:
            info = c.result("ghost_nodeInfo")
            assert (info["chain_id"], info["height"], info["state_root"]) == (CHAIN_ID, 2, root)
            assert c.result("ghost_query", address=address, function="get")["return_data"] == \
                _u64(1)
    finally:
        again.stop()


def test_sighup_stops_it_as_sigterm_does(tmp_path):
    """A closed terminal (SIGHUP) stops the node cleanly, as it ends any ghost command."""
    node = start_node(tmp_path / "data")
    assert node.stop(signal.SIGHUP) == 0
    assert node.log()[-1]["event"] == "node_stopped"


def test_a_data_dir_refuses_another_chain(tmp_path):
    start_node(tmp_path / "data").stop()
    with pytest.raises(RuntimeError, match=r"exit 3\).*holds chain 1337, not chain 7"):
        start_node(tmp_path / "data", chain_id=7)


def test_checkpoints_by_count(tmp_path, key, counter_code):
    proc = start_node(tmp_path / "data", "--checkpoint-every", "3", "--checkpoint-ms", "0")
    try:
        with Client(proc.url, key) as c:
            address = c.result("ghost_sendTransaction",
                               tx=c.tx("deploy", code=counter_code, label="c"))["address"]
            c.send(c.call_tx(address, "increment"))
            assert c.error("ghost_getCheckpoint")["data"]["code"] == "not_found"
            c.send(c.call_tx(address, "increment"))
            cp = c.result("ghost_getCheckpoint")
            assert (cp["height"], cp["first_height"], cp["tx_count"]) == (3, 1, 3)
            assert cp["state_root"] == c.result("ghost_nodeInfo")["state_root"]
            proof = c.result("ghost_getProof", address=address, key="0x" + b"count".hex())
            assert proof["checkpoint_height"] == 3 and proof["value"] == _u64(2)
    finally:
        proc.stop()


def test_state_history_keeps_its_window(tmp_path, key, counter_code):
    proc = start_node(tmp_path / "data", "--state-history-blocks", "2")
    try:
        with Client(proc.url, key) as c:
            address = c.result("ghost_sendTransaction",
                               tx=c.tx("deploy", code=counter_code, label="c"))["address"]
            for _ in range(4):
                c.send(c.call_tx(address, "increment"))  # blocks 2..5
            root = c.result("ghost_getStateRoot")
            # a window of 2 blocks, pruned once it spans 3: heights 4 and 5 are kept
            assert (root["latest"], root["history_from"]) == (5, 4)
            count = "0x" + b"count".hex()
            assert c.result("ghost_getProof", address=address, key=count,
                            height=4)["value"] == _u64(3)
            err = c.error("ghost_getProof", address=address, key=count, height=3)
            assert err["data"] == {"code": "height_unavailable", "history_from": 4}
    finally:
        proc.stop()


def test_checkpoints_by_time(tmp_path, key, counter_code):
    import time

    proc = start_node(tmp_path / "data", "--checkpoint-every", "0", "--checkpoint-ms", "200")
    try:
        with Client(proc.url, key) as c:
            c.send(c.tx("deploy", code=counter_code, label="c"))
            deadline = time.monotonic() + 10
            while (reply := c.call("ghost_getCheckpoint")).get("error"):
                assert time.monotonic() < deadline, "no checkpoint after 10 s"
                time.sleep(0.05)
            assert (reply["result"]["height"], reply["result"]["tx_count"]) == (1, 1)
    finally:
        proc.stop()


def test_a_second_key_and_concurrent_clients(node, client, counter):
    import concurrent.futures

    keys = [KeyPair.generate("ml-dsa-65", bytes([i]) * 32) for i in range(20, 24)]

    def run(k: KeyPair) -> list[int]:
        with Client(node.url, k) as c:
            return [c.send(c.call_tx(counter, "increment", nonce=n))["result"]["block_height"]
                    for n in range(3)]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        heights = [h for hs in pool.map(run, keys) for h in hs]
    assert sorted(heights) == list(range(2, 14))  # one block each, none lost or doubled
    assert client.result("ghost_query", address=counter, function="get")["return_data"] == \
        _u64(12)
    assert json.loads(httpx.get(f"{node.url}/health").text)["height"] == 13


@pytest.mark.parametrize("kind", ["http", "quic"])
def test_a_port_in_use_is_a_config_error(tmp_path, kind):
    import socket

    from node_helpers import HAVE_QUIC

    if kind == "quic" and not HAVE_QUIC:
        pytest.skip("the node has no QUIC adapter")
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "http" else
                          socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    if kind == "http":
        taken.listen()
    try:
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=rf"exit 3\).*cannot listen for {kind.upper()}"):
            start_node(tmp_path / "data", f"--{kind}", f"127.0.0.1:{port}")
    finally:
        taken.close()


#: Inside a mount namespace of its own (root of it, so no privilege is needed): a tmpfs
#: holding a node's store whose node died without closing it (its -wal and -shm files
#: left, as after a kill -9) or closed it, then remounted read-only (as the kernel does
#: to a file system after an I/O error), then `ghost node start` on it.
READ_ONLY_STORE = """
set -e
mount -t tmpfs tmpfs "$DIR"
"$PY" -c "import os, sys; from ghost_cli.node.core import NodeCore
NodeCore.open(sys.argv[1], chain_id=1337, store=sys.argv[2])
os._exit(0)" "$DATA" "$DIR/state.db"
[ "$KEEP_WAL" = 1 ] || rm "$DIR/state.db-wal" "$DIR/state.db-shm"
mount -o remount,ro "$DIR"
exec "$PY" -m ghost_cli node start --data-dir "$DATA" --store "$DIR/state.db" \
    --http 127.0.0.1:0 --no-quic --json
"""


@pytest.mark.parametrize("keep_wal", [False, True], ids=["closed", "after_a_crash"])
def test_a_store_on_a_read_only_file_system_is_exit_8_at_start(tmp_path, keep_wal):
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "--mount", "--map-root-user", "true"],
            capture_output=True).returncode != 0:
        pytest.skip("this kernel gives no mount namespace to mount a read-only file system in")
    (tmp_path / "ro").mkdir()
    env = {**os.environ, "DIR": str(tmp_path / "ro"), "DATA": str(tmp_path / "data"),
           "PY": sys.executable, "KEEP_WAL": "1" if keep_wal else "0"}
    # unshare and sh exec: the process is the node's, whose first line on stdout says
    # whether it started (a node serving a store it cannot write is what must not happen)
    proc = subprocess.Popen(["unshare", "--mount", "--map-root-user", "sh", "-c",
                             READ_ONLY_STORE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first: dict = {}
    try:
        first = json.loads(_readline(proc, READY_TIMEOUT) or "{}")
    finally:
        if first.get("ok") is not False:  # it serves (or hangs): stop it
            proc.terminate()
        proc.wait(30)
    assert first.get("ok") is False, first
    assert proc.returncode == 8 and first["error"]["code"] == "state"
    assert first["error"]["message"].startswith(
        f"cannot open state database {tmp_path}/ro/state.db: ")
    assert "Traceback" not in proc.stderr.read()
