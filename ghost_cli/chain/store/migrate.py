"""Copy a chain from one store to another (SQLite <-> PostgreSQL), then prove the copy:
the same row count in every table and the same state root, recomputed from the copied
storage. The source must hold a chain (a database without one is NotFoundError, and
nothing is created in it); the target must be empty, ghost's tables or none and no row
in them, checked before anything is written there (StateError, and it is left as it
was); the copy is one transaction there (all or nothing)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...crypto.hashing import keccak256
from ...crypto.proof import state_path
from ...exceptions import NotFoundError, StateError, StoreUnavailableError
from ..state_tree import build
from . import open_store
from .records import TABLES
from .sql import HISTORY_META, TREE_META, TREE_VERSION
from .url import StoreUrl, error_line, parse_store_url

#: Every table of ghost's schema: those copied, and PostgreSQL's bookkeeping.
GHOST_TABLES = frozenset(TABLES) | {"chain_head", "ghost_schema"}
#: Rebuilt on the verifying open when the source's tree was stale or never kept (a
#: sandbox's): checked by the state root, not row for row.
REBUILT = frozenset({"meta", "state_nodes", "state_nodes_log", "storage_log"})


@dataclass(frozen=True)
class MigrationReport:
    source: str  # locations, safe to print
    target: str
    rows: dict[str, int]  # per table, in the verified copy
    height: int
    state_root: bytes


def _root_from_storage(store) -> bytes:
    return build({state_path(a, k): keccak256(v)
                  for a, k, v in store.export_rows("storage")})


def migrate(source: str | Path, target: str | Path) -> MigrationReport:
    _require_current(source)  # opening an older schema would upgrade it
    src = open_store(source, create=False)  # no chain there: nothing is created in it
    try:
        if not any(src.counts().values()):
            raise NotFoundError(f"no chain in {src.location}")
        _require_empty(target)  # before opening it as a store creates ghost's tables there
        dst = open_store(target)
        try:
            if any(dst.counts().values()):  # a chain written there since
                raise StateError(f"{dst.location} already holds a chain; migrate into an "
                                 "empty store")
            with src.read():
                history = src.meta_get(HISTORY_META) is not None
                tree_kept = src.meta_get(TREE_META) == TREE_VERSION
                rows = {t: 0 for t in TABLES}
                with dst.exclusive(), dst.transaction():
                    for table in TABLES:
                        def counted(table: str = table):
                            for row in src.export_rows(table):
                                rows[table] += 1
                                yield row
                        dst.import_rows(table, counted())
                root = _root_from_storage(src)
                height = src.height()
        finally:
            dst.close()
        # Verify on a fresh, authenticated open of the target: its tree (copied, or
        # rebuilt when the source's was stale) must give the root the storage gives.
        # (with the source's choice of state history: opening it otherwise would add or
        # drop the history in the copy)
        check = open_store(target, authenticated=True, history=history)
        try:
            with check.read():
                copied = {t: sum(1 for _ in check.export_rows(t)) for t in TABLES}
                got_root, got_height = check.state_root(), check.height()
        finally:
            check.close()
        _verify(check.location, rows, copied, tree_kept)
        if got_root != root or got_height != height:
            raise StateError(f"copy to {check.location} does not verify: state root "
                             f"0x{got_root.hex()} at {got_height}, expected 0x{root.hex()} "
                             f"at {height}")
        return MigrationReport(src.location, check.location, copied, height, root)
    finally:
        src.close()


def _verify(location: str, rows: dict[str, int], copied: dict[str, int],
            tree_kept: bool) -> None:
    """Every table row for row; when the source's tree was current the open changes
    nothing, so its tree, history and meta must match too."""
    skip = frozenset() if tree_kept else REBUILT
    if any(copied[t] != rows[t] for t in TABLES if t not in skip):
        raise StateError(f"copy to {location} is incomplete: {copied} != {rows}")


#: Tables and views where the store keeps its tables: the SQLite file, or PostgreSQL's
#: current schema (other schemas of the database never meet ghost's tables).
_RELATIONS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
              "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    "postgresql": "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                  "c.relnamespace WHERE n.nspname = current_schema() "
                  "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
}


def _require_empty(target: str | Path) -> None:
    """StateError unless `target` holds nothing but ghost's tables, without a row in them,
    found without writing to it: a copy must never land in or beside another chain or
    another application's data."""
    url = parse_store_url(target)
    with _reader(url) as rows:
        if rows is None:  # a new or empty SQLite file, or one the store's open refuses
            return
        relations = [name for (name,) in rows(_RELATIONS[url.backend])]
        foreign = sorted(set(relations) - GHOST_TABLES)
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise StateError(f"{url.display} holds tables that are not ghost's ({shown}); "
                             "migrate into an empty store")
        copied = [name for name in relations if name in TABLES]  # known names only
        if copied and rows("SELECT " + " OR ".join(
                f"EXISTS (SELECT 1 FROM {t})" for t in copied))[0][0]:
            raise StateError(f"{url.display} already holds a chain; migrate into an empty "
                             "store")


def _require_current(source: str | Path) -> None:
    """StateError when the source's schema is older than this ghost's, found without
    writing to it: opening it as a store would upgrade it in place, and a node of the
    older ghost still running on it (a backup taken while it serves) would then fail
    every transaction that records an event. A source that is missing, holds no chain
    or is newer than this ghost is left for the store's open to report."""
    url = parse_store_url(source)
    with _reader(url) as rows:
        if rows is None:
            return
        if url.backend == "postgresql":
            from .postgres import MIGRATIONS

            if rows("SELECT to_regclass('ghost_schema')")[0][0] is None:
                return
            found = rows("SELECT version FROM ghost_schema")
            version = found[0][0] if found else 0
        else:
            from .sqlite import MIGRATIONS

            version = rows("PRAGMA user_version")[0][0]
    if 0 < version < len(MIGRATIONS):
        raise StateError(f"{url.display} is schema v{version}, older than this ghost "
                         f"(v{len(MIGRATIONS)}); node migrate never writes to its source: "
                         "stop its nodes and start one with this ghost, which upgrades it, "
                         "then copy it")


@contextmanager
def _reader(url: StoreUrl) -> Iterator[Callable[[str], list[tuple]] | None]:
    """`rows(sql)` over a read-only connection to `url`; None for a SQLite file that is
    missing or empty, or no SQLite database (the store's open says so, in its words)."""
    if url.backend == "postgresql":
        with _postgres(url) as conn:
            yield lambda sql: _pg_rows(conn, url, sql)
        return
    path = Path(url.path)
    if not path.is_file() or path.stat().st_size == 0:
        yield None
        return
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    except sqlite3.DatabaseError:
        db.close()
        yield None
        return
    try:
        yield lambda sql: db.execute(sql).fetchall()
    except sqlite3.DatabaseError as exc:
        raise StateError(f"cannot read the state database {url.display}: {exc}") from None
    finally:
        db.close()


@contextmanager
def _postgres(url: StoreUrl) -> Iterator:
    """A plain connection whose transaction is read only: the checks cannot write."""
    import psycopg

    try:
        conn = psycopg.connect(url.path, connect_timeout=5)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"cannot connect to the state database {url.display}: "
                                    f"{error_line(exc, url.path)}") from None
    conn.read_only = True
    try:
        yield conn
    finally:
        conn.close()  # rolls the read-only transaction back


def _pg_rows(conn, url: StoreUrl, sql: str) -> list[tuple]:
    import psycopg

    try:
        return conn.execute(sql).fetchall()
    except psycopg.Error as exc:
        raise StateError(f"cannot read the state database {url.display}: "
                         f"{error_line(exc, url.path)}") from None
