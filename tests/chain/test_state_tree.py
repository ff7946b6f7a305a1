"""The state tree: roots, proofs, the stored layout, atomicity, and the executor path.
Tests taking `store` or `store_url` run on every store backend (SQLite, PostgreSQL)."""

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.state_tree import (
    LEAF,
    MemoryNodes,
    Node,
    SparseMerkleTree,
    build,
    prefix_of,
    root_of,
)
from ghost_cli.chain.store import TREE_META, open_store
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.proof import (
    EMPTY,
    Leaf,
    Proof,
    leaf_hash,
    node_hash,
    state_path,
    verify_path_proof,
    verify_proof,
)
from ghost_cli.exceptions import CryptoError, RevertError, StateError

A = b"\x01" * 20
B = b"\x02" * 20


def memory_tree() -> SparseMerkleTree:
    return SparseMerkleTree(MemoryNodes())


@pytest.fixture
def store(store_url):
    s = open_store(store_url, authenticated=True)
    yield s
    s.close()


def stored_rows(tree: SparseMerkleTree) -> dict:
    return dict(tree.nodes.rows)


def built_rows(model: dict) -> dict:
    rows: dict = {}
    build({state_path(a, k): keccak256(v) for (a, k), v in model.items()},
          lambda d, p, n: rows.__setitem__((d, p), n))
    return rows


# --- roots ---------------------------------------------------------------------------


def test_empty_tree_and_single_leaf_roots():
    tree = memory_tree()
    assert tree.root() == EMPTY
    tree.update(A, b"k", b"v")
    # one key: the root is that key's leaf, sitting at depth 0
    assert tree.root() == leaf_hash(state_path(A, b"k"), keccak256(b"v"))
    tree.update(A, b"k", None)
    assert tree.root() == EMPTY and stored_rows(tree) == {}


def test_two_leaves_hash_as_one_node_ordered_by_path():
    # two keys whose paths differ in the first bit meet at the root
    x = b"x"
    y = next(k for k in (bytes([i]) for i in range(256))
             if state_path(A, k)[0] >> 7 != state_path(A, x)[0] >> 7)
    tree = memory_tree()
    tree.update(A, x, b"1")
    tree.update(A, y, b"2")
    lx = leaf_hash(state_path(A, x), keccak256(b"1"))
    ly = leaf_hash(state_path(A, y), keccak256(b"2"))
    left, right = (lx, ly) if state_path(A, x) < state_path(A, y) else (ly, lx)
    assert tree.root() == node_hash(left, right)
    assert set(tree.nodes.rows) == {(0, b""), (1, b"\x00"), (1, b"\x80")}


def test_root_changes_on_write_and_returns_after_writing_back(store):
    with store.transaction():
        store.storage_apply(A, {b"a": b"1", b"b": b"2"})
    r1 = store.state_root()
    with store.transaction():
        store.storage_apply(A, {b"a": b"changed"})
    r2 = store.state_root()
    assert r2 != r1
    with store.transaction():
        store.storage_apply(A, {b"a": b"1"})
    assert store.state_root() == r1
    with store.transaction():
        store.storage_apply(A, {b"c": b"3"})
        store.storage_apply(A, {b"c": None})
    assert store.state_root() == r1


def test_same_writes_in_any_order_give_the_same_root_and_rows():
    rnd = random.Random(7)
    writes = [(rnd.choice([A, B]), rnd.randbytes(4), rnd.randbytes(3)) for _ in range(300)]
    model = {(a, k): v for a, k, v in writes}
    final = [(a, k, v) for (a, k), v in model.items()]
    roots, rows = set(), []
    for seed in range(4):
        order = final[:]
        random.Random(seed).shuffle(order)
        tree = memory_tree()
        for a, k, v in order:
            tree.update(a, k, v)
        roots.add(tree.root())
        rows.append(stored_rows(tree))
    assert len(roots) == 1
    assert roots == {root_of(model)}
    assert all(r == rows[0] for r in rows) and rows[0] == built_rows(model)


def test_address_and_key_are_not_confused():
    one, two = memory_tree(), memory_tree()
    one.update(A, b"k", b"v")
    two.update(B, b"k", b"v")
    assert one.root() != two.root()
    with pytest.raises(CryptoError):
        state_path(b"\x01" * 19, b"k")


def test_an_update_costs_about_log_n_hashes():
    tree = memory_tree()
    for i in range(4096):
        tree.update(A, i.to_bytes(4, "big"), b"v")
    tree.hashes = 0
    for i in range(100):
        tree.update(A, i.to_bytes(4, "big"), b"w")
    per_update = tree.hashes / 100
    # log2(4096) = 12 levels plus a few where random paths share extra bits; never ~4096
    assert 10 <= per_update <= 30


# --- proofs --------------------------------------------------------------------------


def populated(n: int = 200) -> tuple[SparseMerkleTree, dict]:
    tree, model = memory_tree(), {}
    for i in range(n):
        key, value = i.to_bytes(2, "big"), b"value-%d" % i
        tree.update(A, key, value)
        model[A, key] = value
    return tree, model


def test_inclusion_and_absence_proofs_verify():
    tree, model = populated()
    root = tree.root()
    for (a, k), v in model.items():
        proof = tree.prove(a, k)
        assert proof.proves_present(state_path(a, k))
        assert verify_proof(root, a, k, v, proof)
        assert not verify_proof(root, a, k, None, proof)
        assert not verify_proof(root, a, k, v + b"!", proof)
    kinds = set()
    for i in range(200, 400):
        key = i.to_bytes(2, "big")
        proof = tree.prove(A, key)
        kinds.add(proof.leaf is None)
        assert verify_proof(root, A, key, None, proof)
        assert not verify_proof(root, A, key, b"value-1", proof)
    assert kinds == {True, False}  # ended both in empty subtrees and at other keys' leaves


def test_tampered_proofs_values_and_roots_fail():
    tree, model = populated()
    root = tree.root()
    key, value = 5 .to_bytes(2, "big"), model[A, 5 .to_bytes(2, "big")]
    good = tree.prove(A, key)
    assert verify_proof(root, A, key, value, good)
    sibs = list(good.siblings)
    flipped = bytes([sibs[0][0] ^ 1]) + sibs[0][1:]
    bad_proofs = [
        Proof((flipped, *sibs[1:]), good.leaf),
        Proof(tuple(sibs[:-1]), good.leaf),
        Proof((*sibs, EMPTY), good.leaf),
        Proof((*sibs, b"\x09" * 32), good.leaf),
        Proof(tuple(sibs), None),
        Proof(tuple(sibs), Leaf(good.leaf.path, keccak256(b"other"))),
        Proof((sibs[0][:31], *sibs[1:]), good.leaf),
    ]
    for bad in bad_proofs:
        assert not verify_proof(root, A, key, value, bad)
    assert not verify_proof(root[:31] + bytes([root[31] ^ 1]), A, key, value, good)
    assert not verify_proof(root, B, key, value, good)
    assert not verify_proof(root, A, key + b"x", value, good)
    assert not verify_proof(root, A, key, value, "not a proof")  # total: False, no raise
    assert not verify_proof(root, A[:19], key, value, good)


def test_absence_cannot_be_claimed_for_a_present_key():
    tree, model = populated()
    root = tree.root()
    key = 7 .to_bytes(2, "big")
    present = tree.prove(A, key)
    # reuse its walk with a neighbour's leaf, or claim an empty end: neither verifies
    other = tree.prove(A, 8 .to_bytes(2, "big")).leaf
    for forged in (Proof(present.siblings, None), Proof(present.siblings, other)):
        assert not verify_proof(root, A, key, None, forged)
    # an absence proof of a key whose walk ends at another leaf is bound to the shared prefix
    absent = next(tree.prove(A, i.to_bytes(2, "big")) for i in range(300, 900)
                  if tree.prove(A, i.to_bytes(2, "big")).leaf is not None)
    assert not verify_path_proof(root, bytes(32), None, absent)


def test_deleted_keys_prove_absent(store):
    with store.transaction():
        store.storage_apply(A, {bytes([i]): b"v%d" % i for i in range(50)})
    with store.transaction():
        store.storage_apply(A, {bytes([i]): None for i in range(0, 50, 3)})
    root = store.state_root()
    for i in range(50):
        proof = store.prove(A, bytes([i]))
        expected = None if i % 3 == 0 else b"v%d" % i
        assert verify_proof(root, A, bytes([i]), expected, proof)
        assert store.storage_get(A, bytes([i])) == expected


def test_proofs_round_trip_bytes_and_json():
    tree, _ = populated(300)
    for i in range(0, 600, 7):
        proof = tree.prove(A, i.to_bytes(2, "big"))
        assert Proof.from_bytes(proof.to_bytes()) == proof
        assert Proof.from_json(proof.to_json()) == proof
        assert len(proof.to_bytes()) <= 3 + 32 + 32 * proof.depth + 65


def test_malformed_proof_encodings_raise_crypto_error():
    tree, _ = populated(50)
    raw = tree.prove(A, b"\x00\x01").to_bytes()
    for bad in (b"", b"\x02" + raw[1:], raw[:-1], raw + b"\x00", raw[:3] + b"\xff" * 40):
        with pytest.raises(CryptoError):
            Proof.from_bytes(bad)
    for bad in ({}, {"siblings": ["0x12"], "leaf": None}, {"siblings": "x", "leaf": None},
                {"siblings": [], "leaf": {"path": "0x" + "00" * 32}}):
        with pytest.raises(CryptoError):
            Proof.from_json(bad)


def test_a_json_proof_that_is_not_arrays_and_objects_is_malformed():
    """The JSON form (state.md) is an array of siblings and a leaf object or null: a string
    or an object in their place is no proof, though iterating it would give one that
    verifies (no siblings from "", the member names of an object as siblings)."""
    tree, _ = populated(20)
    proof = tree.prove(A, b"\x00\x01").to_json()
    h = "0x" + "ab" * 32
    empty_root = memory_tree().root()
    assert verify_proof(empty_root, A, b"k", None, Proof.from_json({"siblings": [], "leaf": None}))
    for bad in ({"siblings": "", "leaf": None}, {"siblings": {}, "leaf": None},
                {"siblings": {h: None}, "leaf": None},
                {"siblings": proof["siblings"], "leaf": [proof["leaf"]]},
                {"siblings": proof["siblings"], "leaf": False},
                [proof["siblings"], proof["leaf"]], "{}"):
        with pytest.raises(CryptoError, match="malformed state proof"):
            Proof.from_json(bad)


@pytest.mark.parametrize("spaced", ["0x" + "ab" * 32 + " ", "0x " + "ab " * 32,
                                    "0x" + "ab" * 32 + "\n", " 0x" + "ab" * 32])
def test_a_hash_with_whitespace_in_a_json_proof_is_malformed(spaced):
    """`bytes.fromhex` skips whitespace: a hash is exactly 0x and 64 hex digits."""
    for bad in ({"siblings": [spaced], "leaf": None},
                {"siblings": [], "leaf": {"path": "0x" + "00" * 32, "value_hash": spaced}}):
        with pytest.raises(CryptoError, match="malformed state proof"):
            Proof.from_json(bad)


def test_a_hand_built_proof_of_the_wrong_types_is_false_not_an_error():
    """verify_proof is total (state.md): whatever a Proof holds, the answer is a bool."""
    tree, _ = populated(5)
    root, good = tree.root(), tree.prove(A, b"\x00\x01")
    leaf = Leaf(b"\x00" * 32, b"\x00" * 32)
    for bad in (Proof((None,), None), Proof((1,), None), Proof((), Leaf(None, None)),
                Proof((), "x"), Proof("ab", None), Proof(None, None),
                Proof(good.siblings, Leaf(b"\x00" * 32, 5)), Proof((b"\x00" * 31,), leaf)):
        assert verify_proof(root, A, b"\x00\x01", None, bad) is False
        assert verify_proof(root, A, b"\x00\x01", b"v", bad) is False


def test_adversarial_paths_nest_to_depth_256_and_collapse_back():
    """Chosen paths (not keccak outputs) exercise the deepest splits and the lifts."""
    tree = memory_tree()
    p0, p1 = bytes(32), bytes(31) + b"\x01"  # differ only in the last bit
    p2 = b"\x80" + bytes(31)
    vh = keccak256(b"v")
    for p in (p0, p1, p2):
        tree.update_path(p, vh)
    assert (256, p1) in tree.nodes.rows and (256, p0) in tree.nodes.rows
    root = tree.root()
    assert root == build({p0: vh, p1: vh, p2: vh})
    for p in (p0, p1, p2):
        assert verify_path_proof(root, p, vh, tree.prove_path(p))
    assert tree.prove_path(p1).depth == 256
    missing = bytes(31) + b"\x02"
    assert verify_path_proof(root, missing, None, tree.prove_path(missing))
    tree.update_path(p0, None)  # p1 is alone under the left half: lifted to depth 1
    assert tree.nodes.rows[1, prefix_of(p1, 1)] == Node(LEAF, p1, vh)
    assert set(tree.nodes.rows) == {(0, b""), (1, b"\x00"), (1, b"\x80")}
    assert tree.root() == build({p1: vh, p2: vh})
    tree.update_path(p2, None)
    assert tree.nodes.rows == {(0, b""): Node(LEAF, p1, vh)}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([A, B]), st.binary(max_size=2),
                          st.none() | st.binary(max_size=3)), max_size=60))
def test_random_writes_match_a_fresh_tree_of_the_final_dict(ops):
    tree, model = memory_tree(), {}
    for address, key, value in ops:
        tree.update(address, key, value)
        if value is None:
            model.pop((address, key), None)
        else:
            model[address, key] = value
    root = tree.root()
    assert root == root_of(model)
    assert stored_rows(tree) == built_rows(model)  # same shape, not just the same hash
    for address, key, _ in ops:
        assert verify_proof(root, address, key, model.get((address, key)),
                            tree.prove(address, key))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=1), st.none() | st.binary(max_size=2)),
                max_size=30))
def test_sqlite_tree_equals_the_memory_tree(tmp_path_factory, ops):
    store = open_store(tmp_path_factory.mktemp("p") / "s.db", authenticated=True)
    tree = memory_tree()
    try:
        for key, value in ops:
            with store.transaction():
                store.storage_apply(A, {key: value})
            tree.update(A, key, value)
            assert store.state_root() == tree.root()
    finally:
        store.close()


# --- the store -----------------------------------------------------------------------


def test_failed_transaction_leaves_the_root_unchanged(store):
    with store.transaction():
        store.storage_apply(A, {b"k": b"v", b"j": b"w"})
    root, rows = store.state_root(), list(store.export_rows("state_nodes"))
    with pytest.raises(RuntimeError), store.transaction():
        store.storage_apply(A, {b"k": None, b"new": b"x"})
        assert store.state_root() != root
        raise RuntimeError("boom")
    assert store.state_root() == root
    assert list(store.export_rows("state_nodes")) == rows
    with store.snapshot():
        with store.transaction():
            store.storage_apply(B, {b"k": b"v"})
        assert store.state_root() != root
    assert store.state_root() == root


def test_storage_apply_outside_a_transaction_is_still_atomic(store, monkeypatch):
    with store.transaction():
        store.storage_apply(A, {b"k": b"v"})
    root = store.state_root()

    def broken(*args):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.tree, "update", broken)
    with pytest.raises(sqlite3.OperationalError):
        store.storage_apply(A, {b"k": b"other"})
    monkeypatch.undo()
    assert store.storage_get(A, b"k") == b"v" and store.state_root() == root


def test_root_and_proofs_persist_and_an_unauthenticated_store_refuses(store_url):
    path = store_url
    s = open_store(path, authenticated=True)
    with s.transaction():
        s.storage_apply(A, {b"k": b"v"})
    root = s.state_root()
    s.close()
    s = open_store(path, authenticated=True)
    assert s.state_root() == root
    assert verify_proof(root, A, b"k", b"v", s.prove(A, b"k"))
    s.close()
    s = open_store(path)
    with pytest.raises(StateError, match="authenticated=True"):
        s.state_root()
    with pytest.raises(StateError):
        s.prove(A, b"k")
    s.close()


def test_writes_without_the_tree_are_rebuilt_on_an_authenticated_open(store_url):
    path = store_url
    s = open_store(path, authenticated=True)
    with s.transaction():
        s.storage_apply(A, {b"k": b"v"})
    s.close()
    plain = open_store(path)  # the sandbox's way: no tree, marks it stale
    model = {(A, b"k"): b"v"}
    with plain.transaction():
        plain.storage_apply(A, {b"k": None})
        plain.storage_apply(B, {bytes([i]): b"x%d" % i for i in range(100)})
    model = {(B, bytes([i])): b"x%d" % i for i in range(100)}
    assert TREE_META not in dict(plain.export_rows("meta"))
    plain.close()
    s = open_store(path, authenticated=True)
    assert s.state_root() == root_of(model)
    assert verify_proof(s.state_root(), A, b"k", None, s.prove(A, b"k"))
    s.close()


def test_a_private_store_marks_the_tree_stale_after_any_undo_or_meta_write():
    # In memory no other connection can write the meta rows back, so the store removes
    # them once rather than on every write; anything that may bring them back (a
    # rollback, a snapshot's end, a write or an import of the rows) makes it remove
    # them again.
    from ghost_cli.chain.store.sql import HISTORY_META

    s = open_store(":memory:")
    meta = lambda: {k for k in dict(s.export_rows("meta")) if k in (TREE_META, HISTORY_META)}  # noqa: E731
    s.meta_set(TREE_META, "x")
    s.meta_set(HISTORY_META, "1")
    s.storage_apply(A, {b"k": b"1"})
    assert meta() == set()
    s.meta_set(TREE_META, "x")
    s.storage_apply(A, {b"k": b"2"})
    assert meta() == set()
    s.meta_set(TREE_META, "x")
    with pytest.raises(RuntimeError), s.transaction():
        s.storage_apply(A, {b"k": b"3"})  # removes the row ...
        raise RuntimeError  # ... and the rollback brings it back
    assert meta() == {TREE_META}
    s.storage_apply(A, {b"k": b"4"})
    assert meta() == set()
    s.meta_set(HISTORY_META, "1")
    with s.snapshot():
        s.storage_apply(A, {b"k": b"5"})
        assert meta() == set()
    assert meta() == {HISTORY_META}
    s.storage_apply(A, {b"k": b"6"})
    assert meta() == set()
    s.import_rows("meta", [(TREE_META, "x")])  # e.g. rows copied in by a migration
    s.storage_apply(A, {b"k": b"7"})
    assert meta() == set()
    s.close()


def test_a_file_store_marks_the_tree_stale_again_after_another_connection_commits(tmp_path):
    # Another connection may rebuild the tree between two writes of this one; until one
    # does, the rows this one removed stay removed and it need not remove them again.
    path = tmp_path / "state.db"
    first, second = open_store(path), open_store(path)
    first.storage_apply(A, {b"k": b"1"})
    assert first._tree_meta_gone
    first.storage_apply(A, {b"k": b"2"})
    second.meta_set(TREE_META, "x")
    first.storage_apply(A, {b"k": b"3"})
    assert TREE_META not in dict(second.export_rows("meta"))
    second.meta_set(TREE_META, "x")
    with first.transaction():  # asked inside it, before the write
        first.storage_apply(A, {b"k": b"4"})
    assert TREE_META not in dict(second.export_rows("meta"))
    first.close()
    second.close()


def test_migration_from_v1_keeps_data_and_adds_the_tree(tmp_path):
    from ghost_cli.chain.store.sqlite import MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute("INSERT INTO storage VALUES (?, ?, ?)", (A, b"k", b"v"))
    db.close()
    s = open_store(path, authenticated=True)
    assert s.schema_version() == len(MIGRATIONS)
    assert s.state_root() == root_of({(A, b"k"): b"v"})
    s.close()


# --- the executor path ----------------------------------------------------------------


def test_counter_storage_is_proved_against_the_state_root(tmp_path, counter_code):
    with Sandbox(tmp_path / "sb.db", clock=lambda: 1_700_000_000, authenticated=True) as sb:
        empty = sb.store.state_root()
        address = sb.deploy(counter_code, name="counter").address
        proof = sb.store.prove(address, b"count")
        assert verify_proof(sb.store.state_root(), address, b"count", None, proof)
        sb.call("counter", "increment")
        sb.call("counter", "add", [41])
        root = sb.store.state_root()
        assert root != empty
        value = (42).to_bytes(8, "little")
        assert sb.store.storage_get(address, b"count") == value
        proof = sb.store.prove(address, b"count")
        assert verify_proof(root, address, b"count", value, proof)
        assert not verify_proof(root, address, b"count", (41).to_bytes(8, "little"), proof)
        # a failed call (overflow revert) leaves the root where it was
        with pytest.raises(RevertError, match="Overflow"):
            sb.call("counter", "add", [2**64 - 1])
        assert sb.store.state_root() == root


def test_the_node_cache_never_outlives_a_rollback(store):
    """Writes after a failed transaction or a snapshot build on the rolled-back tree."""
    model = {(A, bytes([i])): b"v" for i in range(40)}
    with store.transaction():
        store.storage_apply(A, {k: v for (_, k), v in model.items()})
    for i in range(5):
        with pytest.raises(RuntimeError), store.transaction():
            store.storage_apply(A, {bytes([i]): None, bytes([100 + i]): b"x"})
            raise RuntimeError("boom")
        with store.snapshot():
            store.storage_apply(A, {bytes([i + 1]): None})
        with store.transaction():
            store.storage_apply(A, {bytes([i + 50]): b"w"})
        model[A, bytes([i + 50])] = b"w"
        assert store.state_root() == root_of(model)


def test_two_connections_to_one_store_see_each_others_trees(store_url):
    one = open_store(store_url, authenticated=True)
    two = open_store(store_url, authenticated=True)
    model = {}
    for i in range(20):
        writer = one if i % 2 else two
        with writer.transaction():
            writer.storage_apply(A, {bytes([i]): b"%d" % i})
        model[A, bytes([i])] = b"%d" % i
        assert one.state_root() == two.state_root() == root_of(model)
    assert verify_proof(one.state_root(), A, b"\x03", b"3", two.prove(A, b"\x03"))
    one.close()
    two.close()


def test_known_answers_pin_the_hash_rules_and_the_proof_bytes():
    """docs/state.md's rules, frozen: a client written from the doc gets these bytes."""
    model = {(A, b"count"): (42).to_bytes(8, "little"), (A, b"owner"): B, (B, b""): b""}
    assert root_of(model).hex() == (
        "61e2dc473ff33d10f2df49d354d1cf115f960ba618e8cd4933986acfce13e12b")
    tree = memory_tree()
    for (address, key), value in model.items():
        tree.update(address, key, value)
    raw = tree.prove(A, b"count").to_bytes()
    assert raw[:4].hex() == "01000684"  # version 1, six siblings, two of them non-empty
    assert len(raw) == 4 + 2 * 32 + 65
    assert raw == bytes.fromhex(
        "01000684d43f1786e6cffe7732b286adc6062f38931f3413ee4f68a9eeb38e83c1991975194849e807"
        "4df3981afb473c87babfbe4440786e4ff4e2284f9dede3ea2adb4a01aca9e2ba1e4b21755335ab014b"
        "2aba05a724f593049d5860a679438f0b1943c0ee55bf17be166383be3ca3ff9d91bc5f3400bb658843"
        "fe52e62f5ceb16b5f101")


@given(st.binary(max_size=200) | st.builds(
    lambda depth, rest: b"\x01" + depth.to_bytes(2, "big") + rest,
    st.integers(0, 24), st.binary(max_size=200)))
def test_proof_bytes_parse_canonically_or_raise_crypto_error(data):
    try:
        proof = Proof.from_bytes(data)
    except CryptoError:
        return
    assert proof.to_bytes() == data  # one encoding per proof


@given(st.integers(0, 40), st.integers(0, 2**40))
def test_every_real_proof_reparses_from_any_prefix_as_an_error(n, seed):
    tree, _ = populated(n)
    raw = tree.prove(A, seed.to_bytes(6, "big")).to_bytes()
    assert Proof.from_bytes(raw).to_bytes() == raw
    for cut in range(len(raw)):
        with pytest.raises(CryptoError):
            Proof.from_bytes(raw[:cut])


def test_a_reader_in_a_snapshot_sees_one_version_and_then_the_next(store_url):
    """The node's read connections: each read runs in one snapshot beside the writer."""
    writer = open_store(store_url, authenticated=True)
    reader = writer.reader()
    model = {}

    def write(i: int) -> None:
        with writer.transaction():
            writer.storage_apply(A, {bytes([i % 7]): b"%d" % i})
        model[A, bytes([i % 7])] = b"%d" % i

    write(0)
    for i in range(1, 30):
        with reader.read():
            root = reader.state_root()
            assert root == root_of(model)
            seen = dict(model)
            write(i)  # commits while the reader's snapshot is open
            for k in range(7):
                key = bytes([k])
                assert verify_proof(root, A, key, seen.get((A, key)), reader.prove(A, key))
            assert reader.state_root() == root
        with reader.read():
            assert reader.state_root() == writer.state_root() == root_of(model)
    reader.close()
    writer.close()
