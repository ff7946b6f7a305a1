"""Checkpoints: the policy, recorded roots and ranges, receipt proofs, old roots."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ghost_cli.chain.checkpoint import (
    Checkpoint,
    CheckpointPolicy,
    make_checkpoint,
    maybe_checkpoint,
    prove_receipt,
    verify_receipt,
)
from ghost_cli.chain.store import ReceiptRecord, StateStore, open_store
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.proof import (
    EMPTY,
    ListProof,
    list_leaf,
    list_prove,
    list_root,
    node_hash,
    verify_list_proof,
    verify_proof,
)
from ghost_cli.exceptions import CryptoError, NotFoundError, StateError, UsageError

A = b"\x01" * 20
SENDER = b"\x05" * 20


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "state.db", authenticated=True)
    yield s
    s.close()


def apply_tx(store: StateStore, writes: dict, time: int = 1_700_000_000) -> bytes:
    """What the executor records for one call: storage, block and receipt, atomically."""
    height = store.height() + 1
    tx_hash = keccak256(b"tx%d" % height)
    with store.transaction():
        store.storage_apply(A, writes)
        store.add_block(height, time, tx_hash)
        store.put_receipt(ReceiptRecord(tx_hash, height, "call", SENDER, A, "f", 1, b"", (), ()))
    return tx_hash


# --- the policy ----------------------------------------------------------------------


def test_policy_is_due_on_either_trigger_and_never_empty():
    policy = CheckpointPolicy(every_txs=10, every_ms=500)
    assert not policy.due(9, 499)
    assert policy.due(10, 0)
    assert policy.due(1, 500)
    assert not policy.due(0, 10_000)  # nothing to post
    assert not CheckpointPolicy(every_txs=None, every_ms=500).due(10**6, 499)
    assert not CheckpointPolicy(every_txs=10, every_ms=None).due(9, 10**9)


@pytest.mark.parametrize("bad", [{"every_txs": 0}, {"every_ms": -1}, {"every_txs": 1.5}])
def test_policy_refuses_nonsense(bad):
    with pytest.raises(UsageError):
        CheckpointPolicy(**bad)


# --- making and reading checkpoints --------------------------------------------------


def test_checkpoints_cover_consecutive_ranges(store):
    hashes = [apply_tx(store, {b"k%d" % i: b"v"}) for i in range(5)]
    first = make_checkpoint(store, 1_700_000_001.25)
    assert (first.height, first.first_height, first.tx_count) == (5, 1, 5)
    assert first.time_ms == 1_700_000_001_250
    assert first.state_root == store.state_root()
    assert first.receipts_root == list_root(hashes)
    assert make_checkpoint(store, 1_700_000_002) == first  # nothing new: the same one
    more = [apply_tx(store, {b"k": b"w"}) for _ in range(3)]
    second = make_checkpoint(store, 1_700_000_003)
    assert (second.height, second.first_height, second.tx_count) == (8, 6, 3)
    assert second.receipts_root == list_root(more)
    assert store.checkpoint() == second
    assert store.checkpoint(5) == first
    with pytest.raises(NotFoundError):
        store.checkpoint(6)


def test_an_empty_chain_gets_a_genesis_checkpoint(store):
    with pytest.raises(NotFoundError, match="no checkpoint yet"):
        store.checkpoint()
    genesis = make_checkpoint(store, 1.0)
    assert (genesis.height, genesis.tx_count, genesis.receipts_root) == (0, 0, EMPTY)
    assert genesis.state_root == EMPTY == store.state_root()


def test_checkpoints_need_the_state_tree(tmp_path):
    plain = open_store(tmp_path / "plain.db")
    apply_tx(plain, {b"k": b"v"})
    with pytest.raises(StateError, match="authenticated=True"):
        make_checkpoint(plain, 1.0)
    with pytest.raises(NotFoundError):
        plain.checkpoint()  # nothing was half-written
    plain.close()


def test_checkpoints_persist(tmp_path):
    path = tmp_path / "state.db"
    s = open_store(path, authenticated=True)
    apply_tx(s, {b"k": b"v"})
    cp = make_checkpoint(s, 5.0)
    s.close()
    s = open_store(path, authenticated=True)
    assert s.checkpoint() == cp
    s.close()


def test_checkpoint_json_round_trip(store):
    apply_tx(store, {b"k": b"v"})
    cp = make_checkpoint(store, 2.0)
    assert Checkpoint.from_json(cp.to_json()) == cp
    with pytest.raises(UsageError):
        Checkpoint.from_json({"height": 1})


@pytest.mark.parametrize("field,value", [
    ("height", True), ("height", 2.9), ("height", "2"), ("height", -1), ("tx_count", 1.5),
    ("time_ms", None), ("state_root", "0x01"), ("state_root", "0x" + "00" * 33),
    ("receipts_root", "00" * 32), ("receipts_root", "0x" + "zz" * 32), ("first_height", 3),
    # bytes.fromhex skips whitespace: 32 bytes spelled with spaces are still not 0x + 64 hex
    ("state_root", "0x" + "11" * 32 + " "), ("state_root", "0x " + "11 " * 32),
    ("receipts_root", "0x" + "22" * 32 + "\n"),
])
def test_a_tampered_checkpoint_is_refused_not_coerced(store, field, value):
    """A checkpoint document is parsed exactly: nothing is rounded, shortened or read as
    another type, so a tampered one never becomes a checkpoint the node did not make."""
    apply_tx(store, {b"k": b"v"})
    doc = make_checkpoint(store, 2.0).to_json()
    with pytest.raises(UsageError, match="malformed checkpoint"):
        Checkpoint.from_json({**doc, field: value})


def test_maybe_checkpoint_follows_the_policy(store):
    policy = CheckpointPolicy(every_txs=3, every_ms=60_000)
    t0 = 1_700_000_000
    apply_tx(store, {b"a": b"1"}, time=t0)
    assert maybe_checkpoint(store, policy, t0 + 1) is None
    apply_tx(store, {b"a": b"2"}, time=t0)
    apply_tx(store, {b"a": b"3"}, time=t0)
    cp = maybe_checkpoint(store, policy, t0 + 2)
    assert cp is not None and cp.height == 3
    assert maybe_checkpoint(store, policy, t0 + 1000) is None  # time alone: no empty ones
    apply_tx(store, {b"a": b"4"}, time=t0 + 3)
    assert maybe_checkpoint(store, policy, t0 + 2 + 59) is None
    late = maybe_checkpoint(store, policy, t0 + 2 + 60)  # 60 s after the last checkpoint
    assert late is not None and (late.first_height, late.height) == (4, 4)


# --- proofs against checkpoints --------------------------------------------------------


def test_receipts_prove_inclusion_in_their_checkpoint(store):
    hashes = [apply_tx(store, {b"k": bytes([i])}) for i in range(7)]
    make_checkpoint(store, 1.0)
    later = [apply_tx(store, {b"k": b"x"}) for _ in range(2)]
    with pytest.raises(NotFoundError, match="not in a checkpoint"):
        prove_receipt(store, later[0])
    second = make_checkpoint(store, 2.0)
    for tx_hash in hashes + later:
        cp, proof = prove_receipt(store, tx_hash)
        assert verify_receipt(cp, tx_hash, proof)
        assert not verify_receipt(cp, keccak256(b"forged"), proof)
        # the root does not bind the list's size; the checkpoint's tx_count does
        resized = ListProof(proof.index, proof.size + 1, proof.siblings)
        assert not verify_receipt(cp, tx_hash, resized)
    cp, proof = prove_receipt(store, later[1])
    assert cp == second and proof.index == 1
    assert not verify_receipt(store.checkpoint(7), later[1], proof)  # wrong range
    with pytest.raises(NotFoundError):
        prove_receipt(store, keccak256(b"unknown"))


def test_state_proofs_against_an_old_checkpoint_root(store):
    apply_tx(store, {b"count": b"\x01", b"gone": b"x"})
    old = make_checkpoint(store, 1.0)
    old_proofs = {k: store.prove(A, k) for k in (b"count", b"gone", b"never")}
    apply_tx(store, {b"count": b"\x02", b"gone": None})
    new = make_checkpoint(store, 2.0)
    assert new.state_root != old.state_root
    # proofs taken at the old checkpoint still verify against its root, offline
    assert verify_proof(old.state_root, A, b"count", b"\x01", old_proofs[b"count"])
    assert verify_proof(old.state_root, A, b"gone", b"x", old_proofs[b"gone"])
    assert verify_proof(old.state_root, A, b"never", None, old_proofs[b"never"])
    # ... and not against the new one; fresh proofs tell the new story
    assert not verify_proof(new.state_root, A, b"count", b"\x01", old_proofs[b"count"])
    assert verify_proof(new.state_root, A, b"count", b"\x02", store.prove(A, b"count"))
    assert verify_proof(new.state_root, A, b"gone", None, store.prove(A, b"gone"))
    assert not verify_proof(old.state_root, A, b"gone", None, store.prove(A, b"gone"))


# --- the list tree --------------------------------------------------------------------


def test_list_root_shape():
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    assert list_root([]) == EMPTY
    assert list_root([a]) == list_leaf(a)
    ab = node_hash(list_leaf(a), list_leaf(b))
    assert list_root([a, b]) == ab
    assert list_root([a, b, c]) == node_hash(ab, list_leaf(c))  # the odd one moves up


@given(st.integers(min_value=1, max_value=40))
def test_every_item_of_every_list_size_proves(n):
    items = [keccak256(i.to_bytes(4, "big")) for i in range(n)]
    root = list_root(items)
    for i, item in enumerate(items):
        proof = list_prove(items, i)
        assert verify_list_proof(root, item, proof)
        assert ListProof.from_json(proof.to_json()) == proof
        if n > 1:
            assert not verify_list_proof(root, items[(i + 1) % n], proof)
            assert not verify_list_proof(root, item, ListProof((i + 1) % n, n, proof.siblings))
        assert not verify_list_proof(root, item, ListProof(i, n, proof.siblings + (root,)))


def test_list_proof_errors():
    with pytest.raises(CryptoError):
        list_prove([b"a"], 1)
    with pytest.raises(CryptoError):
        ListProof.from_json({"index": "0", "size": 1, "siblings": []})
    # JSON that is not the to_json form is no proof, though read loosely it verified:
    # true as index 1, "" or {} as no siblings
    a, b = b"\x01" * 32, b"\x02" * 32
    good = list_prove([a, b], 1).to_json()
    assert verify_list_proof(list_root([a, b]), b, ListProof.from_json(good))
    for bad in ({**good, "index": True}, {**good, "size": True}, {**good, "index": -1},
                {"index": 0, "size": 1, "siblings": ""}, {"index": 0, "size": 1, "siblings": {}}):
        with pytest.raises(CryptoError, match="malformed list proof"):
            ListProof.from_json(bad)
    assert not verify_list_proof(EMPTY, b"a", ListProof(0, 0, ()))
