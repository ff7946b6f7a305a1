"""`ghost node migrate`: a chain copied SQLite -> PostgreSQL -> SQLite keeps its state
root, rows, receipts, names and its choice of state history; a non-empty target is
refused and left as it was, a source without a chain is not found and left as it was."""

import json
import subprocess
import sys

import psycopg
import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.store import open_store
from ghost_cli.chain.store.migrate import migrate
from ghost_cli.chain.store.sql import HISTORY_META
from ghost_cli.exceptions import NotFoundError, StateError

pytestmark = pytest.mark.slow


def test_sqlite_to_postgresql_to_sqlite_keeps_the_chain(tmp_path, counter_code, pg_cluster):
    with Sandbox(tmp_path / "n0" / "state.db", clock=lambda: 1_700_000_000,
                 authenticated=True) as sb:
        sb.deploy(counter_code, name="counter")
        receipts = [sb.call("counter", "increment") for _ in range(3)]
        root = sb.store.state_root()
        counts = sb.store.counts()
    pg = pg_cluster.new_database()
    cmd = [sys.executable, "-m", "ghost_cli", "node", "migrate", "--json",
           "--from", str(tmp_path / "n0" / "state.db"), "--to", pg]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["state_root"] == "0x" + root.hex() and report["height"] == 4
    assert report["rows"]["receipts"] == 4 and report["to"] == pg

    back = migrate(pg, tmp_path / "back.db")
    assert back.state_root == root
    s = open_store(tmp_path / "back.db", authenticated=True)
    try:
        assert s.state_root() == root and s.counts() == counts
        assert s.names()["counter"] == receipts[0].address
        assert s.receipt(receipts[-1].tx_hash).height == receipts[-1].block_height
    finally:
        s.close()

    # into a store that already holds a chain: refused, nothing changed
    with pytest.raises(StateError, match="already holds a chain"):
        migrate(tmp_path / "n0" / "state.db", pg)
    p = open_store(pg, authenticated=True)
    try:
        assert p.state_root() == root and p.counts() == counts
    finally:
        p.close()


def test_a_missing_source_is_not_found_and_creates_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "node", "migrate", "--from",
                           str(tmp_path / "nope.db"), "--to", str(tmp_path / "to.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 7 and "no state database at" in done.stderr
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "to.db").exists()


@pytest.mark.parametrize("content", [b"", "sqlite of something else"])
def test_a_sqlite_source_without_a_chain_is_not_found_and_left_as_it_was(tmp_path, content):
    source = tmp_path / "other.db"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:  # another application's database
        import sqlite3

        with sqlite3.connect(source) as db:
            db.execute("CREATE TABLE notes (body TEXT)")
        db.close()
    before = source.read_bytes()
    with pytest.raises(NotFoundError, match="no chain in"):
        migrate(source, tmp_path / "to.db")
    assert source.read_bytes() == before and not (tmp_path / "to.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, no -shm


def test_a_postgresql_source_without_a_chain_is_not_found_and_creates_nothing(
        tmp_path, pg_cluster):
    """A wrong database name is no backup: exit 7, no ghost tables made in it, no file."""
    empty = pg_cluster.new_database()
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "node", "migrate", "--from",
                           empty, "--to", str(tmp_path / "backup.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 7, done.stderr
    assert done.stderr.splitlines() == [f"error: no chain in the state database {empty}"]
    with psycopg.connect(empty) as conn:
        assert conn.execute("SELECT to_regclass('ghost_schema')").fetchone()[0] is None
    assert not (tmp_path / "backup.db").exists()


def test_a_copy_keeps_the_source_without_state_history(tmp_path, counter_code, pg_cluster):
    """Opening the copy to verify it must not start a history the source did not keep."""
    with Sandbox(tmp_path / "n0.db", clock=lambda: 1_700_000_000, authenticated=True) as sb:
        sb.deploy(counter_code, name="counter")
    flat = open_store(tmp_path / "n0.db", authenticated=True, history=False)
    counts = flat.counts()
    flat.close()
    pg = pg_cluster.new_database()
    migrate(tmp_path / "n0.db", pg)
    p = open_store(pg)
    try:
        assert p.meta_get(HISTORY_META) is None and p.counts() == counts
        assert sum(1 for _ in p.export_rows("storage_log")) == 0
    finally:
        p.close()


def test_an_unreachable_database_is_one_line_and_exit_8(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "node", "migrate", "--from",
                           "postgresql://ghost:hunter2@127.0.0.1:1/chain", "--to",
                           str(tmp_path / "to.db")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 8
    [line] = done.stderr.splitlines()  # not the connection pool's retries as well
    assert "Connection refused" in line and "hunter2" not in line
