"""The signature vault and rollup examples: the reference copies under contracts/ are the
templates' files; each template's own suite passes in a fresh `ghost new` project (the
sandbox); and the same contracts behave the same on a real node process over QUIC, where
every bad signature, replay, short multi-sig, forged aggregate and wrong proof is a named
revert that leaves the contract's state as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from node_helpers import HAVE_QUIC, start_node
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from ghost_cli.chain.state_tree import MemoryNodes, SparseMerkleTree
from ghost_cli.config.project import NetworkConfig, load_project
from ghost_cli.crypto.aggregate import aggregate, prove_possession
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.crypto.multisig import MultisigAccount
from ghost_cli.crypto.scheme import Encoded
from ghost_cli.crypto.schemes import get
from ghost_cli.crypto.schemes.bls import SIG_DST
from ghost_cli.exceptions import RevertError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("signature", "rollup")


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    """Each example as `ghost new` makes it, built once."""
    out = {}
    for name in EXAMPLES:
        root = new_project(name, name, tmp_path_factory.mktemp(name) / name)
        build_project(load_project(root))
        out[name] = root
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_template_suite_passes_on_the_sandbox(name: str, projects) -> None:
    """The template's own tests, as `ghost test` runs them, in a fresh project."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=projects[name], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


# --- on a node process over QUIC ------------------------------------------------------


def _sign(key: KeyPair, msg: bytes) -> bytes:
    scheme = get(key.scheme)
    return Encoded(scheme.id, scheme.sign(key.secret_key, msg)).to_bytes()


def _vault_message(tag: bytes, vault: bytes, to: bytes, amount: int, nonce: int) -> bytes:
    return keccak256(tag + vault + to + amount.to_bytes(8, "little")
                     + nonce.to_bytes(8, "little") + (1337).to_bytes(8, "little"))


def _multisig(account: MultisigAccount, signers: list[KeyPair], msg: bytes) -> bytes:
    entries = sorted((account.member_index(k.public_key), _sign(k, msg)) for k in signers)
    out = bytes([len(entries)])
    for index, sig in entries:
        out += bytes([index]) + len(sig).to_bytes(2, "big") + sig
    return out


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from ghost_cli.client.remote import RemoteNetwork

    node = start_node(tmp_path_factory.mktemp("node") / "data")
    url = f"quic://{node.bound['quic']}" if HAVE_QUIC else f"http://{node.bound['http']}"
    try:
        with RemoteNetwork(NetworkConfig("local", "node", 1337, url=url,
                                         ca=node.bound["ca"])) as remote:
            yield remote
    finally:
        node.stop()


SENDER = KeyPair.generate("ml-dsa-65", b"\x31" * 32)  # pays for nothing: no currency


def _deploy(net, projects, name: str, *ctor_args) -> bytes:
    code = (projects[name] / "build" / f"{name}.wasm").read_bytes()
    return net.deploy(code, list(ctor_args), name=name, signer=SENDER).address


def _q(net, address, fn, *args):
    return net.query(address, fn, list(args)).result


def _call(net, address, fn, *args):
    return net.call(address, fn, list(args), signer=SENDER)


@pytest.mark.slow
def test_vault_on_a_node(net, projects):
    owner = KeyPair.generate("ml-dsa-65", b"\x01" * 32)
    members = [KeyPair.generate(s, bytes([i + 2]) * 32)
               for i, s in enumerate(("ml-dsa-44", "ed25519", "schnorr-secp256k1"))]
    account = MultisigAccount(2, tuple(m.public_key for m in members))
    # The constructor runs inside the deploy transaction: no window to claim the vault.
    vault = _deploy(net, projects, "signature", owner.public_key, account.to_bytes())
    _call(net, vault, "deposit", 1000)
    bob, eve = b"\xb0" * 20, b"\xee" * 20
    single, multi = b"ghost/vault/v1/single", b"ghost/vault/v1/multi"

    def state():
        return (_q(net, vault, "balance"), _q(net, vault, "next_nonce"),
                _q(net, vault, "withdrawn", bob), _q(net, vault, "withdrawn", eve))

    sig = _sign(owner, _vault_message(single, vault, bob, 300, 0))
    receipt = _call(net, vault, "withdraw", bob, 300, 0, sig)
    assert [e.name for e in receipt.events] == ["Withdrawn"]
    after = state()
    assert after == (700, 1, 300, 0)

    failing = [
        ("Replayed", "withdraw", (bob, 300, 0, sig)),
        ("BadSignature", "withdraw", (eve, 300, 1,  # bob's signature, eve as recipient
                                      _sign(owner, _vault_message(single, vault, bob, 300, 1)))),
        ("BadSignature", "withdraw", (bob, 300, 1,  # a member's key is not the owner's
                                      _sign(members[1], _vault_message(single, vault, bob,
                                                                       300, 1)))),
        ("BelowThreshold", "withdraw_multi", (bob, 10, 1, _multisig(
            account, members[:1], _vault_message(multi, vault, bob, 10, 1)))),
        ("BadSignature", "withdraw_multi", (bob, 10, 1, _multisig(  # signed another amount
            account, members[1:], _vault_message(multi, vault, bob, 11, 1)))),
        ("InsufficientFunds", "withdraw", (bob, 701, 1,
                                           _sign(owner, _vault_message(single, vault, bob,
                                                                       701, 1)))),
    ]
    for reason, fn, args in failing:
        with pytest.raises(RevertError, match=reason):
            _call(net, vault, fn, *args)
        assert state() == after, reason

    msg = _vault_message(multi, vault, eve, 200, 1)
    _call(net, vault, "withdraw_multi", eve, 200, 1, _multisig(account, members[::2], msg))
    assert state() == (500, 2, 300, 200)


@pytest.mark.slow
def test_rollup_on_a_node(net, projects):
    bls = get("bls12-381")
    committee = [KeyPair.generate("bls12-381", bytes([0x60 + i]) * 32) for i in range(4)]
    raw = [k.public_key[1:] for k in committee]
    pops = [prove_possession(k.secret_key) for k in committee]
    x = Scalar(0xBAD)
    rogue = (G1Point() * x - G1Point.from_compressed_bytes(raw[0])).to_compressed_bytes()
    # Member 4 is a rogue key registered with its victim's proof: only the proofs stop it.
    rollup = _deploy(net, projects, "rollup", b"".join(raw) + rogue, b"".join(pops) + pops[0], 3)

    app = b"\x42" * 20
    tree = SparseMerkleTree(MemoryNodes())
    for key, value in ((b"alice", b"\x05"), (b"bob", b"\x09"), (b"carol", b"\x01")):
        tree.update(app, key, value)
    root = tree.root()

    def message(index, r):
        return keccak256(b"ghost/rollup/v1" + rollup + (1337).to_bytes(8, "little")
                         + index.to_bytes(8, "little") + r)

    def agg(members, msg):
        return aggregate([bls.sign(committee[i].secret_key, msg) for i in members])

    forged = (G2Point.hash_to_curve(message(0, root), SIG_DST) * x).to_compressed_bytes()
    failing = [
        ("BelowThreshold", (0, root, 0b0011, agg([0, 1], message(0, root)))),
        ("BadAggregate", (0, root, 0b0111, agg([0, 1], message(0, root)))),  # fewer signed
        ("BadAggregate", (0, root, 0b1011, agg([0, 1, 2], message(0, root)))),  # others
        ("BadAggregate", (0, root, 0b10011, forged)),  # rogue key with x·H(m)
        ("BadAggregate", (0, root, 0b0111, agg([0, 1, 2], message(1, root)))),  # other index
    ]
    for reason, args in failing:
        with pytest.raises(RevertError, match=reason):
            _call(net, rollup, "post_batch", *args)
        assert _q(net, rollup, "batch_count") == 0, reason

    receipt = _call(net, rollup, "post_batch", 0, root, 0b1110, agg([1, 2, 3], message(0, root)))
    assert [e.name for e in receipt.events] == ["BatchPosted"]
    assert _q(net, rollup, "batch_root", 0) == root

    proof = tree.prove(app, b"bob").to_bytes()
    assert _q(net, rollup, "prove", 0, app, b"bob", b"\x09", proof) is True
    assert _call(net, rollup, "prove", 0, app, b"bob", b"\x09", proof).result is True
    with pytest.raises(RevertError, match="BadProof"):
        _call(net, rollup, "prove", 0, app, b"bob", b"\x0a", proof)
    with pytest.raises(RevertError, match="BadProof"):
        _call(net, rollup, "prove", 0, app, b"alice", b"\x05", proof)
    with pytest.raises(RevertError, match="UnknownBatch"):
        _call(net, rollup, "prove", 1, app, b"bob", b"\x09", proof)
    assert _q(net, rollup, "batch_count") == 1


@pytest.mark.slow
def test_vault_through_the_cli_on_a_node(projects, tmp_path):
    """`ghost deploy/call/query --network local` over QUIC: a bad signature is exit 6 with
    the reason in --json and releases nothing; the right one releases."""
    import json
    import shutil

    root = tmp_path / "signature"
    shutil.copytree(projects["signature"], root, ignore=shutil.ignore_patterns(".ghost"))
    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home"),
           "GHOST_PASSPHRASE": "correct horse"}
    env.pop("GHOST_TRANSPORT", None)

    def ghost(*args):
        proc = subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stdout, proc.stderr

    node = start_node(tmp_path / "node-data")
    try:
        assert ghost("keys", "new", "alice")[0] == 0
        code, _, err = ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                             "--ca", node.bound["ca"])
        assert code == 0, err
        local = ("--network", "local", "--key", "alice", "--json")
        owner = KeyPair.generate("ml-dsa-65", b"\x01" * 32)
        code, out, err = ghost("deploy", "signature", "--args", "0x" + owner.public_key.hex(),
                               "--args", "0x", *local)
        assert code == 0, err
        vault = bytes.fromhex(json.loads(out)["deployed"][0]["address"].removeprefix("0x"))
        # The constructor ran in the deploy and cannot be called afterwards.
        code, out, _ = ghost("call", "signature", "init", "0x" + owner.public_key.hex(), "0x",
                             *local)
        assert code == 7 and "constructor" in json.loads(out)["error"]["message"]
        assert ghost("call", "signature", "deposit", "50", *local)[0] == 0
        bob = b"\xb0" * 20
        good = _sign(owner, _vault_message(b"ghost/vault/v1/single", vault, bob, 40, 0))
        bad = _sign(owner, _vault_message(b"ghost/vault/v1/single", vault, bob, 41, 0))
        code, out, err = ghost("call", "signature", "withdraw", "0x" + bob.hex(), "40", "0",
                               "0x" + bad.hex(), *local)
        assert code == 6, (out, err)
        failed = json.loads(out)["error"]
        assert failed["details"]["reason"] == "BadSignature"
        # The failed withdrawal is recorded: its receipt says so, with the gas it used.
        code, out, err = ghost("receipt", failed["details"]["tx_hash"], "--network", "local",
                               "--json")
        assert code == 0, err
        receipt = json.loads(out)
        assert (receipt["status"], receipt["error"]["code"]) == ("failed", "reverted")
        assert receipt["gas_used"] == failed["gas_used"] and receipt["events"] == []
        code, out, err = ghost("call", "signature", "withdraw", "0x" + bob.hex(), "40", "0",
                               "0x" + good.hex(), *local)
        assert code == 0, err
        code, out, _ = ghost("query", "signature", "balance", "--network", "local", "--json")
        assert code == 0 and json.loads(out)["result"] == 10
    finally:
        node.stop()
