"""A checkpoint is derived data, made after a commit: when the store refuses it (a full
disk, a lock, the database away), the transactions already committed are answered as
recorded, the log says `checkpoint_failed`, and the next commit or tick makes it."""

from __future__ import annotations

import io
import json
import sqlite3

from rpc_helpers import Rpc

from ghost_cli.chain.checkpoint import CheckpointPolicy
from ghost_cli.node.core import NodeCore
from ghost_cli.node.logging import NodeLog
from ghost_cli.rpc import Dispatcher

REFUSE = "CREATE TRIGGER refuse BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'no'); END"


def _refuse_checkpoints(path, on: bool) -> None:
    db = sqlite3.connect(path)
    db.execute(REFUSE if on else "DROP TRIGGER refuse")
    db.commit()
    db.close()


def _events(out: io.StringIO, name: str) -> list[dict]:
    return [line for line in map(json.loads, out.getvalue().splitlines())
            if line["event"] == name]


def test_a_failed_checkpoint_leaves_the_committed_transaction_answered(tmp_path, key,
                                                                        counter_code):
    out = io.StringIO()
    core = NodeCore.open(tmp_path / "n", chain_id=1337, observers=(NodeLog(out),),
                         policy=CheckpointPolicy(every_txs=1, every_ms=None))
    try:
        rpc = Rpc(Dispatcher(core), key)
        address = rpc.deploy(counter_code)["address"]
        _refuse_checkpoints(tmp_path / "n" / "state.db", True)
        sent = rpc.send_call(address, "increment")
        assert "result" in sent, sent  # recorded, and said so
        assert rpc.result("ghost_getReceipt", hash=sent["result"]["tx_hash"])
        [failed] = _events(out, "checkpoint_failed")
        assert failed["code"] == "state" and "no" in failed["message"]
        assert core.tick(10**10) is None  # the timer says it too, and goes on
        assert len(_events(out, "checkpoint_failed")) == 2

        _refuse_checkpoints(tmp_path / "n" / "state.db", False)
        after = rpc.send_call(address, "increment")["result"]
        assert core.checkpoint()["height"] == after["block_height"]
    finally:
        core.close()
