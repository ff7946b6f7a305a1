"""`ghost test --fork`: a project's tests run over a real node's state (a node process on
loopback), read lazily and proven; writes stay local; a value the node lies about is
refused."""

from __future__ import annotations

import sqlite3

import pytest
from node_helpers import Client, start_node

from ghost_cli.crypto.keypair import KeyPair

pytestmark = pytest.mark.slow

FORK_TEST = '''
import os


def test_reads_the_node(ghost_env):
    counter = ghost_env.at("counter")  # deployed on the node, not here
    expect = int(os.environ["EXPECT"])
    assert counter.get() == expect
    assert counter.increment() == expect + 1  # a local write
    assert counter.get() == expect + 1
    assert ghost_env.fork.fork_height == int(os.environ["HEIGHT"])
'''


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "node-data")
    yield proc
    proc.stop()


def test_fork_reads_the_node_and_keeps_writes_local(ghost, node, project):
    assert ghost("keys", "new", "alice").code == 0
    added = ghost("network", "add", "local", "--url", f"http://{node.bound['http']}")
    assert added.code == 0, added.stderr
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0  # block 1
    on = ("--network", "local", "--key", "alice")
    assert ghost("call", "counter", "add", "5", *on).code == 0  # block 2
    (project / "tests" / "test_fork_reads.py").write_text(FORK_TEST)

    with Client(node.url, KeyPair.generate("ml-dsa-65", b"\x07" * 32)) as nc:
        root = nc.result("ghost_getStateRoot")["state_root"]  # e.g. a published checkpoint's
    ran = ghost("test", "--fork", "local", "--fork-root", root, "--json", EXPECT="5",
                HEIGHT="2")
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.json["tests"]["passed"] >= 2  # the template's own tests run on the fork too
    # the fork's writes never reached the node
    assert ghost("query", "counter", "get", "--network", "local", "--json").json["result"] == 5

    # `ghost node start --fork URL`: a node serving the fork; its transactions stay there.
    forked = start_node(project.parent / "fork-data", "--fork", node.url, chain_id=None)
    try:
        with Client(forked.url, KeyPair.generate("ml-dsa-65", b"\x07" * 32)) as fc:
            address = fc.result("ghost_getContract", name="counter")["address"]
            got = fc.result("ghost_query", address=address, function="get")
            assert got["return_data"] == "0x" + (5).to_bytes(8, "little").hex()
            receipt = fc.send(fc.call_tx(address, "increment"))["result"]
            assert receipt["status"] == "ok" and receipt["block_height"] == 3
            got = fc.result("ghost_query", address=address, function="get")
            assert got["return_data"] == "0x" + (6).to_bytes(8, "little").hex()
            assert fc.error("ghost_getStateRoot")["data"]["code"] == "state"
    finally:
        forked.stop()
    assert ghost("query", "counter", "get", "--network", "local", "--json").json["result"] == 5

    assert ghost("call", "counter", "add", "1", *on).code == 0  # block 3: the node moves on
    # at a past height, on both engines (each target's fork pinned to the same state)
    past = ghost("test", "--fork", "local", "--fork-height", "2", "--target", "both",
                 "-k", "reads_the_node", "--json", EXPECT="5", HEIGHT="2")
    assert past.code == 0, past.stdout + past.stderr
    assert past.json["tests"]["passed"] == 2

    stale = ghost("test", "--fork", "local", "--fork-root", root, "--json")  # now height 3
    assert stale.code == 11 and "not the trusted" in stale.json["error"]["message"]
    ahead = ghost("test", "--fork", "local", "--fork-height", "99", "--json")
    assert ahead.code == 7, ahead.stderr
    assert ahead.json["error"]["code"] == "height_unavailable"
    assert "past the latest block (3)" in ahead.json["error"]["message"]

    # The node lies about the latest value (its storage row changed behind its state
    # tree's back): the fork's proof check refuses it and the test fails.
    db = sqlite3.connect(node.data_dir / "state.db")
    with db:
        changed = db.execute("UPDATE storage SET value = ? WHERE key = ?",
                             ((7).to_bytes(8, "little"), b"count")).rowcount
    db.close()
    assert changed == 1
    lied = ghost("test", "--fork", "local", "-k", "reads_the_node", EXPECT="7", HEIGHT="3")
    assert lied.code == 10
    assert "does not verify against the state root" in lied.stdout + lied.stderr


def test_fork_needs_a_node_network(ghost):
    sandbox = ghost("test", "--fork", "sandbox", "--json")
    assert sandbox.code == 2 and "--fork takes a node network" in sandbox.json["error"]["message"]
    unknown = ghost("test", "--fork", "nowhere")
    assert unknown.code == 7 and "no network 'nowhere'" in unknown.stderr
    nobody = ghost("test", "--fork", "http://127.0.0.1:1", "--json")
    assert nobody.code == 14 and nobody.json["error"]["code"] == "node_unavailable"
    height_alone = ghost("test", "--fork-height", "3")
    assert height_alone.code == 2 and "need --fork NETWORK" in height_alone.stderr
