"""The state store backends. `StateStoreSuite` is one set of tests any backend runs
unchanged: `TestSqlite` and `TestPostgres` only say how to open a store (a real SQLite
file; a real PostgreSQL server started for the session)."""

import sqlite3

import psycopg
import pytest

from ghost_cli.chain.store import (
    ContractRecord,
    ReceiptRecord,
    StateStore,
    open_store,
    parse_store_url,
    redact,
)
from ghost_cli.chain.store.postgres import MIGRATIONS as PG_MIGRATIONS
from ghost_cli.chain.store.sqlite import MIGRATIONS
from ghost_cli.exceptions import (
    NotFoundError,
    RequestTooLargeError,
    StateError,
    StoreUnavailableError,
    UsageError,
)
from ghost_cli.vm.types import Event

A = b"\x01" * 20


class StateStoreSuite:
    """Needs a `url` fixture: where a fresh store of the backend under test lives."""

    @pytest.fixture
    def store(self, url):
        s = open_store(url)
        yield s
        s.close()

    def test_is_a_state_store(self, store):
        assert isinstance(store, StateStore)
        assert store.schema_version() >= 1

    def test_storage_persists_across_connections(self, url):
        s = open_store(url)
        with s.transaction():
            s.storage_apply(A, {b"k": b"v", b"gone": b"x"})
        with s.transaction():
            s.storage_apply(A, {b"gone": None})
        s.close()
        s = open_store(url)
        assert s.storage_items(A) == [(b"k", b"v")]
        s.close()

    def test_failed_transaction_changes_nothing(self, store):
        before = store.counts()
        with pytest.raises(RuntimeError), store.transaction():
            store.set_nonce(A, 5)
            store.storage_apply(A, {b"k": b"v"})
            raise RuntimeError("boom")
        assert store.counts() == before
        assert store.nonce(A) == 0

    def test_snapshot_rolls_back_nested_transactions(self, store):
        with store.transaction():
            store.set_nonce(A, 1)
        with store.snapshot():
            for i in range(3):
                with store.transaction():
                    store.set_nonce(A, 2 + i)
                    store.add_block(i + 1, 0, b"h")
            assert store.nonce(A) == 4
            assert store.height() == 3
        assert store.nonce(A) == 1
        assert store.height() == 0

    def test_inner_transaction_rolls_back_alone(self, store):
        with store.transaction():
            store.set_nonce(A, 1)
            with pytest.raises(RuntimeError), store.transaction():
                store.set_nonce(A, 9)
                raise RuntimeError("boom")
            assert store.nonce(A) == 1
        assert store.nonce(A) == 1

    def test_a_receipt_whose_events_fail_leaves_nothing(self, store):
        # The events row fails (no address) after the receipt row went in: on its own,
        # put_receipt takes both back; inside a transaction, that transaction does.
        bad = ReceiptRecord(b"\xcc" * 32, 1, "call", A, A, "f", 10, b"", (),
                            (Event(None, (b"E".ljust(32, b"\0"),), b""),))
        before = store.counts()
        with pytest.raises((sqlite3.Error, StateError)):
            store.put_receipt(bad)
        assert store.counts() == before
        with pytest.raises((sqlite3.Error, StateError)), store.transaction():
            store.set_nonce(A, 3)
            store.put_receipt(bad)
        assert store.counts() == before
        assert store.nonce(A) == 0
        with pytest.raises(NotFoundError):
            store.receipt(b"\xcc" * 32)

    def test_receipts_keep_events_in_order(self, store):
        events = (Event(A, (b"E1".ljust(32, b"\0"),), b"d1"),
                  Event(A, (b"E2".ljust(32, b"\0"), b"\x07" * 32), b""))
        rec = ReceiptRecord(b"\xaa" * 32, 1, "call", A, A, "f", 10, b"r", ("log",), events)
        with store.transaction():
            store.put_receipt(rec)
        assert store.receipt(b"\xaa" * 32) == rec
        assert [e.name for e in store.receipt(b"\xaa" * 32).events] == ["E1", "E2"]
        found = store.events(address=A, topic=b"\x07" * 32)
        assert [(e.tx_hash, e.index, e.height) for e in found] == [(b"\xaa" * 32, 1, 1)]
        with pytest.raises(NotFoundError):
            store.receipt(b"\xbb" * 32)

    def test_events_reads_no_more_rows_than_its_limit(self, store, monkeypatch):
        """The filters and the limit are the database's: a reply of 2 events fetches 2
        rows, not every event stored (which it once did, then cut the list in Python)."""
        name, word, other = b"E".ljust(32, b"\0"), b"\x07" * 32, b"\x08" * 32
        with store.transaction():
            for h in range(1, 31):
                topics = (name, other, word) if h % 3 == 0 else (name, other)
                store.put_receipt(ReceiptRecord(
                    h.to_bytes(32, "big"), h, "call", A, A, "f", 1, b"", (),
                    (Event(A, topics, b"d"), Event(b"\x02" * 20, (name,), b""))))
        # a word spanning two topics, and the name itself, match nothing
        assert store.events(topic=(other[16:] + word[:16])) == []
        assert store.events(topic=name) == []
        fetched = []
        rows = store._rows
        monkeypatch.setattr(store, "_rows",
                            lambda sql, p=(): fetched.append(len(out := rows(sql, p))) or out)
        assert [(e.height, e.index) for e in store.events(limit=3)] == [(1, 0), (1, 1), (2, 0)]
        found = store.events(topic=word, from_block=4, limit=2)
        assert [(e.height, e.event.topics[2]) for e in found] == [(6, word), (9, word)]
        found = store.events(address=b"\x02" * 20, to_block=20, limit=2)
        assert [(e.height, e.index) for e in found] == [(1, 1), (2, 1)]
        found = store.events(from_block=3, after_index=0, limit=3)  # the page after (3, 0)
        assert [(e.height, e.index) for e in found] == [(3, 1), (4, 0), (4, 1)]
        assert fetched == [3, 2, 2, 3]

    def test_events_over_a_byte_limit_are_refused_before_they_are_read(self, store,
                                                                         monkeypatch):
        name = b"E".ljust(32, b"\0")
        with store.transaction():
            store.put_receipt(ReceiptRecord(b"\x01" * 32, 1, "call", A, A, "f", 1, b"", (),
                                            tuple(Event(A, (name,), bytes(100)) for _ in range(3))))
        statements = []
        rows = store._rows
        monkeypatch.setattr(store, "_rows",
                            lambda sql, p=(): statements.append(sql) or rows(sql, p))
        with pytest.raises(RequestTooLargeError, match="hold 396 bytes") as info:
            store.events(max_bytes=395)
        assert info.value.details == {"limit": 395}
        assert not any("e.data," in sql or sql.endswith("e.data") for sql in statements)
        assert [e.index for e in store.events(limit=2, max_bytes=264)] == [0, 1]
        assert len(store.events(max_bytes=396)) == 3

    def test_a_receipt_over_an_event_byte_limit_is_refused_before_its_events_are_read(
            self, store):
        name = b"E".ljust(32, b"\0")
        rec = ReceiptRecord(b"\x01" * 32, 1, "call", A, A, "f", 1, b"", (),
                            tuple(Event(A, (name,), bytes(100)) for _ in range(3)))
        with store.transaction():
            store.put_receipt(rec)
            store.put_receipt(ReceiptRecord(b"\x02" * 32, 2, "call", A, A, "f", 1, b"", (), ()))
        with pytest.raises(RequestTooLargeError, match="3 events hold 396 bytes") as info:
            store.receipt(b"\x01" * 32, max_event_bytes=395)
        assert info.value.details == {"limit": 395}
        assert store.receipt(b"\x01" * 32, max_event_bytes=396) == rec
        assert store.receipt(b"\x02" * 32, max_event_bytes=0).events == ()

    def test_contracts_and_names(self, store):
        rec = ContractRecord(A, b"\x02" * 32, {"functions": []}, {"abi": {}}, b"\x03" * 20, 1)
        with store.transaction():
            store.put_contract(rec, b"\0asm")
            store.set_name("counter", A)
        assert store.contract(A) == rec
        assert store.code(rec.code_hash) == b"\0asm"
        assert store.address_of("counter") == A
        assert store.name_of(A) == "counter" and store.names() == {"counter": A}
        with pytest.raises(NotFoundError):
            store.contract(b"\x09" * 20)

    def test_blocks_and_heights(self, store):
        assert store.height() == 0 and store.block_time(1) is None
        with store.transaction():
            store.add_block(1, 1_700_000_000, b"\x01" * 32)
            store.add_block(2, 1_700_000_001, b"\x02" * 32)
        assert store.height() == 2 and store.block_time(2) == 1_700_000_001

    def test_export_and_import_copy_every_row(self, store, tmp_path):
        with store.transaction():
            store.storage_apply(A, {b"k": b"v"})
            store.set_nonce(A, 3)
        copy = open_store(tmp_path / "copy.db")
        with copy.transaction():
            for table in ("accounts", "storage"):
                copy.import_rows(table, store.export_rows(table))
        assert copy.storage_items(A) == [(b"k", b"v")] and copy.nonce(A) == 3
        copy.close()


class TestSqlite(StateStoreSuite):
    @pytest.fixture
    def url(self, tmp_path):
        return str(tmp_path / "state.db")

    def test_newer_schema_is_refused(self, tmp_path):
        path = tmp_path / "state.db"
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        db.close()
        with pytest.raises(StateError, match="newer than this ghost"):
            open_store(path)

    def test_a_negative_schema_version_is_refused_untouched(self, tmp_path):
        """A user_version below 0 (written by hand or by another program) ran the latest
        migration again over a v4 file: 'table state_nodes_log already exists'."""
        path = tmp_path / "state.db"
        open_store(path).close()
        db = sqlite3.connect(path)
        db.execute("PRAGMA user_version = -1")
        db.commit()
        tables = db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
        db.close()
        with pytest.raises(StateError, match="has schema version -1, which no ghost writes"):
            open_store(path)
        db = sqlite3.connect(path)
        assert db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall() == tables
        assert db.execute("PRAGMA user_version").fetchone()[0] == -1
        db.close()

    def test_a_name_is_found_by_its_address_through_an_index_from_an_old_file_on(
            self, tmp_path):
        """A file of schema v4 (before names_by_address) is upgraded when opened; name_of
        then searches the index, not every name (it scanned the names table: 13 ms a
        getContract at 200,000 names)."""
        path = tmp_path / "state.db"
        db = sqlite3.connect(path)
        for i, script in enumerate(MIGRATIONS[:4], start=1):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")
        db.execute("INSERT INTO code VALUES (?, ?)", (b"\x02" * 32, b"\0asm"))
        db.execute("INSERT INTO contracts VALUES (?, ?, '{}', '{}', ?, 1)",
                   (A, b"\x02" * 32, b"\x03" * 20))
        db.execute("INSERT INTO names VALUES ('b', ?), ('a', ?)", (A, A))
        db.commit()
        db.close()
        s = open_store(path)
        assert s.schema_version() == len(MIGRATIONS) and s.name_of(A) == "a"
        s.close()
        db = sqlite3.connect(path)
        plan = [r[3] for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT name FROM names WHERE address = ? ORDER BY name LIMIT 1",
            (A,))]
        db.close()
        assert plan == ["SEARCH names USING COVERING INDEX names_by_address (address=?)"]

    def test_events_of_an_old_file_get_their_heights_and_are_read_from_an_index(
            self, tmp_path):
        """A v5 file's events (no height of their own) get their receipts' heights when
        it is opened; a contract's events are then read in block order from an index,
        not found by address and sorted whole (USE TEMP B-TREE FOR ORDER BY: 60 ms for
        100 of a contract's 50,000 events, growing with them)."""
        path = tmp_path / "state.db"
        db = sqlite3.connect(path)
        for i, script in enumerate(MIGRATIONS[:5], start=1):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")
        name = b"E".ljust(32, b"\0")
        for h in (1, 2, 3):
            db.execute("INSERT INTO receipts (tx_hash, height, kind, sender, target, function, "
                       "gas_used, return_data, logs) VALUES (?, ?, 'call', ?, ?, 'f', 1, x'', "
                       "'[]')", (bytes([h]) * 32, h, A, A))
            db.execute("INSERT INTO events VALUES (?, 0, ?, 'E', ?, x'')",
                       (bytes([h]) * 32, A if h != 2 else b"\x02" * 20, name))
        db.commit()
        db.close()
        s = open_store(path)
        assert s.schema_version() == len(MIGRATIONS)
        assert [e.height for e in s.events(address=A)] == [1, 3]
        assert [e.height for e in s.events(name="E", from_block=2)] == [2, 3]
        s.close()
        db = sqlite3.connect(path)
        sql = ("EXPLAIN QUERY PLAN SELECT e.tx_hash FROM events e WHERE e.height >= ? {} "
               "ORDER BY e.height, e.idx LIMIT 10")
        plans = {f: [r[3] for r in db.execute(sql.format(f), p)]
                 for f, p in (("", (0,)), ("AND e.address = ?", (0, A)),
                              ("AND e.name = ?", (0, "E")),
                              ("AND e.address = ? AND e.name = ?", (0, A, "E")))}
        db.close()
        assert plans == {
            "": ["SEARCH e USING COVERING INDEX events_by_height (height>?)"],
            "AND e.address = ?": [
                "SEARCH e USING COVERING INDEX events_by_address (address=? AND height>?)"],
            "AND e.name = ?": [
                "SEARCH e USING COVERING INDEX events_by_name (name=? AND height>?)"],
            "AND e.address = ? AND e.name = ?": [
                "SEARCH e USING COVERING INDEX events_by_address_name "
                "(address=? AND name=? AND height>?)"]}

    def test_garbage_file_is_a_state_error(self, tmp_path):
        path = tmp_path / "state.db"
        path.write_bytes(b"this is not a database" * 100)
        with pytest.raises(StateError, match="cannot open state database"):
            open_store(path)

    def test_a_directory_that_cannot_be_made_is_a_state_error(self, tmp_path):
        (tmp_path / "file").write_text("")
        with pytest.raises(StateError, match="cannot open state database .*cannot create"):
            open_store(tmp_path / "file" / "state.db")

    @pytest.mark.parametrize(("free", "said"), [(0, True), (100, False)])
    def test_an_io_error_opening_on_a_full_disk_says_the_disk_is_full(
            self, tmp_path, monkeypatch, free, said):
        """SQLite reports a full disk, where it cannot size a WAL file's -shm, as only
        `disk I/O error`: the error adds why when the file system has no space left."""
        from types import SimpleNamespace

        from ghost_cli.chain.store import sqlite as module

        def full(*args, **kwargs):
            exc = sqlite3.OperationalError("disk I/O error")
            exc.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
            raise exc

        monkeypatch.setattr(module.sqlite3, "connect", full)
        monkeypatch.setattr(module.os, "statvfs", lambda path: SimpleNamespace(f_bavail=free))
        with pytest.raises(StateError) as caught:
            open_store(tmp_path / "state.db")
        assert str(caught.value).endswith(
            "disk I/O error (no space left on the device)" if said else "disk I/O error")

    def test_durable_is_wal_with_an_fsync_per_commit(self, tmp_path):
        s = open_store(tmp_path / "state.db", durable=True)
        db = sqlite3.connect(tmp_path / "state.db")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()
        assert s._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        s.close()

    def test_a_store_that_is_not_durable_checkpoints_its_wal_less_often(self, tmp_path):
        # SQLite's default would checkpoint at 1,000 pages and then write the WAL from its
        # start again, so the file would stop growing near 1,000 pages.
        s = open_store(tmp_path / "state.db")
        for i in range(1500):  # a commit each, a page of storage each
            s.storage_apply(A, {i.to_bytes(4, "big"): bytes([i % 256]) * 3000})
        page = s._db.execute("PRAGMA page_size").fetchone()[0]
        assert (tmp_path / "state.db-wal").stat().st_size > 1400 * page
        s.close()  # the last connection checkpoints and removes the WAL: nothing is lost
        assert not (tmp_path / "state.db-wal").exists()
        s = open_store(tmp_path / "state.db")
        assert s.storage_get(A, (1499).to_bytes(4, "big")) == bytes([1499 % 256]) * 3000
        s.close()

    def test_a_full_disk_mid_transaction_writes_none_of_it(self, tmp_path):
        """SQLite answers a full disk mid-transaction by rolling all of it back, savepoints
        too: what the caller runs after catching that must not commit on its own, and the
        tree's cache must forget the undone rows."""
        from ghost_cli.chain.state_tree import build
        from ghost_cli.crypto.hashing import keccak256
        from ghost_cli.crypto.proof import state_path

        path = tmp_path / "state.db"
        s = open_store(path, durable=True, authenticated=True)
        s.storage_apply(A, {b"x": b"1"})
        root = s.state_root()
        pages = s._db.execute("PRAGMA page_count").fetchone()[0]
        s._db.execute(f"PRAGMA max_page_count = {pages + 30}")  # a disk nearly full
        errors = []
        with pytest.raises(StateError, match="rolled back"), s.transaction():
            for key, size in ((b"small", 100), (b"huge", 300_000), (b"after", 100)):
                try:
                    with s.transaction():
                        s.storage_apply(A, {key: b"v" * size})
                except StateError as exc:  # a group goes on with its next transaction
                    errors.append(str(exc))
        assert "database or disk is full" in errors[0] and "rolled back" in errors[1]
        assert s.storage_items(A) == [(b"x", b"1")] and s.state_root() == root
        s._db.execute("PRAGMA max_page_count = 1000000000")  # space again
        s.storage_apply(A, {b"y": b"2"})
        s.close()
        s = open_store(path, authenticated=True)
        assert s.state_root() == build({state_path(A, k): keccak256(v)
                                        for k, v in s.storage_items(A)})
        s.close()

    def test_a_malformed_page_fails_the_read_as_a_state_error(self, tmp_path):
        path = tmp_path / "state.db"
        s = open_store(path, durable=True)
        s.storage_apply(A, {b"k%d" % i: b"v" * 50 for i in range(20)})
        s.set_nonce(A, 3)
        s.close()
        db = sqlite3.connect(path)
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'storage'")
        [(size,)] = db.execute("PRAGMA page_size")
        db.close()
        with open(path, "r+b") as f:  # the storage table's only page: no page type
            f.seek((root - 1) * size)
            f.write(b"\x00")
        s = open_store(path, durable=True)
        # SQLite fails the savepoint's own RELEASE too; still one StateError, not sqlite3's
        with pytest.raises(StateError, match="malformed"), s.read():
            s.storage_items(A)
        assert s.nonce(A) == 3  # the connection goes on serving what is intact
        s.close()

    def test_sqlite_urls(self, tmp_path):
        s = open_store(f"sqlite:///{tmp_path}/u.db")  # four slashes: an absolute path
        assert s.backend == "sqlite" and s.location == f"{tmp_path}/u.db"
        s.close()
        assert (tmp_path / "u.db").is_file()
        with pytest.raises(UsageError, match="unknown store scheme"):
            open_store("mysql://x/y")


class TestPostgres(StateStoreSuite):
    @pytest.fixture
    def url(self, pg_cluster):
        return pg_cluster.new_schema()

    def test_newer_schema_is_refused(self, url):
        open_store(url).close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE ghost_schema SET version = %s", (len(PG_MIGRATIONS) + 1,))
        with pytest.raises(StateError, match="newer than this ghost"):
            open_store(url)

    def test_a_schema_from_before_names_by_address_gets_the_index(self, url):
        with psycopg.connect(url, autocommit=True) as conn:
            for script in PG_MIGRATIONS[:3]:
                conn.execute(script)
            conn.execute("CREATE TABLE ghost_schema (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO ghost_schema VALUES (3)")
        s = open_store(url)
        assert s.schema_version() == len(PG_MIGRATIONS)
        s.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")  # as on a large table
            plan = " ".join(r[0] for r in conn.execute(
                "EXPLAIN SELECT name FROM names WHERE address = %s ORDER BY name LIMIT 1",
                (A,)))
        assert "names_by_address" in plan

    def test_events_of_an_old_schema_get_their_heights_and_an_index_in_block_order(
            self, url):
        with psycopg.connect(url, autocommit=True) as conn:
            for script in PG_MIGRATIONS[:4]:
                conn.execute(script)
            conn.execute("CREATE TABLE ghost_schema (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO ghost_schema VALUES (4)")
            for h in (1, 2):
                conn.execute("INSERT INTO receipts (tx_hash, height, kind, sender, target, "
                             "function, gas_used, return_data, logs) VALUES "
                             "(%s, %s, 'call', %s, %s, 'f', 1, '', '[]')",
                             (bytes([h]) * 32, h, A, A))
                conn.execute("INSERT INTO events VALUES (%s, 0, %s, 'E', %s, '')",
                             (bytes([h]) * 32, A, b"E".ljust(32, b"\0")))
        s = open_store(url)
        assert s.schema_version() == len(PG_MIGRATIONS)
        assert [e.height for e in s.events(address=A, from_block=2)] == [2]
        s.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")  # as on a large table
            plan = " ".join(r[0] for r in conn.execute(
                "EXPLAIN SELECT tx_hash FROM events e WHERE e.height >= 0 AND e.address = %s "
                "ORDER BY e.height, e.idx LIMIT 10", (A,)))
            indexes = {name: sql.split(" USING btree ")[1] for name, sql in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' "
                "AND schemaname = current_schema()")}
        assert "Index Scan" in plan and "Sort" not in plan  # rows come in block order
        assert indexes == {"events_pkey": "(tx_hash, idx)",
                           "events_by_address": "(address, height, idx)",
                           "events_by_name": "(name, height, idx)",
                           "events_by_height": "(height, idx)",
                           "events_by_address_name": "(address, name, height, idx)"}

    def test_unreachable_database_is_retryable_and_never_shows_the_password(self):
        url = "postgresql://ghost:hunter2secret@127.0.0.1:1/chain"
        with pytest.raises(StoreUnavailableError) as info:
            open_store(url)
        assert "hunter2secret" not in str(info.value) and "ghost:***@" in str(info.value)
        assert info.value.code == "store_unavailable"
        # libpq's reason, on one line (not the pool's "incomplete after 5.0 sec")
        assert "Connection refused" in str(info.value) and "\n" not in str(info.value)

    def test_a_database_that_does_not_exist_says_so_without_retry_shortly(self, url):
        missing = url.rsplit("/", 1)[0] + "/no_such_chain"
        with pytest.raises(StoreUnavailableError) as info:
            open_store(missing)
        assert 'database "no_such_chain" does not exist' in str(info.value)
        assert "retry" not in str(info.value)  # waiting would not make it exist

    def test_a_write_session_on_one_store_waits_for_another(self, url):
        """Two handles (as two node processes would have): the head row lock orders them."""
        import threading

        one, two = open_store(url), open_store(url)
        order = []
        with one.exclusive():
            one.set_nonce(A, 1)
            t = threading.Thread(target=lambda: (two.exclusive().__enter__(),
                                                 order.append(two.nonce(A))))
            # the second session blocks on the lock until the first commits
            t.start()
            t.join(0.5)
            assert t.is_alive()
            order.append("first commits")
        t.join(10)
        assert order == ["first commits", 1]
        one.close()
        two.close()


def test_redaction_and_url_parsing():
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("host=h password=pw dbname=x") == "host=h password=*** dbname=x"
    assert parse_store_url("postgresql://u:pw@h:5432/db").display == "postgresql://u:***@h:5432/db"
    assert parse_store_url("n0/state.db").backend == "sqlite"
    # libpq's multi-host forms (deploy.md), checked as libpq reads them
    for url in ("postgresql://ghost@pg1:5432,pg2:5433/chain?target_session_attrs=read-write",
                "postgresql://ghost@pg1,pg2/chain?port=5432,5433"):
        assert parse_store_url(url).backend == "postgresql"
    for url, why in (("postgresql://u@h:port/db", "port 'port' is not 1..65535"),
                     ("postgresql://u@h:70000/db", "port '70000'"),
                     ("postgresql://u@h/db?port=5432,0", "port '0'"),
                     ("postgresql://u@h/db?nosuch=1", "malformed store URL")):
        with pytest.raises(UsageError, match=why):
            parse_store_url(url)
    # libpq quotes the token it cannot parse, which may be the password itself
    for url in ("postgresql://u:hunter%zz2@h/db", "postgresql://u:hunter2@[::1/db",
                "postgresql://u@h/db?password=hunter%zz2"):
        with pytest.raises(UsageError, match="malformed store URL") as info:
            parse_store_url(url)
        assert "hunter" not in str(info.value), info.value


def test_a_role_that_may_only_read_and_write_ghosts_tables_serves_the_chain(
        pg_cluster, counter_code):
    """Its owner made the schema; a node's role without CREATE in it (least privilege)
    opens the current schema, reads and writes, where it was refused `permission denied
    for schema public` by CREATE TABLE IF NOT EXISTS ghost_schema."""
    from ghost_cli.chain.sandbox import Sandbox

    owner = pg_cluster.new_database()
    open_store(owner).close()
    role = owner.rsplit("/", 1)[1] + "_rw"
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                     f"TO {role}")
    url = owner.replace("postgres@", f"{role}@", 1)
    with Sandbox(url, clock=lambda: 1_700_000_000, authenticated=True) as sb:
        sb.deploy(counter_code, name="counter")
        assert sb.call("counter", "increment").block_height == 2
    s = open_store(url)
    try:
        assert s.schema_version() == len(PG_MIGRATIONS) and s.height() == 2
    finally:
        s.close()

def test_a_listener_hears_another_stores_commits(pg_cluster):
    """LISTEN/NOTIFY: how a node learns of blocks other nodes committed."""
    import queue

    url = pg_cluster.new_schema()
    here, there = open_store(url), open_store(url)
    heard: queue.Queue = queue.Queue()
    here.listen(heard.put)
    try:
        assert heard.get(timeout=10) == -1  # listening (a reconnect says the same)
        with there.transaction():
            there.set_nonce(A, 1)
        first = heard.get(timeout=10)
        with there.transaction():
            there.set_nonce(A, 2)
        assert heard.get(timeout=10) == first + 1  # chain_head.version, once per commit
        with there.read():
            there.nonce(A)  # reads announce nothing
        assert heard.empty() or heard.get(timeout=1) is None
    finally:
        here.close()
        there.close()


def test_the_checkpoint_maker_lets_go_when_a_database_restart_freed_its_lock(
        pg_cluster, monkeypatch):
    """The advisory lock dies with the server's session, silently: the old holder must
    not go on believing it holds it beside the node that took it since."""
    from ghost_cli.chain.store import postgres

    monkeypatch.setattr(postgres, "LEADER_RETRY_SECONDS", 0.0)  # check at every commit
    url = pg_cluster.new_schema()
    one, two = open_store(url), open_store(url)
    try:
        with one.checkpoint_lock() as ours:
            assert ours
        with two.checkpoint_lock() as ours:
            assert not ours
        pg_cluster.stop("immediate")
        pg_cluster.start()
        with two.checkpoint_lock() as ours:
            assert ours  # free since the restart: taken
        with one.checkpoint_lock() as ours:
            assert not ours  # and the old holder knows it is no longer its
    finally:
        one.close()
        two.close()
