"""`ghost query --prove`: the answer recomputed here over storage proven against the
node's state root, and refused when the node's proofs or answers do not hold up."""

from __future__ import annotations

import pytest

from ghost_cli.cli.contract_run import run
from ghost_cli.cli.output import Output
from ghost_cli.client.prove import prove_query
from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.client.rpc_client import SyncGhostClient
from ghost_cli.config.project import NetworkConfig
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import (
    CryptoError,
    HeightUnavailableError,
    RevertError,
    StateError,
)

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


_CHECKPOINT = {"height": 1, "receipts_root": "0x" + "00" * 32, "tx_count": 0,
               "first_height": 0, "time_ms": 0}


@pytest.mark.parametrize("answer", [
    [1, 2], {"height": 3}, {"height": "3", "state_root": "0x"}, "checkpoint",
    # a root that is not 0x and 32 bytes of hex: not merely "another root"
    {**_CHECKPOINT, "state_root": "0x12"}, {**_CHECKPOINT, "state_root": "0x" + "11" * 32 + " "},
])
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


def _flip(root: str) -> str:
    return root[:-1] + ("0" if root[-1] != "0" else "1")


class MalformedRootNode(SyncGhostClient):
    def node_info(self):
        return {**super().node_info(), "state_root": "0x1234"}


class OtherInfoRootNode(SyncGhostClient):
    """Reports one root, then proves against another at that same height."""

    def node_info(self):
        info = super().node_info()
        return {**info, "state_root": _flip(info["state_root"])}


class OtherProofRootNode(SyncGhostClient):
    def get_proof(self, address, key, height=None):
        doc = super().get_proof(address, key, height)
        return {**doc, "state_root": _flip(doc["state_root"])}


class NoHistoryNode(SyncGhostClient):
    """A `--no-state-history` node whose chain moved on after each ghost_nodeInfo."""

    def get_proof(self, address, key, height=None):
        raise HeightUnavailableError("this state database keeps no state history")


def test_a_malformed_or_different_root_is_a_crypto_error_not_a_moving_state(
        node, built_project):
    """Proofs are asked at the reported root's height: another root there is the node's
    lie (exit 11), not the state moving on (exit 8); only a node without state history,
    whose earlier height is gone, is tried again and then exit 8."""
    config, address, code = _counter_at_one(node, built_project, b"\x0e")
    for client, error, match in [
            (MalformedRootNode, CryptoError, "state root is malformed"),
            (OtherInfoRootNode, CryptoError, "is against state root"),
            (OtherProofRootNode, CryptoError, "is against state root"),
            (NoHistoryNode, StateError, "kept changing while proving")]:
        with RemoteNetwork(config, client=client(config.url, ca=config.ca)) as net, \
                pytest.raises(error, match=match):
            prove_query(net, address, "get", [], code)


def _local_network(ghost, node) -> None:
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    assert ghost("call", "counter", "add", "1", "--network", "local", "--key", "alice").code == 0


MAX_U64 = str(2**64 - 1)


def test_a_revert_the_proven_run_reproduces_is_exit_6_with_its_proof(ghost, node, project):
    _local_network(ghost, node)
    proved = ghost("query", "counter", "add", MAX_U64, "--network", "local", "--prove",
                   "--json")
    assert proved.code == 6, proved.stderr
    error = proved.json["error"]
    assert error["code"] == "reverted" and error["details"]["reason"] == "Overflow"
    proof = error["details"]["proof"]
    assert proof["verified"] and proof["result"] is None
    assert proof["reads"] == [{"key": "0x" + b"count".hex(), "value": "0x01" + "00" * 7}]
    assert "proven: the failure recomputed here from 1 storage value(s)" in ghost(
        "query", "counter", "add", MAX_U64, "--network", "local", "--prove").stderr


def _fake_query(answer):
    """SyncGhostClient.query replaced by one that answers `answer` (raised if an error)."""
    def query(self, *args, **kwargs):
        if isinstance(answer, Exception):
            raise answer
        return {"return_data": answer, "gas_used": 1000, "events": [], "logs": [],
                "block_height": 1}
    return query


@pytest.mark.parametrize("function,args,answer", [
    ("get", [], RevertError("Nope", gas_used=1)),  # a result hidden behind a fake revert
    ("add", [MAX_U64], "0x" + "00" * 8),  # a revert hidden behind a fake result
    ("add", [MAX_U64], RevertError("Nope", gas_used=1)),  # another reason
])
def test_a_node_answer_that_differs_in_kind_or_reason_is_exit_11(
        ghost, node, project, monkeypatch, function, args, answer):
    _local_network(ghost, node)
    monkeypatch.chdir(project)
    monkeypatch.setattr(SyncGhostClient, "query", _fake_query(answer))
    with pytest.raises(CryptoError, match="but its proven state gives") as caught:
        run(Output(as_json=True), "counter", function, args, "local", commit=False,
            prove=True)
    assert caught.value.exit_code == 11


FILLER_ZIG = """\
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Set keys 0 .. n (each 8 bytes, little-endian) to 1.
pub fn fill(n: u64) u64 {
    var i: u64 = 0;
    while (i < n) : (i += 1) {
        const key: [8]u8 = @bitCast(i);
        ghost.storage.set(u64, &key, 1);
    }
    return n;
}
"""


def test_the_proven_run_is_held_to_the_storage_limit_as_the_nodes_query_is(
        node, tmp_path_factory, monkeypatch):
    """A query writing more keys than a transaction may fails on a node with storage_limit;
    run here it must fail the same way, not answer a result that makes an honest node look
    like it lied (exit 11). The node's 10M query cap keeps a query below the 1,024 keys
    today, so the limit is lowered here, in this process only (the node keeps 1,024)."""
    from ghost_cli.config.project import load_project
    from ghost_cli.exceptions import StorageLimitError
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project
    from ghost_cli.vm import gas

    root = new_project("filler", "counter", tmp_path_factory.mktemp("filler") / "filler")
    (root / "src" / "counter.zig").write_text(FILLER_ZIG)
    code = build_project(load_project(root))[0].path.read_bytes()
    key = KeyPair.generate("ml-dsa-65", b"\x0c" * 32)
    config = NetworkConfig("local", "node", 1337, url=f"quic://{node.bound['quic']}",
                           ca=node.bound["ca"])
    monkeypatch.setattr(gas, "MAX_TX_STORAGE_KEYS", 2)
    with RemoteNetwork(config) as net:
        address = net.deploy(code, name="filler", signer=key).address
        at_limit = prove_query(net, address, "fill", [2], code)
        assert at_limit.error is None and at_limit.result == 2
        over = prove_query(net, address, "fill", [3], code)
    assert over.result is None
    assert isinstance(over.error, StorageLimitError)
    assert over.error.details["limit"] == 2
