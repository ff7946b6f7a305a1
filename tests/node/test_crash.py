"""kill -9 in the middle of a stream of transactions, then restart: every acknowledged
transaction is there, and the state root is that of a fresh replay of what was recorded.

The senders run at once, so the node commits their transactions in groups (several per
durable commit): a kill between a group's writes and its commit, or between the commit
and the answers, must still leave every acknowledged transaction recorded, each sender's
recorded nonces a prefix, and the heights gap-free."""

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

SENDERS = 8
PER_SENDER = 30
KILL_AFTER = 40  # acknowledged calls


def test_kill_9_loses_no_acknowledged_transaction(tmp_path, key, counter_code):
    node = start_node(tmp_path / "data", "--checkpoint-every", "7")
    with Client(node.url, key) as c:
        deploy_doc = c.tx("deploy", code=counter_code, label="counter")
        counter = c.send(deploy_doc)["result"]["address"]
        keys = [KeyPair.generate("ml-dsa-65", bytes([40 + i]) * 32) for i in range(SENDERS)]
        # Signed up front, so the stream is as fast as the node allows.
        streams = [[c.call_tx(counter, "increment", key=k, nonce=n) for n in range(PER_SENDER)]
                   for k in keys]

    acked: list[tuple[dict, dict]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def send_all(docs: list[dict]) -> None:
        with httpx.Client(timeout=30) as http:
            for doc in docs:
                try:
                    r = http.post(node.url, json={"jsonrpc": "2.0", "id": 1,
                                                  "method": "ghost_sendTransaction",
                                                  "params": {"tx": doc}})
                except httpx.HTTPError:
                    return  # the node is gone: whatever was in flight is unacknowledged
                receipt = r.json()["result"]
                with lock:
                    acked.append((doc, receipt))
                    if len(acked) >= KILL_AFTER:
                        enough.set()

    threads = [threading.Thread(target=send_all, args=(docs,)) for docs in streams]
    for t in threads:
        t.start()
    assert enough.wait(120), f"only {len(acked)} acknowledged"
    os.kill(node.proc.pid, signal.SIGKILL)
    node.proc.wait(30)
    for t in threads:
        t.join(60)
    assert KILL_AFTER <= len(acked) < SENDERS * PER_SENDER, "the kill came mid-stream"

    again = start_node(tmp_path / "data", chain_id=None)
    try:
        with Client(again.url, key) as c:
            # In flight at the kill: a transaction may have committed without its answer
            # arriving. Those are recorded too; nothing else is.
            recorded = recorded_streams(c, acked, streams)
            info = c.result("ghost_nodeInfo")
    finally:
        again.stop()

    replay = NodeCore.open(tmp_path / "replay", chain_id=CHAIN_ID)
    try:
        now = time.time()
        replay.send_transaction(from_json(deploy_doc), now=now)
        for doc, _ in sorted(recorded, key=lambda dr: dr[1]["block_height"]):
            replay.send_transaction(from_json(doc), now=now)
        assert "0x" + replay.state_root().hex() == info["state_root"]
    finally:
        replay.close()
