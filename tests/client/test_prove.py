"""`ghost query --prove`: the answer recomputed here over storage proven against the
node's state root, and refused when the node's proofs or answers do not hold up."""

from __future__ import annotations

import pytest

from ghost_cli.client.prove import prove_query
from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.client.rpc_client import SyncGhostClient
from ghost_cli.config.project import NetworkConfig
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import CryptoError

pytestmark = pytest.mark.slow


def test_query_prove_end_to_end(ghost, node, project):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    assert ghost("call", "counter", "add", "41", "--network", "local", "--key", "alice").code == 0
    proved = ghost("query", "counter", "get", "--network", "local", "--prove", "--json")
    assert proved.code == 0, proved.stderr
    proof = proved.json["proof"]
    assert proof["verified"] and proof["result"] == proved.json["result"] == 41
    assert proof["reads"] == [{"key": "0x" + b"count".hex(), "value": "0x29" + "00" * 7}]
    assert "proven: recomputed here from 1 storage value(s)" in ghost(
        "query", "counter", "get", "--network", "local", "--prove").stderr

    sandbox = ghost("query", "counter", "get", "--prove")
    assert sandbox.code == 2 and "--prove is for node networks" in sandbox.stderr
    (project / "build" / "counter.wasm").write_bytes(b"\0asm\1\0\0\0")
    stale = ghost("query", "counter", "get", "--network", "local", "--prove")
    assert stale.code == 2 and "no build here is the deployed code" in stale.stderr


class LyingNode(SyncGhostClient):
    """A node that serves real proofs for a value it has changed."""

    def get_proof(self, address, key, height=None):
        doc = super().get_proof(address, key, height)
        return {**doc, "value": "0x" + "ff" * 8}


def _counter_at_one(node, built_project, seed: bytes):
    """A counter deployed and incremented once on `node`: (config, address, code)."""
    key = KeyPair.generate("ml-dsa-65", seed * 32)
    code = (built_project / "build" / "counter.wasm").read_bytes()
    config = NetworkConfig("local", "node", 1337, url=f"quic://{node.bound['quic']}",
                           ca=node.bound["ca"])
    with RemoteNetwork(config) as net:
        address = net.deploy(code, name="counter", signer=key).address
        net.call("counter", "increment", signer=key)
        honest = prove_query(net, address, "get", [], code)
        assert honest.result == 1 and honest.reads[0].value == (1).to_bytes(8, "little")
    return config, address, code


def test_a_proof_that_does_not_match_the_value_is_refused(node, built_project):
    config, address, code = _counter_at_one(node, built_project, b"\x09")
    lying = LyingNode(config.url, ca=config.ca)
    with RemoteNetwork(config, client=lying) as net, pytest.raises(
            CryptoError, match="does not verify against state root"):
        prove_query(net, address, "get", [], code)


class MalformedProofNode(SyncGhostClient):
    """A node whose proof documents hold a value of the wrong type."""

    def get_proof(self, address, key, height=None):
        return {**super().get_proof(address, key, height), "value": 5}


def test_a_malformed_proof_is_a_crypto_error_not_a_traceback(node, built_project):
    config, address, code = _counter_at_one(node, built_project, b"\x0a")
    with RemoteNetwork(config, client=MalformedProofNode(config.url, ca=config.ca)) as net, \
            pytest.raises(CryptoError, match="proof for storage key 0x.* is malformed"):
        prove_query(net, address, "get", [], code)


class MalformedCheckpointNode(SyncGhostClient):
    """A node whose checkpoint answer is not a checkpoint (only reported, never trusted)."""

    answer: object = None

    def get_checkpoint(self, height=None):
        return self.answer


@pytest.mark.parametrize("answer", [[1, 2], {"height": 3}, {"height": "3", "state_root": "0x"},
                                    "checkpoint"])
def test_a_malformed_checkpoint_is_a_crypto_error_not_a_traceback(node, built_project, answer):
    config, address, code = _counter_at_one(node, built_project, b"\x0b")
    client = MalformedCheckpointNode(config.url, ca=config.ca)
    client.answer = answer
    with RemoteNetwork(config, client=client) as net, \
            pytest.raises(CryptoError, match="latest checkpoint is malformed"):
        prove_query(net, address, "get", [], code)


def test_prove_on_a_fork_node_is_a_state_error_as_its_answers_are(ghost, node, project):
    """A fork keeps no state tree: its ghost_getProof answers `state`, and so does --prove."""
    from node_helpers import start_node

    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    forked = start_node(project.parent / "fork-data", "--fork", node.url, chain_id=None)
    try:
        assert ghost("network", "add", "fork", "--url", f"quic://{forked.bound['quic']}",
                     "--ca", forked.bound["ca"]).code == 0
        proved = ghost("query", "counter", "get", "--network", "fork", "--prove", "--json")
    finally:
        forked.stop()
    assert proved.code == 8 and proved.json["error"]["code"] == "state", proved.stderr
    assert "keeps no state tree" in proved.json["error"]["message"]


class BusyChain(SyncGhostClient):
    """A node that writes a block between handing out its root and each proof."""

    network: RemoteNetwork
    signer: KeyPair

    def get_proof(self, address, key, height=None):
        self.network.call("counter", "increment", signer=self.signer)
        return super().get_proof(address, key, height)


def test_proofs_are_taken_at_the_roots_height_while_blocks_are_written(node, built_project):
    """The node keeps its state history, so a chain that moves on during --prove does not
    make every attempt fail: each proof is asked at the height of the root it checks."""
    config, address, code = _counter_at_one(node, built_project, b"\x0c")
    busy = BusyChain(config.url, ca=config.ca)
    busy.signer = KeyPair.generate("ml-dsa-65", b"\x0d" * 32)
    with RemoteNetwork(config) as writer, RemoteNetwork(config, client=busy) as net:
        busy.network = writer
        proven = prove_query(net, address, "get", [], code)
        assert proven.result == 1  # the value at the root's height, not a later one
        assert writer.query("counter", "get").result == 2
