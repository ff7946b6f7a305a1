"""Tests for the rollup contract. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox. The
committee's keys, signatures and the rollup's state tree are made here in Python."""

import pytest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from ghost_cli.chain.state_tree import MemoryNodes, SparseMerkleTree
from ghost_cli.crypto.aggregate import aggregate, prove_possession
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.crypto.schemes import get
from ghost_cli.crypto.schemes.bls import SIG_DST
from ghost_cli.exceptions import NotFoundError, RevertError

BLS = get("bls12-381")
COMMITTEE = [KeyPair.generate("bls12-381", bytes([0x40 + i]) * 32) for i in range(4)]
RAW_KEYS = [k.public_key[1:] for k in COMMITTEE]  # without the scheme id: 48 bytes each
POPS = [prove_possession(k.secret_key) for k in COMMITTEE]

# The rollup's own state: some contract's storage, as the sequencers computed it.
APP = bytes.fromhex("11" * 20)
STATE = {b"balance:alice": b"\x2a" + bytes(7), b"balance:bob": b"\x07" + bytes(7),
         b"owner": b"alice"}


def state_tree(state=STATE):
    tree = SparseMerkleTree(MemoryNodes())
    for key, value in state.items():
        tree.update(APP, key, value)
    return tree


def batch_message(rollup, index, root, chain_id=1337):
    """What the committee signs for a batch (the contract builds the same bytes)."""
    return keccak256(b"ghost/rollup/v1" + rollup + chain_id.to_bytes(8, "little")
                     + index.to_bytes(8, "little") + root)


def signed(members, msg):
    """The signers bitmap and aggregate signature of `members` (indexes) on `msg`."""
    bitmap = sum(1 << i for i in members)
    return bitmap, aggregate([BLS.sign(COMMITTEE[i].secret_key, msg) for i in members])


@pytest.fixture
def rollup(deploy):
    # The constructor (`init`) installs the committee inside the deploy transaction.
    return deploy("rollup", b"".join(RAW_KEYS), b"".join(POPS), 3)


def post(rollup, index, root, members):
    bitmap, agg = signed(members, batch_message(rollup.address, index, root))
    return rollup.post_batch.transact(index, root, bitmap, agg)


def test_post_a_batch_and_prove_a_value(rollup, expect_event):
    tree = state_tree()
    root = tree.root()
    receipt = post(rollup, 0, root, [0, 1, 3])
    assert [e.name for e in receipt.events] == ["BatchPosted"]
    expect_event(receipt, "BatchPosted", index=0, root=root)
    assert (rollup.batch_count(), rollup.batch_root(0)) == (1, root)
    proof = tree.prove(APP, b"balance:alice").to_bytes()
    assert rollup.prove(0, APP, b"balance:alice", STATE[b"balance:alice"], proof) is True


def test_below_threshold_reverts(rollup):
    with pytest.raises(RevertError, match="BelowThreshold"):
        post(rollup, 0, state_tree().root(), [0, 1])
    assert rollup.batch_count() == 0


def test_an_aggregate_of_other_signers_reverts(rollup):
    root = state_tree().root()
    msg = batch_message(rollup.address, 0, root)
    _, agg = signed([0, 1, 2], msg)
    with pytest.raises(RevertError, match="BadAggregate"):  # claims 0, 1, 3 signed
        rollup.post_batch(0, root, 0b1011, agg)
    _, short = signed([0, 1], msg)  # two signatures passed off as three
    with pytest.raises(RevertError, match="BadAggregate"):
        rollup.post_batch(0, root, 0b0111, short)
    assert (rollup.batch_count(), rollup.batch_root(0)) == (0, b"")


def test_signatures_for_another_root_revert(rollup):
    bitmap, agg = signed([0, 1, 2], batch_message(rollup.address, 0, b"\x01" * 32))
    with pytest.raises(RevertError, match="BadAggregate"):
        rollup.post_batch(0, state_tree().root(), bitmap, agg)


def test_a_rogue_key_cannot_forge_its_victims_part(deploy):
    """The attacker registers pk_rogue = x·g1 − pk_victim: the two keys sum to x·g1, so
    x·H(m) passes the pairing check for both. It cannot prove possession of pk_rogue, and
    the contract hands every signer's proof to the host on every batch."""
    x = Scalar(0xC0FFEE)
    rogue = (G1Point() * x - G1Point.from_compressed_bytes(RAW_KEYS[0])).to_compressed_bytes()
    rollup = deploy("rollup", b"".join(RAW_KEYS[:3]) + rogue, b"".join(POPS[:3]) + POPS[0], 2)
    root = state_tree().root()
    forged = (G2Point.hash_to_curve(batch_message(rollup.address, 0, root), SIG_DST) * x)
    with pytest.raises(RevertError, match="BadAggregate"):
        rollup.post_batch(0, root, 0b1001, forged.to_compressed_bytes())
    assert rollup.batch_count() == 0


def test_batches_go_in_order(rollup):
    root = state_tree().root()
    with pytest.raises(RevertError, match="BadIndex"):
        post(rollup, 1, root, [0, 1, 2])
    post(rollup, 0, root, [0, 1, 2])
    with pytest.raises(RevertError, match="BadIndex"):
        post(rollup, 0, root, [0, 1, 2])


def test_a_signer_outside_the_committee_reverts(rollup):
    with pytest.raises(RevertError, match="UnknownSigner"):
        rollup.post_batch(0, state_tree().root(), 0b10111, b"\x00" * 96)


@pytest.mark.parametrize("lie", ["value", "key", "proof", "other_state"])
def test_a_wrong_proof_reverts(rollup, lie):
    tree = state_tree()
    post(rollup, 0, tree.root(), [1, 2, 3])
    key, value = b"balance:bob", STATE[b"balance:bob"]
    proof = tree.prove(APP, key)
    if lie == "value":
        value = b"\xff" + bytes(7)
    elif lie == "key":
        key = b"balance:carol"
    elif lie == "proof":
        proof = tree.prove(APP, b"balance:alice")
    else:  # a real proof, from a state the committee never signed
        proof = state_tree({**STATE, key: value, b"x": b"y"}).prove(APP, key)
    with pytest.raises(RevertError, match="BadProof"):
        rollup.prove(0, APP, key, value, proof.to_bytes())


def test_an_unknown_batch_reverts(rollup):
    tree = state_tree()
    with pytest.raises(RevertError, match="UnknownBatch"):
        rollup.prove(0, APP, b"owner", b"alice", tree.prove(APP, b"owner").to_bytes())


def test_the_constructor_checks_the_committee_and_runs_only_once(deploy):
    # A failing constructor leaves no contract: the deploy itself fails.
    with pytest.raises(RevertError, match="BadThreshold"):
        deploy("rollup", b"".join(RAW_KEYS), b"".join(POPS), 5)
    with pytest.raises(RevertError, match="BadCommittee"):
        deploy("rollup", b"".join(RAW_KEYS), b"".join(POPS[:3]), 2)
    rollup = deploy("rollup", b"".join(RAW_KEYS), b"".join(POPS), 2)
    with pytest.raises(NotFoundError, match="constructor"):
        rollup.init(b"".join(RAW_KEYS), b"".join(POPS), 2)
    assert (rollup.committee_size(), rollup.threshold()) == (4, 2)
