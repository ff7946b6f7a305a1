"""State history (store/sql.py): the root, proofs and values as they were after a past
block, on both backends, checked with the light client's own verifier."""

import pytest

from ghost_cli.chain.store import open_store
from ghost_cli.crypto.proof import verify_proof
from ghost_cli.exceptions import HeightUnavailableError

A, B = b"\x0a" * 20, b"\x0b" * 20


def _block(store, height, address, writes):
    with store.transaction():
        store.storage_apply(address, writes)
        store.add_block(height, 1000 + height, bytes(32))
    return store.state_root()


class HistorySuite:
    def test_past_heights_prove_what_they_held(self, url):
        store = open_store(url, authenticated=True)
        try:
            assert store.history_from() == 0
            roots = {0: store.state_root()}
            roots[1] = _block(store, 1, A, {b"k": b"one", b"gone": b"soon"})
            roots[2] = _block(store, 2, A, {b"k": b"two", b"gone": None})
            roots[3] = _block(store, 3, B, {b"k": b"other"})
            expect = {0: (None, None), 1: (b"one", b"soon"), 2: (b"two", None),
                      3: (b"two", None)}
            for h, (k, gone) in expect.items():
                assert store.state_root_at(h) == roots[h]
                for key, value in ((b"k", k), (b"gone", gone)):
                    assert store.storage_get_at(A, key, h) == value
                    assert verify_proof(roots[h], A, key, value, store.prove_at(A, key, h))
                # a value from another height does not verify against this root
                if h in (1, 2):
                    other = expect[3 - h][0]
                    assert not verify_proof(roots[h], A, b"k", other,
                                            store.prove_at(A, b"k", h))
            with pytest.raises(HeightUnavailableError, match="past the latest block"):
                store.state_root_at(4)
        finally:
            store.close()

    def test_history_starts_when_the_tree_is_rebuilt(self, url):
        sandbox = open_store(url)  # no tree: writes mark it (and any history) stale
        with sandbox.transaction():
            sandbox.storage_apply(A, {b"k": b"v"})
            sandbox.add_block(1, 1, bytes(32))
            sandbox.add_block(2, 2, bytes(32))
        assert sandbox.history_from() is None
        sandbox.close()
        store = open_store(url, authenticated=True)
        try:
            assert store.history_from() == 2
            assert store.storage_get_at(A, b"k", 2) == b"v"
            with pytest.raises(HeightUnavailableError, match="starts at height 2"):
                store.prove_at(A, b"k", 1)
        finally:
            store.close()


class TestSqlite(HistorySuite):
    @pytest.fixture
    def url(self, tmp_path):
        return str(tmp_path / "state.db")


class TestPostgres(HistorySuite):
    @pytest.fixture
    def url(self, pg_cluster):
        return pg_cluster.new_schema()


def test_history_can_be_switched_off_and_on(tmp_path):
    url = str(tmp_path / "state.db")
    store = open_store(url, authenticated=True, history=False)
    _block(store, 1, A, {b"k": b"v"})
    assert store.history_from() is None and store.state_root()  # the tree is still kept
    with pytest.raises(HeightUnavailableError, match="keeps no state history"):
        store.prove_at(A, b"k", 1)
    store.close()
    store = open_store(url, authenticated=True)  # back on: history starts here
    assert store.history_from() == 1
    _block(store, 2, A, {b"k": b"w"})
    assert store.storage_get_at(A, b"k", 1) == b"v"
    store.close()
    store = open_store(url, authenticated=True, history=False)  # off again: dropped
    assert store.history_from() is None
    store.close()
