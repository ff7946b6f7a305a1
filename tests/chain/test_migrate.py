"""`ghost node migrate`: a chain copied SQLite -> PostgreSQL -> SQLite keeps its state
root, rows, receipts, names and its choice of state history; a non-empty target (a chain,
or another application's tables) is refused and left as it was, a source without a chain
is not found and left as it was."""

import json
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.store import open_store
from ghost_cli.chain.store.migrate import migrate
from ghost_cli.chain.store.records import TABLES
from ghost_cli.chain.store.sql import HISTORY_META, SqlStore
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


def _chain(path, counter_code, *, authenticated=True):
    """A counter deployed and incremented twice: a chain with state history when
    `authenticated` (else a sandbox's: no state tree)."""
    with Sandbox(path, clock=lambda: 1_700_000_000, authenticated=authenticated) as sb:
        sb.deploy(counter_code, name="counter")
        sb.call("counter", "increment")
        sb.call("counter", "increment")
    return path


def _sqlite_app(path, *tables):
    with sqlite3.connect(path) as db:
        for table in tables:
            db.execute(f"CREATE TABLE {table} (x)")
            db.execute(f"INSERT INTO {table} VALUES (1)")
    db.close()
    return path


def test_another_applications_sqlite_database_is_refused_and_left_as_it_was(
        tmp_path, counter_code):
    source = _chain(tmp_path / "n0.db", counter_code)
    app = _sqlite_app(tmp_path / "app.db", "t")
    before = app.read_bytes()
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "node", "migrate", "--from",
                           str(source), "--to", str(app)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 8, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {app} holds tables that are not ghost's (t); migrate into an empty store"]
    assert app.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "n0.db"]  # no -wal


def test_a_chain_beside_another_applications_table_is_refused_too(tmp_path, counter_code):
    """Ghost's tables do not make the file ghost's: the other table is still there."""
    source = _chain(tmp_path / "n0.db", counter_code)
    mixed = _chain(tmp_path / "mixed.db", counter_code)
    _sqlite_app(mixed, "notes")
    with pytest.raises(StateError, match=r"not ghost's \(notes\)"):
        migrate(source, mixed)


def test_a_sqlite_target_holding_a_chain_is_refused_before_it_is_opened(
        tmp_path, counter_code):
    source = _chain(tmp_path / "n0.db", counter_code)
    migrate(source, tmp_path / "copy.db")
    for p in tmp_path.glob("copy.db-*"):
        p.unlink()
    before = (tmp_path / "copy.db").read_bytes()
    with pytest.raises(StateError, match="already holds a chain"):
        migrate(source, tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_bytes() == before


def test_an_empty_ghost_store_is_an_empty_target(tmp_path, counter_code):
    source = _chain(tmp_path / "n0.db", counter_code)
    open_store(tmp_path / "empty.db").close()  # ghost's tables, no rows
    assert migrate(source, tmp_path / "empty.db").height == 3


def test_every_table_of_a_chain_with_a_tree_is_compared_row_for_row(
        tmp_path, counter_code, monkeypatch):
    """The state history is copied, not rebuilt, when the source's tree is current: a
    copy that lost its rows does not verify, though its state root still does."""
    source = _chain(tmp_path / "n0.db", counter_code)
    src = open_store(source)
    try:
        assert all(sum(1 for _ in src.export_rows(t)) for t in ("storage_log", "meta"))
    finally:
        src.close()
    real = SqlStore.import_rows

    def losing_the_history(self, table, rows):
        rows = list(rows)  # read (and so counted) in full
        real(self, table, [] if table == "storage_log" else rows)

    monkeypatch.setattr(SqlStore, "import_rows", losing_the_history)
    with pytest.raises(StateError, match="is incomplete"):
        migrate(source, tmp_path / "copy.db")


def test_a_chain_without_a_tree_gets_one_and_reports_the_copys_rows(tmp_path, counter_code):
    """A sandbox's chain keeps no tree: the copy's verifying open builds it (its nodes and
    meta row), checked by the state root; the report counts the rows the copy holds."""
    source = _chain(tmp_path / "sandbox.db", counter_code, authenticated=False)
    report = migrate(source, tmp_path / "copy.db")
    copy = open_store(tmp_path / "copy.db")
    try:
        assert report.rows == {t: sum(1 for _ in copy.export_rows(t)) for t in TABLES}
        assert report.rows["state_nodes"] > 0 and report.rows["meta"] > 0
    finally:
        copy.close()


def test_a_postgresql_target_with_another_applications_table_is_refused_and_left_as_it_was(
        tmp_path, counter_code, pg_cluster):
    source = _chain(tmp_path / "n0.db", counter_code)
    pg = pg_cluster.new_database()
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("CREATE SCHEMA chain")
    with pytest.raises(StateError, match=r"not ghost's \(notes\)"):
        migrate(source, pg)
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('ghost_schema')").fetchone()[0] is None
    # a schema of its own in that database is empty: ghost's tables never meet `notes`
    assert migrate(source, f"{pg}?options=-csearch_path%3Dchain").height == 3


def test_events_keep_their_heights_sqlite_to_postgresql_to_sqlite(tmp_path, token_code,
                                                                     pg_cluster):
    """Each event's block height (and so every ghost_getEvents filter) survives the copy."""
    with Sandbox(tmp_path / "n0.db", clock=lambda: 1_700_000_000, authenticated=True) as sb:
        token = sb.deploy(token_code, [1000], name="token").address
        for i in range(4):
            sb.call("token", "transfer", [bytes([i + 1]) * 20, 1])

    def answers(url):
        s = open_store(url)
        try:
            return (s.events(), s.events(address=token, from_block=3),
                    s.events(name="Transfer", from_block=2, to_block=4),
                    s.events(from_block=3, after_index=0, limit=2))
        finally:
            s.close()

    before = answers(tmp_path / "n0.db")
    assert [e.height for e in before[0]] == [1, 2, 3, 4, 5]
    pg = pg_cluster.new_database()
    migrate(tmp_path / "n0.db", pg)
    migrate(pg, tmp_path / "back.db")
    assert answers(pg) == before and answers(tmp_path / "back.db") == before


def _events_row(height):
    return (bytes([height]) * 32, height, b"\x01" * 20)


def test_an_older_sqlite_schema_is_refused_and_left_as_it_was(tmp_path):
    """Opening it would upgrade it in place, under a node of the older ghost that may
    still be running on it (whose writes of events then fail): exit 8, nothing written."""
    from ghost_cli.chain.store.sqlite import MIGRATIONS

    source = tmp_path / "old.db"
    db = sqlite3.connect(source)
    for i, script in enumerate(MIGRATIONS[:5], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")
    tx, height, a = _events_row(1)
    db.execute("INSERT INTO blocks VALUES (?, 1, ?)", (height, tx))
    db.execute("INSERT INTO receipts (tx_hash, height, kind, sender, target, function, "
               "gas_used, return_data, logs) VALUES (?, ?, 'call', ?, ?, 'f', 1, x'', '[]')",
               (tx, height, a, a))
    db.execute("INSERT INTO events VALUES (?, 0, ?, 'E', ?, x'')", (tx, a, b"E".ljust(32, b"\0")))
    db.commit()
    db.close()
    before = source.read_bytes()
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "node", "migrate", "--from",
                           str(source), "--to", str(tmp_path / "to.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 8, done.stderr
    [line] = done.stderr.splitlines()
    assert f"{source} is schema v5, older than this ghost (v{len(MIGRATIONS)})" in line
    assert source.read_bytes() == before and not (tmp_path / "to.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]


def test_an_older_postgresql_schema_is_refused_and_left_as_it_was(tmp_path, pg_cluster):
    from ghost_cli.chain.store.postgres import MIGRATIONS

    pg = pg_cluster.new_database()
    tx, height, a = _events_row(1)
    with psycopg.connect(pg, autocommit=True) as conn:
        for script in MIGRATIONS[:3]:
            conn.execute(script)
        conn.execute("CREATE TABLE ghost_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO ghost_schema VALUES (3)")
        conn.execute("INSERT INTO blocks VALUES (%s, 1, %s)", (height, tx))
        conn.execute("INSERT INTO receipts (tx_hash, height, kind, sender, target, function, "
                     "gas_used, return_data, logs) VALUES (%s, %s, 'call', %s, %s, 'f', 1, "
                     "'', '[]')", (tx, height, a, a))
        conn.execute("INSERT INTO events VALUES (%s, 0, %s, 'E', %s, '')",
                     (tx, a, b"E".ljust(32, b"\0")))
    with pytest.raises(StateError, match=f"is schema v3, older than this ghost "
                                         f"\\(v{len(MIGRATIONS)}\\)"):
        migrate(pg, tmp_path / "to.db")
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT version FROM ghost_schema").fetchone()[0] == 3
        assert conn.execute("SELECT to_regclass('names_by_address')").fetchone()[0] is None
    assert not (tmp_path / "to.db").exists()
