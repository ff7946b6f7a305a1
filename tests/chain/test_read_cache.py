"""The sandbox's read cache (store/read_cache.py) changes no outcome: the same operations
give the same rows, receipts, nonces and state root as the plain SQLite store, across
failures and snapshot rollbacks, and a second process's commits are seen at once."""

import pytest

import ghost_cli.chain.sandbox as sandbox_module
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.store import open_store
from ghost_cli.chain.store.read_cache import CachedSqliteStore
from ghost_cli.chain.store.records import TABLES
from ghost_cli.exceptions import ExecutionError, GhostError, StateError
from ghost_cli.vm import gas

NOW = 1_700_000_000


def _operations(path, counter_code):
    with Sandbox(path, clock=lambda: NOW, authenticated=True) as sb:
        sb.deploy(counter_code, name="counter")
        for _ in range(3):
            sb.call("counter", "increment")
        with pytest.raises(ExecutionError):  # fails: nonce used, failed receipt, no writes
            sb.call("counter", "increment", gas_limit=gas.TX_BASE + 10)
        with sb.snapshot():  # everything in here is undone, caches included
            sb.call("counter", "add", [100])
            sb.call("counter", "add", [7], signer=sb.dev_keys[1])
            assert sb.query("counter", "get").result == 110
        sb.call("counter", "add", [5])
        sb.call("counter", "increment", signer=sb.dev_keys[1])
        assert sb.query("counter", "get").result == 9
        assert [sb.store.nonce(a) for a in sb.accounts[:3]] == [6, 1, 0]
        return sb.store.state_root(), {t: list(sb.store.export_rows(t)) for t in TABLES}


def test_cached_store_gives_the_plain_stores_rows_receipts_and_root(
        tmp_path, counter_code, monkeypatch):
    cached = _operations(tmp_path / "cached.db", counter_code)
    monkeypatch.setattr(sandbox_module, "_open",
                        lambda path, authenticated: open_store(path, authenticated=authenticated))
    plain = _operations(tmp_path / "plain.db", counter_code)
    assert cached[1]["receipts"] and cached[1]["accounts"]
    assert cached == plain


def test_another_process_commits_are_seen(tmp_path, counter_code):
    path = tmp_path / "shared.db"
    with Sandbox(path) as a, Sandbox(path) as b:
        assert isinstance(a.store, CachedSqliteStore)
        a.deploy(counter_code, name="counter")
        a.call("counter", "increment")
        assert b.query("counter", "get").result == 1
        b.call("counter", "increment")  # b's connection commits: a's cached rows are stale
        b.call("counter", "add", [10])
        assert a.query("counter", "get").result == 12  # storage read again
        receipt = a.call("counter", "increment")  # nonce read again: no NonceError
        assert receipt.result == 13
        assert a.store.nonce(a.default_sender) == b.store.nonce(a.default_sender) == 5
        assert a.store.height() == b.store.height() == 5



@pytest.mark.parametrize("ask", [1, 2], ids=["before-its-transaction", "inside-it"])
def test_a_commit_while_a_call_runs_is_never_lost(tmp_path, counter_code, ask):
    # Another connection commits right after `a` asked whether anything changed: the
    # first time (its call's first read, before its transaction) or the second (first
    # thing inside its transaction). `a` ran on rows read before that commit, so it must
    # not write: it is refused with a clear error, nothing written (it used to fail
    # with sqlite3's IntegrityError on the block's height).
    path = tmp_path / "shared.db"
    with Sandbox(path) as a, Sandbox(path) as b:
        a.deploy(counter_code, name="counter")
        a.call("counter", "increment")
        b.query("counter", "get")
        asked, asks = a.store._ask, []

        def then_b_commits() -> bool:
            changed = asked()
            asks.append(changed)
            if len(asks) == ask:
                b.call("counter", "increment")
            return changed

        a.store._ask = then_b_commits
        try:
            a.call("counter", "increment")
            refused = None
        except GhostError as exc:
            refused = exc
        del a.store._ask
        assert len(asks) == 2  # before the transaction, and first thing inside it
        assert isinstance(refused, StateError) and "try again" in str(refused)
        counter = b.query("counter", "get").result
        assert counter == 2  # a's increment wrote nothing, b's stands
        assert b.store.nonce(a.default_sender) == 3  # deploy, a's increment, b's
        receipt = a.call("counter", "increment")  # and a goes on from the rows as they are
        assert receipt.result == 3 and a.store.nonce(a.default_sender) == 4


def test_a_write_while_another_process_holds_the_lock_is_refused_at_once(tmp_path,
                                                                         counter_code):
    """docs/cli.md, Networks: a write while another connection holds the file's write lock
    (a SQLite shell's open transaction) is a StateError, nothing written; reads answer."""
    import sqlite3
    import time

    path = tmp_path / "shared.db"
    with Sandbox(path) as a:
        a.deploy(counter_code, name="counter")
        a.call("counter", "increment")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            with pytest.raises(StateError, match="database is locked"):
                a.call("counter", "increment")
            assert time.monotonic() - started < 5
            assert a.query("counter", "get").result == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert a.call("counter", "increment").result == 2
        assert a.store.nonce(a.default_sender) == 3


def test_a_commit_of_another_sender_and_contract_still_refuses_a_call(tmp_path,
                                                                      counter_code):
    """docs/cli.md, Networks: the refusal is per file, not per row: every transaction
    takes the next block height, so another process's commit of an unrelated call (its
    own key, its own contract) during this one refuses it too, nothing written."""
    path = tmp_path / "shared.db"
    with Sandbox(path) as a, Sandbox(path) as b:
        a.deploy(counter_code, name="mine")
        b.deploy(counter_code, name="theirs", signer=b.dev_keys[1])
        a.query("mine", "get")
        asked, asks = a.store._ask, []

        def then_b_commits() -> bool:  # right after `a` asked, inside its transaction
            changed = asked()
            asks.append(changed)
            if len(asks) == 2:
                b.call("theirs", "increment", signer=b.dev_keys[1])
            return changed

        a.store._ask = then_b_commits
        with pytest.raises(StateError, match="try again"):
            a.call("mine", "increment")
        del a.store._ask
        assert b.query("mine", "get").result == 0
        assert b.store.nonce(a.default_sender) == 1  # its deploy only
        assert a.call("mine", "increment").result == 1
