"""Chain state behind one seam: the `StateStore` protocol and `open_store(url)`.

    open_store("n0/state.db")                     SQLite file (also sqlite:///n0/state.db)
    open_store(":memory:")                        SQLite in memory
    open_store("postgresql://ghost@db/chain")     PostgreSQL, shared by several nodes

Backends: sqlite.py and postgres.py over the shared queries in sql.py; records.py holds
what is stored. Nothing outside this package knows which database it talks to.
"""

from __future__ import annotations

from pathlib import Path

from ...exceptions import UsageError
from .protocol import StateStore
from .records import ContractRecord, EventRecord, ReceiptRecord
from .sql import TREE_META, TREE_VERSION
from .url import StoreUrl, parse_store_url, redact

__all__ = [
    "ContractRecord", "EventRecord", "ReceiptRecord", "StateStore", "StoreUrl", "TREE_META",
    "TREE_VERSION", "open_store", "parse_store_url", "redact",
]


def open_store(url: str | Path, *, durable: bool = False, authenticated: bool = False,
               history: bool = True, history_blocks: int | None = None,
               create: bool = True, **options: object) -> StateStore:
    """The store at `url`: a SQLite path or sqlite:/// URL, or a postgresql:// URL.
    `durable`: SQLite fsyncs every commit (PostgreSQL always commits durably);
    `authenticated`: keep the state tree (state roots, proofs, checkpoints) and, unless
    `history` is False, the state history (proofs at past heights, store/sql.py): of the
    latest `history_blocks` blocks, or (None) of every block. `create`: set up a store
    where there is none (False: a missing file, or a database without ghost's schema, is
    NotFoundError and nothing is created in it)."""
    parsed = parse_store_url(url)
    if parsed.backend == "sqlite":
        from .sqlite import SqliteStore

        if options:
            raise UsageError(f"a SQLite store takes no options ({', '.join(options)})")
        return SqliteStore(parsed.path, durable=durable, authenticated=authenticated,
                           history=history, history_blocks=history_blocks, create=create)
    from .postgres import PostgresStore

    return PostgresStore(parsed, authenticated=authenticated, history=history,
                         history_blocks=history_blocks, create=create, **options)  # type: ignore[arg-type]
