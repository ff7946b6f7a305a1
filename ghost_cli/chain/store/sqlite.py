"""The SQLite backend: chain state in one file (or `:memory:`).

One connection in autocommit mode; every change goes through `transaction()`, a
SAVEPOINT, so changes nest: a test's `snapshot()` wraps many transactions and rolls
them all back. Schema changes are migrations keyed by `PRAGMA user_version`. A reading
thread gets its own connection to the same file (`reader()`): WAL lets it read while the
writer commits, and `PRAGMA data_version` tells each connection when another committed
(its tree-node cache is then dropped).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from ...exceptions import NotFoundError, StateError
from .sql import SqlStore

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (address BLOB PRIMARY KEY, nonce INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE code (hash BLOB PRIMARY KEY, code BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE contracts (
        address BLOB PRIMARY KEY, code_hash BLOB NOT NULL REFERENCES code(hash),
        abi TEXT NOT NULL, metadata TEXT NOT NULL, deployer BLOB NOT NULL,
        height INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE names (name TEXT PRIMARY KEY, address BLOB NOT NULL REFERENCES contracts);
    CREATE TABLE storage (
        address BLOB NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
        PRIMARY KEY (address, key)
    ) WITHOUT ROWID;
    CREATE TABLE blocks (height INTEGER PRIMARY KEY, time INTEGER NOT NULL, tx_hash BLOB);
    CREATE TABLE receipts (
        tx_hash BLOB PRIMARY KEY, height INTEGER NOT NULL, kind TEXT NOT NULL,
        sender BLOB NOT NULL, target BLOB NOT NULL, function TEXT,
        gas_used INTEGER NOT NULL, return_data BLOB NOT NULL, logs TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE events (
        tx_hash BLOB NOT NULL, idx INTEGER NOT NULL, address BLOB NOT NULL,
        name TEXT NOT NULL, topics BLOB NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (tx_hash, idx)
    ) WITHOUT ROWID;
    CREATE INDEX events_by_address ON events(address, name);
    """,
    # v2: the state tree's nodes (layout in state_tree.py) and checkpoints (checkpoint.py)
    """
    CREATE TABLE state_nodes (
        depth INTEGER NOT NULL, prefix BLOB NOT NULL, kind INTEGER NOT NULL,
        a BLOB NOT NULL, b BLOB NOT NULL,
        PRIMARY KEY (depth, prefix)
    ) WITHOUT ROWID;
    CREATE TABLE checkpoints (
        height INTEGER PRIMARY KEY, state_root BLOB NOT NULL, receipts_root BLOB NOT NULL,
        tx_count INTEGER NOT NULL, first_height INTEGER NOT NULL, time INTEGER NOT NULL
    );
    CREATE INDEX receipts_by_height ON receipts(height);
    """,
    # v3: a transaction that ran and failed is recorded too: its status and error
    """
    ALTER TABLE receipts ADD COLUMN status TEXT NOT NULL DEFAULT 'ok';
    ALTER TABLE receipts ADD COLUMN error TEXT;
    """,
    # v4: state history (sql.py, "State history"): every tree node and storage value as it
    # was after each block from `history_from` on; a NULL kind/value records a removal
    """
    CREATE TABLE state_nodes_log (
        depth INTEGER NOT NULL, prefix BLOB NOT NULL, height INTEGER NOT NULL,
        kind INTEGER, a BLOB, b BLOB,
        PRIMARY KEY (depth, prefix, height)
    ) WITHOUT ROWID;
    CREATE TABLE storage_log (
        address BLOB NOT NULL, key BLOB NOT NULL, height INTEGER NOT NULL, value BLOB,
        PRIMARY KEY (address, key, height)
    ) WITHOUT ROWID;
    """,
    # v5: a contract's name by its address (name_of) without scanning every name
    """
    CREATE INDEX names_by_address ON names(address, name);
    """,
    # v6: each event's block height, so ghost_getEvents reads a contract's (or a name's)
    # events in block order from an index and stops at its limit, never sorting them all
    """
    ALTER TABLE events ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
    UPDATE events SET height = (SELECT r.height FROM receipts r WHERE r.tx_hash = events.tx_hash);
    DROP INDEX events_by_address;
    CREATE INDEX events_by_address ON events(address, height, idx);
    CREATE INDEX events_by_name ON events(name, height, idx);
    CREATE INDEX events_by_address_name ON events(address, name, height, idx);
    CREATE INDEX events_by_height ON events(height, idx);
    """,
)


#: WAL pages between automatic checkpoints of a store that is not durable (16 MB of
#: 4 KiB pages; SQLite's default is 1,000). Closing the last connection checkpoints too.
SANDBOX_CHECKPOINT_PAGES = 4000


def _full_disk(exc: sqlite3.DatabaseError, path: str) -> str:
    """Why an I/O error opening `path` happened, when it is a full disk: SQLite says only
    `disk I/O error` when it cannot size the -shm file of a WAL database there."""
    if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_IOERR"):
        return ""
    try:
        free = os.statvfs(Path(path).parent).f_bavail
    except (OSError, AttributeError):  # no statvfs (Windows), or no such directory
        return ""
    return " (no space left on the device)" if free == 0 else ""


class SqliteStore(SqlStore):
    backend = "sqlite"
    _sees_other_writers = True  # every transaction asks first (_Savepoint)

    def __init__(
        self, path: Path | str, *, durable: bool = False, authenticated: bool = False,
        history: bool = True, history_blocks: int | None = None, create: bool = True,
    ) -> None:
        """`durable`: fsync every commit (synchronous=FULL), as a node that acknowledges
        a transaction only once it survives power loss needs; the sandbox does not.
        `authenticated`: keep the state tree, for `state_root()`, `prove()` and checkpoints;
        `history`: with it, the state history (sql.py), of the latest `history_blocks`
        blocks (None: of every block). `create`: make the file and its schema when there
        are none (False: NotFoundError, and the file is not touched)."""
        self.path = self.location = str(path)
        self._private = self.path == ":memory:"
        self.durable = durable
        self._lost = ""  # why SQLite last rolled a whole transaction back (_failed)
        if not create and not self._private:
            _require_schema(Path(self.path))
        try:
            if not self._private:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            if not self._private:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                if not durable:
                    # The sandbox's own file: at the default 1,000 pages a checkpoint's
                    # two fsyncs were most of what a commit cost; fewer, larger ones
                    # also copy each often-written page once.
                    self._db.execute(f"PRAGMA wal_autocheckpoint = {SANDBOX_CHECKPOINT_PAGES}")
            self._migrate()
            if durable and not self._private and not os.access(self.path, os.W_OK):
                # SQLite opens a file it may not write read-only, without a word, when it
                # can (a read-only file system that still holds the -wal and -shm files
                # a crash left): a node would then serve reads and fail every write.
                self._db.close()
                raise sqlite3.OperationalError("attempt to write a readonly database")
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open state database {self.path}: {exc}"
                             f"{_full_disk(exc, self.path)}") from exc
        except OSError as exc:  # its directory cannot be made
            raise StateError(f"cannot open state database {self.path}: cannot create "
                             f"{exc.filename}: {exc.strerror}") from exc
        self._version = self._data_version()
        self._init_tree(authenticated, history, history_blocks)

    def reader(self) -> SqliteStore:
        if self._private:
            raise StateError("an in-memory store has only one connection")
        return SqliteStore(self.path, authenticated=self.authenticated,
                           history=self.keep_history, history_blocks=self.history_blocks)

    def _migrate(self) -> None:
        version = self.schema_version()
        if version < 0:  # MIGRATIONS[-1:] would run the latest one again over its tables
            raise StateError(f"state database {self.path} has schema version {version}, "
                             "which no ghost writes: it is damaged or not ghost's")
        if version > len(MIGRATIONS):
            raise StateError(
                f"state database {self.path} is schema v{version}, newer than this ghost "
                f"(v{len(MIGRATIONS)}); upgrade ghost"
            )
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    # --- the connection --------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from exc

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._depth and not self._db.in_transaction:
            raise self._rolled_back()  # outside it, the write would commit on its own
        try:
            self._db.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from exc

    def _exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self._depth and not self._db.in_transaction:
            raise self._rolled_back()
        try:
            self._db.executemany(sql, rows)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: sqlite3.DatabaseError) -> StateError:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_BUSY_SNAPSHOT":
            return self._written_meanwhile()
        if self._depth and not self._db.in_transaction:
            # A full disk or an I/O error mid-transaction: SQLite rolled all of it back,
            # not just the statement, and every savepoint with it.
            self._forget_caches()
            self._lost = str(exc)
        return StateError(f"state database {self.path}: {exc}")

    def _rolled_back(self) -> StateError:
        return StateError(f"state database {self.path}: the transaction was rolled back "
                          f"({self._lost or 'an error'}); nothing of it was written")

    def _written_meanwhile(self) -> StateError:
        return StateError(f"state database {self.path}: another process wrote to it while "
                          "this operation ran; nothing was written: try again")

    def _data_version(self) -> int:
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def _changed_elsewhere(self) -> bool:
        # No other connection can reach a private store; inside a transaction the question
        # was asked as it began, and its snapshot holds until it ends.
        if self._private or self._depth:
            return False
        return self._ask()

    def _ask(self) -> bool:
        version = self._data_version()  # moves when another connection commits
        changed, self._version = version != self._version, version
        if changed:  # what this connection knew of the rows goes
            self._tree_meta_gone = False
            if self.tree is not None:
                self.tree.nodes.forget()
        return changed

    def _transaction_began(self) -> None:
        """Asked inside the transaction, before anything else: that read fixes the snapshot
        the transaction reads and writes, so no commit can slip in between the answer and
        this transaction's writes (a write on an older snapshot fails, SQLITE_BUSY_SNAPSHOT)."""
        self._ask()

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: a SAVEPOINT, so it also nests inside `snapshot()`."""
        return _Savepoint(self)

    def _rollback(self, name: str) -> None:
        """Undo savepoint `name`. The error that called for it goes on: should the undo
        fail too (a malformed file), the whole transaction is given up instead."""
        try:
            if self._db.in_transaction:  # else SQLite rolled it all back already (_failed)
                self._db.execute(f"ROLLBACK TO {name}")
                self._db.execute(f"RELEASE {name}")
        except sqlite3.DatabaseError as exc:
            self._lost = str(exc)
            with suppress(sqlite3.DatabaseError):
                self._db.execute("ROLLBACK")
        finally:
            self._forget_caches()


def _require_schema(path: Path) -> None:
    """NotFoundError unless `path` is a SQLite file with ghost's schema, found without
    writing to it (opening it as a store would create the schema, and switch an empty
    file or another application's database to WAL). A file that is no SQLite database
    at all is left for the store's open to report."""
    if not path.is_file():
        raise NotFoundError(f"no state database at {path}")
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return
    if version == 0:
        raise NotFoundError(f"no chain in the state database {path}")


class _Savepoint:
    """One `SqliteStore.transaction()`. A class, not a generator: every sandbox call
    enters one, and a generator-based context manager costs several times as much."""

    __slots__ = ("_store", "_depth")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._depth = 0

    def __enter__(self) -> None:
        store = self._store
        depth = self._depth = store._depth = store._depth + 1
        try:
            if depth > 1 and not store._db.in_transaction:
                raise store._rolled_back()  # a SAVEPOINT now would begin a new transaction
            store._db.execute(f"SAVEPOINT sp{depth}")
            if depth == 1 and not store._private:
                store._transaction_began()
        except BaseException as exc:
            if depth == 1 and store._db.in_transaction:
                store._db.execute("ROLLBACK")
            store._depth = depth - 1
            if isinstance(exc, sqlite3.DatabaseError):
                raise store._failed(exc) from exc
            raise

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        store, depth = self._store, self._depth
        name = f"sp{depth}"
        try:
            if kind is not None:
                store._rollback(name)
                return  # the error goes on
            if not store._db.in_transaction:  # rolled back under a caught error
                store._forget_caches()
                raise store._rolled_back()
            try:
                store._db.execute(f"RELEASE {name}")
            except sqlite3.DatabaseError as exc:  # e.g. disk full at commit
                store._rollback(name)
                raise StateError(f"could not commit to {store.path}: {exc}") from exc
        finally:
            store._depth = depth - 1
