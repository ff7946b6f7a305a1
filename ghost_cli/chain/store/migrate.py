"""Copy a chain from one store to another (SQLite <-> PostgreSQL), then prove the copy:
the same row count in every table and the same state root, recomputed from the copied
storage. The source must hold a chain (a database without one is NotFoundError, and
nothing is created in it); the target must be empty; the copy is one transaction there
(all or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...crypto.hashing import keccak256
from ...crypto.proof import state_path
from ...exceptions import NotFoundError, StateError
from ..state_tree import build
from . import open_store
from .records import TABLES
from .sql import HISTORY_META


@dataclass(frozen=True)
class MigrationReport:
    source: str  # locations, safe to print
    target: str
    rows: dict[str, int]
    height: int
    state_root: bytes


def _root_from_storage(store) -> bytes:
    return build({state_path(a, k): keccak256(v)
                  for a, k, v in store.export_rows("storage")})


def migrate(source: str | Path, target: str | Path) -> MigrationReport:
    src = open_store(source, create=False)  # no chain there: nothing is created in it
    try:
        if not any(src.counts().values()):
            raise NotFoundError(f"no chain in {src.location}")
        history = src.meta_get(HISTORY_META) is not None
        dst = open_store(target)
        try:
            if any(dst.counts().values()):
                raise StateError(f"{dst.location} already holds a chain; migrate into an "
                                 "empty store")
            with src.read():
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
        # The tree and its history are rebuilt (and meta updated) when the copy's tree was
        # stale, so only the other tables must match row for row.
        derived = {"state_nodes", "state_nodes_log", "storage_log", "meta"}
        if {t: n for t, n in copied.items() if t not in derived} != {
                t: n for t, n in rows.items() if t not in derived}:
            raise StateError(f"copy to {check.location} is incomplete: {copied} != {rows}")
        if got_root != root or got_height != height:
            raise StateError(f"copy to {check.location} does not verify: state root "
                             f"0x{got_root.hex()} at {got_height}, expected 0x{root.hex()} "
                             f"at {height}")
        return MigrationReport(src.location, check.location, rows, height, root)
    finally:
        src.close()
