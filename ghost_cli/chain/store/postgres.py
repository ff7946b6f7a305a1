"""The PostgreSQL backend: one database that several node processes serve one chain from.

The database orders transactions. Every write session (`exclusive()`, or an outermost
`transaction()`) begins by locking the single `chain_head` row (SELECT ... FOR UPDATE),
so writers from every process take turns: the nonce check, the run and the commit of one
transaction see the latest commit and nobody else's half-done work. Heights come from
MAX(height) + 1 under that lock, so they are one gap-free sequence. A session that wrote
bumps `chain_head.version` and sends NOTIFY ghost_chain before COMMIT (delivered on
commit); a node LISTENs (`listen()`) to wake its event subscribers.

Caches: the state tree's node cache is valid for one `chain_head.version`; each session
reads the version first (under the lock, or in its REPEATABLE READ snapshot for reads) and
drops the cache when another process has committed since.

Connections come from a psycopg_pool pool, checked on checkout, so after a lost
connection or a database restart the next request reconnects. Losing the database
raises StoreUnavailableError (retryable; JSON-RPC `store_unavailable`).

Checkpoints: one node at a time makes them, the holder of a session-level advisory lock
(`checkpoint_lock()`); when it dies, its lock goes with its connection and another
node takes over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from ...exceptions import NotFoundError, StateError, StoreUnavailableError
from .sql import SqlStore
from .url import StoreUrl, error_line, parse_store_url, redact

#: Schema versions, applied in order; the version is the row in `ghost_schema`.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
    INSERT INTO chain_head VALUES (1, 0);
    CREATE TABLE accounts (address BYTEA PRIMARY KEY, nonce BIGINT NOT NULL);
    CREATE TABLE code (hash BYTEA PRIMARY KEY, code BYTEA NOT NULL);
    CREATE TABLE contracts (
        address BYTEA PRIMARY KEY, code_hash BYTEA NOT NULL REFERENCES code(hash),
        abi TEXT NOT NULL, metadata TEXT NOT NULL, deployer BYTEA NOT NULL,
        height BIGINT NOT NULL
    );
    CREATE TABLE names (name TEXT PRIMARY KEY, address BYTEA NOT NULL REFERENCES contracts);
    CREATE TABLE storage (
        address BYTEA NOT NULL, key BYTEA NOT NULL, value BYTEA NOT NULL,
        PRIMARY KEY (address, key)
    );
    CREATE TABLE blocks (height BIGINT PRIMARY KEY, time BIGINT NOT NULL, tx_hash BYTEA);
    CREATE TABLE receipts (
        tx_hash BYTEA PRIMARY KEY, height BIGINT NOT NULL, kind TEXT NOT NULL,
        sender BYTEA NOT NULL, target BYTEA NOT NULL, function TEXT,
        gas_used BIGINT NOT NULL, return_data BYTEA NOT NULL, logs TEXT NOT NULL
    );
    CREATE TABLE events (
        tx_hash BYTEA NOT NULL, idx INTEGER NOT NULL, address BYTEA NOT NULL,
        name TEXT NOT NULL, topics BYTEA NOT NULL, data BYTEA NOT NULL,
        PRIMARY KEY (tx_hash, idx)
    );
    CREATE INDEX events_by_address ON events(address, name);
    CREATE TABLE state_nodes (
        depth INTEGER NOT NULL, prefix BYTEA NOT NULL, kind INTEGER NOT NULL,
        a BYTEA NOT NULL, b BYTEA NOT NULL,
        PRIMARY KEY (depth, prefix)
    );
    CREATE TABLE checkpoints (
        height BIGINT PRIMARY KEY, state_root BYTEA NOT NULL, receipts_root BYTEA NOT NULL,
        tx_count BIGINT NOT NULL, first_height BIGINT NOT NULL, time BIGINT NOT NULL
    );
    CREATE INDEX receipts_by_height ON receipts(height);
    """,
    # v3: a transaction that ran and failed is recorded too: its status and error
    """
    ALTER TABLE receipts ADD COLUMN status TEXT NOT NULL DEFAULT 'ok';
    ALTER TABLE receipts ADD COLUMN error TEXT;
    """,
    # v3: state history (sql.py, "State history"); a NULL kind/value records a removal
    """
    CREATE TABLE state_nodes_log (
        depth INTEGER NOT NULL, prefix BYTEA NOT NULL, height BIGINT NOT NULL,
        kind INTEGER, a BYTEA, b BYTEA,
        PRIMARY KEY (depth, prefix, height)
    );
    CREATE TABLE storage_log (
        address BYTEA NOT NULL, key BYTEA NOT NULL, height BIGINT NOT NULL, value BYTEA,
        PRIMARY KEY (address, key, height)
    );
    """,
    # v4: a contract's name by its address (name_of) without scanning every name
    """
    CREATE INDEX names_by_address ON names(address, name);
    """,
    # v5: each event's block height (SQLite's v6)
    """
    ALTER TABLE events ADD COLUMN height BIGINT;
    UPDATE events e SET height = r.height FROM receipts r WHERE r.tx_hash = e.tx_hash;
    ALTER TABLE events ALTER COLUMN height SET NOT NULL;
    DROP INDEX events_by_address;
    CREATE INDEX events_by_address ON events(address, height, idx);
    CREATE INDEX events_by_name ON events(name, height, idx);
    CREATE INDEX events_by_address_name ON events(address, name, height, idx);
    CREATE INDEX events_by_height ON events(height, idx);
    """,
)

CHANNEL = "ghost_chain"
#: advisory lock keys (any fixed numbers; they only have to differ from each other)
MIGRATE_LOCK = 0x67686F7374_01
CHECKPOINT_LOCK = 0x67686F7374_02
#: seconds a request waits for a pooled connection before store_unavailable
POOL_TIMEOUT = 5.0
DEFAULT_POOL_SIZE = 10
#: how often a node that is not the checkpoint maker tries to become it
LEADER_RETRY_SECONDS = 5.0
#: how often the listener asks the database whether it answers: a frozen server (or a
#: network that drops packets) keeps a connection open that simply never speaks again
HEARTBEAT_SECONDS = 1.0
#: no answer for this long and `reachable` (what /health says) turns False
STALE_SECONDS = 3.0

_LOST = (psycopg.OperationalError, psycopg.InterfaceError)
log = logging.getLogger(__name__)


class PostgresStore(SqlStore):
    backend = "postgresql"

    def __init__(self, url: StoreUrl | str, *, authenticated: bool = False, history: bool = True,
                 pool: ConnectionPool | None = None, pool_size: int = DEFAULT_POOL_SIZE,
                 durable: bool = True, history_blocks: int | None = None,
                 create: bool = True) -> None:
        """`create`: set up the schema in a database that has none (False: such a
        database is NotFoundError, and nothing is created in it)."""
        self._url = url if isinstance(url, StoreUrl) else parse_store_url(url)
        self.location = self._url.display
        self._owns_pool = pool is None
        self._conn: psycopg.Connection | None = None  # during a session
        self._seen: int | None = None  # chain_head.version the caches reflect
        self._wrote = False
        self._sql: dict[str, str] = {}
        self._leader: psycopg.Connection | None = None  # holds CHECKPOINT_LOCK
        self._leader_retry_at = 0.0  # monotonic time of the next try for the lock
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        #: monotonic time the listener last heard the database (None: not listening)
        self._heard_at: float | None = None
        if pool is None:
            # One plain connection first: when the database is unreachable that is one
            # line with libpq's reason at once, not the pool's retries and a timeout.
            try:
                psycopg.connect(self._url.path, connect_timeout=int(POOL_TIMEOUT)).close()
            except _LOST as exc:
                raise self._unavailable(exc, "cannot connect to", retry=False) from None
            pool = ConnectionPool(
                self._url.path, min_size=1, max_size=pool_size, open=False,
                kwargs={"autocommit": True}, check=ConnectionPool.check_connection,
                timeout=POOL_TIMEOUT, name="ghost-store")
            try:
                pool.open(wait=True, timeout=POOL_TIMEOUT)
            except _LOST as exc:
                pool.close()
                raise self._unavailable(exc, "cannot connect to", retry=False) from None
        self._pool = pool
        if self._owns_pool:
            try:
                self._migrate(create)
            except BaseException:
                pool.close()
                raise
        self._init_tree(authenticated, history, history_blocks)

    def reader(self) -> PostgresStore:
        return PostgresStore(self._url, authenticated=self.authenticated,
                             history=self.keep_history, pool=self._pool,
                             history_blocks=self.history_blocks)

    def close(self) -> None:
        self._stop.set()
        if self._leader is not None:
            self._leader.close()
            self._leader = None
        if self._owns_pool:
            self._pool.close()
        if self._listener is not None:
            self._listener.join(timeout=5)

    @property
    def reachable(self) -> bool:
        """Whether the listener (listen()) has heard the database lately: what /health
        says without asking the database on every probe. True when not listening."""
        heard = self._heard_at
        return heard is None or time.monotonic() - heard < STALE_SECONDS

    def _redact(self, text: str) -> str:
        """`text` on one line, without the URL's password."""
        return " ".join(redact(text, self._url.path).split())

    def _unavailable(self, exc: BaseException, doing: str = "lost the connection to", *,
                     retry: bool = True) -> StoreUnavailableError:
        """`retry`: say "retry shortly". Not at open, where libpq's reason is the whole
        story (a server down, a database that does not exist, a refused password: waiting
        would not help the last two)."""
        detail = error_line(exc, self._url.path)
        hint = "; retry shortly" if retry else ""
        return StoreUnavailableError(
            f"{doing} the state database {self.location}: {detail}{hint}")

    # --- schema -------------------------------------------------------------------------

    def _migrate(self, create: bool = True) -> None:
        try:
            with self._pool.connection() as conn:
                conn.execute("BEGIN")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                # checked first: a role that may only read and write ghost's tables (not
                # CREATE in the schema) is refused even a CREATE TABLE IF NOT EXISTS
                found = conn.execute("SELECT to_regclass('ghost_schema')").fetchone()[0]
                if not create and found is None:
                    conn.execute("ROLLBACK")
                    raise NotFoundError(f"no chain in the state database {self.location}")
                if found is None:
                    conn.execute("CREATE TABLE ghost_schema (version INTEGER NOT NULL)")
                row = conn.execute("SELECT version FROM ghost_schema").fetchone()
                version = row[0] if row else 0
                if version > len(MIGRATIONS):
                    conn.execute("ROLLBACK")
                    raise StateError(
                        f"state database {self.location} is schema v{version}, newer than "
                        f"this ghost (v{len(MIGRATIONS)}); upgrade ghost")
                for script in MIGRATIONS[version:]:
                    conn.execute(script)
                if row is None:
                    conn.execute("INSERT INTO ghost_schema VALUES (%s)", (len(MIGRATIONS),))
                elif version < len(MIGRATIONS):
                    conn.execute("UPDATE ghost_schema SET version = %s", (len(MIGRATIONS),))
                conn.execute("COMMIT")
        except _LOST as exc:
            raise self._unavailable(exc) from None
        except psycopg.Error as exc:
            raise StateError(f"cannot set up the state database {self.location}: "
                             f"{self._redact(str(exc))}") from None

    def schema_version(self) -> int:
        row = self._one("SELECT version FROM ghost_schema")
        return row[0] if row else 0

    # --- statements ---------------------------------------------------------------------

    def _pg(self, sql: str) -> str:
        try:
            return self._sql[sql]
        except KeyError:
            out = self._sql[sql] = sql.replace("?", "%s")  # no statement has a literal ?
            return out

    def _run(self, fn: Callable[[psycopg.Connection], Any], write: bool) -> Any:
        if self._conn is None:
            with self._session(write=write):
                return self._run(fn, write)
        try:
            return fn(self._conn)
        except _LOST as exc:
            raise self._unavailable(exc) from None
        except psycopg.Error as exc:
            raise StateError(f"state database {self.location}: {self._redact(str(exc))}"
                             ) from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        q = self._pg(sql)
        return self._run(lambda c: c.execute(q, params).fetchall(), write=False)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        q = self._pg(sql)
        self._wrote = self._wrote or not sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
        self._run(lambda c: c.execute(q, params), write=True)

    def _exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        q = self._pg(sql)
        self._wrote = True
        self._run(lambda c: c.cursor().executemany(q, rows), write=True)

    def _changed_elsewhere(self) -> bool:
        return False  # each session checks chain_head.version as it begins

    # --- sessions -----------------------------------------------------------------------

    @contextmanager
    def _session(self, *, write: bool, keep: bool = False) -> Iterator[None]:
        """One database transaction on one pooled connection. A write session locks the
        chain head first; a read session is one REPEATABLE READ snapshot. `keep`: commit
        what was done even when the block raises (unless the database failed)."""
        try:
            with self._pool.connection() as conn:
                self._conn = conn
                try:
                    if write:
                        conn.execute("BEGIN")
                        version = conn.execute(
                            "SELECT version FROM chain_head WHERE id = 1 FOR UPDATE").fetchone()[0]
                    else:
                        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        version = conn.execute(
                            "SELECT version FROM chain_head WHERE id = 1").fetchone()[0]
                    if version != self._seen:
                        self._forget_caches()  # another process committed since
                    self._seen, self._wrote = version, False
                    try:
                        yield
                    except BaseException as exc:
                        if keep and not isinstance(exc, (psycopg.Error, StateError)):
                            self._commit(conn)
                        else:
                            self._abort(conn)
                        raise
                    self._commit(conn)
                finally:
                    self._conn = None
        except _LOST as exc:
            self._forget_caches()
            self._seen = None
            raise self._unavailable(exc) from None

    def _commit(self, conn: psycopg.Connection) -> None:
        if self._wrote:
            version = conn.execute("UPDATE chain_head SET version = version + 1 WHERE id = 1 "
                                   "RETURNING version").fetchone()[0]
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(version)))
            self._seen = version
        try:
            conn.execute("COMMIT")
        except _LOST as exc:
            self._seen = None
            raise StoreUnavailableError(
                f"lost the state database {self.location} while committing; the "
                "transaction may or may not be recorded: look up its receipt") from exc
        except psycopg.Error as exc:  # the database refused the commit: nothing landed
            self._forget_caches()  # they hold the rows that were just undone
            self._seen = None
            said = self._redact(str(exc))
            raise StateError(f"could not commit to the state database {self.location}: "
                             f"{said}") from None

    def _abort(self, conn: psycopg.Connection) -> None:
        self._forget_caches()
        self._seen = None
        if not conn.closed:
            conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. Outermost: a write session (the chain head lock); inside one, a
        SAVEPOINT."""
        if self._conn is None:
            with self._session(write=True):
                yield
            return
        depth = self._depth = self._depth + 1
        name = f"sp{depth}"
        try:
            self._exec(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._forget_caches()
                if self._conn is not None and not self._conn.closed:
                    self._exec(f"ROLLBACK TO SAVEPOINT {name}")
                    self._exec(f"RELEASE SAVEPOINT {name}")
                raise
            self._exec(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth = depth - 1

    def read(self) -> AbstractContextManager[None]:
        """One REPEATABLE READ snapshot (or the session already open)."""
        return nullcontext() if self._conn is not None else self._session(write=False)

    def exclusive(self) -> AbstractContextManager[None]:
        """A write session that keeps what inner transactions committed even when the
        block raises (a refused transaction still commits nothing, harmlessly)."""
        if self._conn is not None:
            return nullcontext()
        return self._session(write=True, keep=True)

    # --- checkpoints and notifications ---------------------------------------------------

    @contextmanager
    def checkpoint_lock(self) -> Iterator[bool]:
        """True while this process holds the checkpoint maker's advisory lock: taken the
        first time it is free and kept (on its own connection) until close or death.
        The lock only saves work: make_checkpoint runs under the chain head lock and
        re-reads the latest checkpoint, so two makers (say, after a database restart
        freed the lock behind a node's back, until the holder next checks its lock's
        connection) still record each checkpoint once."""
        if self._leader is not None and time.monotonic() >= self._leader_retry_at:
            # A database restart frees the lock without a word to its holder: now and
            # then ask over the lock's connection, and let go of it when that is gone.
            self._leader_retry_at = time.monotonic() + LEADER_RETRY_SECONDS
            try:
                self._leader.execute("")
            except _LOST:
                self._leader.close()
                self._leader, self._leader_retry_at = None, 0.0  # try for it again now
        if self._leader is None and time.monotonic() >= self._leader_retry_at:
            # not every commit: a connection per try would cost the other nodes dearly
            self._leader_retry_at = time.monotonic() + LEADER_RETRY_SECONDS
            try:
                conn = psycopg.connect(self._url.path, autocommit=True,
                                       connect_timeout=int(POOL_TIMEOUT))
                got = conn.execute("SELECT pg_try_advisory_lock(%s)",
                                   (CHECKPOINT_LOCK,)).fetchone()[0]
            except _LOST:
                yield False
                return
            if got:
                self._leader = conn
            else:
                conn.close()
        yield self._leader is not None

    def listen(self, on_commit: Callable[[int], None]) -> None:
        """Call `on_commit(version)` from a background thread after every commit by any
        process (NOTIFY ghost_chain). Reconnects when the connection drops; between
        notifications it asks the database for an answer (`reachable`)."""
        self._heard_at = time.monotonic()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    with psycopg.connect(self._url.path, autocommit=True,
                                         connect_timeout=int(POOL_TIMEOUT)) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        self._heard_at = time.monotonic()
                        on_commit(-1)  # (re)connected: anything may have happened meanwhile
                        while not self._stop.is_set():
                            for n in conn.notifies(timeout=HEARTBEAT_SECONDS):
                                on_commit(int(n.payload))
                            conn.execute("SELECT 1")
                            self._heard_at = time.monotonic()
                except _LOST as exc:
                    self._heard_at = float("-inf")
                    log.warning("store listener: %s", self._redact(str(exc)))
                    self._stop.wait(1.0)

        self._listener = threading.Thread(target=loop, name="ghost-store-listen", daemon=True)
        self._listener.start()

