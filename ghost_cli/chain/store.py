"""Chain state in SQLite: contracts, their storage, nonces, blocks, receipts and events.

One connection in autocommit mode; every change goes through `transaction()`, a
SAVEPOINT, so changes nest: a test's `snapshot()` wraps many transactions and rolls
them all back. Schema changes are migrations keyed by `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from ..exceptions import NotFoundError, StateError
from ..vm.types import Event

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
)


@dataclass(frozen=True)
class ContractRecord:
    address: bytes
    code_hash: bytes
    abi: dict
    metadata: dict
    deployer: bytes
    height: int


@dataclass(frozen=True)
class ReceiptRecord:
    tx_hash: bytes
    height: int
    kind: str
    sender: bytes
    target: bytes
    function: str | None
    gas_used: int
    return_data: bytes
    logs: tuple[str, ...]
    events: tuple[Event, ...]


class StateStore:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open state database {self.path}: {exc}") from exc
        self._savepoints = count()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateError(
                f"state database {self.path} is schema v{version}, newer than this ghost "
                f"(v{len(MIGRATIONS)}); upgrade ghost"
            )
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a SAVEPOINT, so it also nests inside `snapshot()`."""
        name = f"sp{next(self._savepoints)}"
        try:
            self._db.execute(f"SAVEPOINT {name}")
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state database {self.path}: {exc}") from exc
        try:
            yield
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        try:
            self._db.execute(f"RELEASE {name}")
        except sqlite3.DatabaseError as exc:  # e.g. disk full at commit
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise StateError(f"could not commit to {self.path}: {exc}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run a block, then put every table back exactly as it was."""
        name = f"snap{next(self._savepoints)}"
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        finally:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")

    # --- meta and blocks -------------------------------------------------------------

    def height(self) -> int:
        row = self._db.execute("SELECT MAX(height) FROM blocks").fetchone()
        return row[0] or 0

    def add_block(self, height: int, time: int, tx_hash: bytes) -> None:
        self._db.execute("INSERT INTO blocks VALUES (?, ?, ?)", (height, time, tx_hash))

    # --- accounts ---------------------------------------------------------------------

    def nonce(self, address: bytes) -> int:
        row = self._db.execute("SELECT nonce FROM accounts WHERE address = ?", (address,))
        found = row.fetchone()
        return found[0] if found else 0

    def set_nonce(self, address: bytes, nonce: int) -> None:
        self._db.execute(
            "INSERT INTO accounts VALUES (?, ?) ON CONFLICT(address) DO UPDATE SET nonce = ?",
            (address, nonce, nonce),
        )

    # --- contracts --------------------------------------------------------------------

    def put_contract(self, rec: ContractRecord, code: bytes) -> None:
        self._db.execute("INSERT OR IGNORE INTO code VALUES (?, ?)", (rec.code_hash, code))
        self._db.execute(
            "INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?)",
            (rec.address, rec.code_hash, json.dumps(rec.abi), json.dumps(rec.metadata),
             rec.deployer, rec.height),
        )

    def set_name(self, name: str, address: bytes) -> None:
        self._db.execute(
            "INSERT INTO names VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET address = ?",
            (name, address, address),
        )

    def names(self) -> dict[str, bytes]:
        return dict(self._db.execute("SELECT name, address FROM names ORDER BY name"))

    def address_of(self, name: str) -> bytes | None:
        row = self._db.execute("SELECT address FROM names WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def contract(self, address: bytes) -> ContractRecord:
        row = self._db.execute(
            "SELECT address, code_hash, abi, metadata, deployer, height FROM contracts "
            "WHERE address = ?", (address,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no contract at 0x{address.hex()}")
        address, code_hash, abi, metadata, deployer, height = row
        return ContractRecord(
            address, code_hash, json.loads(abi), json.loads(metadata), deployer, height
        )

    def code(self, code_hash: bytes) -> bytes:
        row = self._db.execute("SELECT code FROM code WHERE hash = ?", (code_hash,)).fetchone()
        if row is None:
            raise StateError(f"code 0x{code_hash.hex()} missing from the state database")
        return row[0]

    # --- contract storage -------------------------------------------------------------

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT value FROM storage WHERE address = ? AND key = ?", (address, key)
        ).fetchone()
        return row[0] if row else None

    def storage_apply(self, address: bytes, writes: dict[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self._db.execute(
                    "DELETE FROM storage WHERE address = ? AND key = ?", (address, key)
                )
            else:
                self._db.execute(
                    "INSERT INTO storage VALUES (?, ?, ?) "
                    "ON CONFLICT(address, key) DO UPDATE SET value = excluded.value",
                    (address, key, value),
                )

    def storage_items(self, address: bytes) -> list[tuple[bytes, bytes]]:
        return list(
            self._db.execute(
                "SELECT key, value FROM storage WHERE address = ? ORDER BY key", (address,)
            )
        )

    # --- receipts and events ----------------------------------------------------------

    def put_receipt(self, rec: ReceiptRecord) -> None:
        self._db.execute(
            "INSERT INTO receipts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.tx_hash, rec.height, rec.kind, rec.sender, rec.target, rec.function,
             rec.gas_used, rec.return_data, json.dumps(list(rec.logs))),
        )
        self._db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
            [(rec.tx_hash, i, e.address, e.name, b"".join(e.topics), e.data)
             for i, e in enumerate(rec.events)],
        )

    def receipt(self, tx_hash: bytes) -> ReceiptRecord:
        row = self._db.execute(
            "SELECT tx_hash, height, kind, sender, target, function, gas_used, return_data, logs "
            "FROM receipts WHERE tx_hash = ?", (tx_hash,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no receipt for transaction 0x{tx_hash.hex()}")
        events = tuple(
            Event(addr, tuple(topics[i : i + 32] for i in range(0, len(topics), 32)), data)
            for addr, topics, data in self._db.execute(
                "SELECT address, topics, data FROM events WHERE tx_hash = ? ORDER BY idx",
                (tx_hash,),
            )
        )
        return ReceiptRecord(*row[:8], tuple(json.loads(row[8])), events)

    def counts(self) -> dict[str, int]:
        """Row counts per table: what tests compare to prove a failure changed nothing."""
        tables = ("accounts", "contracts", "names", "storage", "blocks", "receipts", "events")
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
