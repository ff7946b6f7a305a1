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


def _rows_below(store, height):
    return sorted((bytes(a), bytes(k), h) for a, k, h in store._rows(
        "SELECT address, key, height FROM storage_log WHERE height < ?", (height,)))


class PruningSuite:
    def test_pruning_keeps_every_height_from_where_it_starts(self, url):
        store = open_store(url, authenticated=True)
        try:
            roots, held = {}, {}
            for h in range(1, 9):
                writes = {b"k": b"v%d" % h}
                if h == 2:
                    writes[b"gone"] = b"soon"
                if h == 4:
                    writes[b"gone"] = None
                if h == 1:
                    roots[h] = _block(store, h, B, {b"k": b"b"})
                    store.storage_apply(A, writes, height=1)
                    roots[h] = store.state_root()
                else:
                    roots[h] = _block(store, h, A, writes)
                held[h] = {(A, b"k"): b"v%d" % h, (A, b"gone"): b"soon" if h in (2, 3) else None,
                           (B, b"k"): b"b"}
            store.prune_history(5)
            assert store.history_from() == 5
            for h in range(5, 9):
                assert store.state_root_at(h) == roots[h]
                for (address, key), value in held[h].items():
                    assert store.storage_get_at(address, key, h) == value
                    assert verify_proof(roots[h], address, key, value,
                                        store.prove_at(address, key, h))
            for h in range(0, 5):
                with pytest.raises(HeightUnavailableError, match="starts at height 5"):
                    store.state_root_at(h)
            # below 5 only what height 5 still reads: B's one value (A's key was rewritten
            # at 5, and "gone" was removed)
            assert _rows_below(store, 5) == [(B, b"k", 1)]
            store.prune_history(3)  # never back
            assert store.history_from() == 5
            store.prune_history(100)  # never past the latest block
            assert store.history_from() == 8
            assert store.storage_get_at(B, b"k", 8) == b"b"
            assert store.state_root_at(8) == roots[8]
        finally:
            store.close()

    def test_a_window_is_kept_as_blocks_are_written(self, url):
        store = open_store(url, authenticated=True, history_blocks=4)
        try:
            roots = {}
            for h in range(1, 21):
                roots[h] = _block(store, h, A, {b"k": b"v%d" % h})
                start = store.history_from()
                if h >= 4:  # a window of 4 and a slack of 1: exactly the last 4 heights
                    assert start == h - 3
            for h in range(17, 21):
                assert store.storage_get_at(A, b"k", h) == b"v%d" % h
                assert store.state_root_at(h) == roots[h]
            assert _rows_below(store, 17) == []
            with pytest.raises(HeightUnavailableError):
                store.state_root_at(16)
        finally:
            store.close()

    def test_a_rolled_back_block_keeps_its_prune_undone(self, url):
        store = open_store(url, authenticated=True, history_blocks=2)
        try:
            for h in range(1, 3):
                _block(store, h, A, {b"k": b"v%d" % h})
            assert store.history_from() == 1  # heights 1 and 2
            with pytest.raises(RuntimeError), store.transaction():
                store.storage_apply(A, {b"k": b"v3"})  # logs block 3 and prunes to 2
                raise RuntimeError("the block fails after its writes")
            assert store.history_from() == 1 and store.height() == 2
            assert store.storage_get_at(A, b"k", 1) == b"v1"
            _block(store, 3, A, {b"k": b"v3"})
            assert store.history_from() == 2
        finally:
            store.close()


class TestSqlite(HistorySuite, PruningSuite):
    @pytest.fixture
    def url(self, tmp_path):
        return str(tmp_path / "state.db")


class TestPostgres(HistorySuite, PruningSuite):
    @pytest.fixture
    def url(self, pg_cluster):
        return pg_cluster.new_schema()


def test_history_can_be_switched_off_and_on(tmp_path):
    url = str(tmp_path / "state.db")
    store = open_store(url, authenticated=True, history=False)
    _block(store, 1, A, {b"k": b"v"})
    assert store.history_from() is None and store.state_root()  # the tree is still kept
    with pytest.raises(HeightUnavailableError, match="keeps no state history") as none:
        store.prove_at(A, b"k", 1)
    assert str(tmp_path) not in none.value.message  # said to strangers: no path in it
    # Past the latest block is said as with history: the data says how far the chain is.
    with pytest.raises(HeightUnavailableError, match="past the latest block") as past:
        store.state_root_at(2)
    assert past.value.details == {"latest": 1}
    store.close()
    store = open_store(url, authenticated=True)  # back on: history starts here
    assert store.history_from() == 1
    _block(store, 2, A, {b"k": b"w"})
    assert store.storage_get_at(A, b"k", 1) == b"v"
    store.close()
    store = open_store(url, authenticated=True, history=False)  # off again: dropped
    assert store.history_from() is None
    store.close()
