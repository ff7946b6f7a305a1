"""Chain state in SQLite: contracts, their storage, nonces, blocks, receipts and events.

One connection in autocommit mode; every change goes through `transaction()`, a
SAVEPOINT, so changes nest: a test's `snapshot()` wraps many transactions and rolls
them all back. Schema changes are migrations keyed by `PRAGMA user_version`.

An authenticated store (a node) also keeps the state tree (state_tree.py) in the same
database: `storage_apply` updates storage and tree rows in one SAVEPOINT, so a failed
transaction rolls both back and `state_root()` always matches storage. An unauthenticated
store (the sandbox, for speed) skips the tree and marks it stale; opening the file
authenticated later rebuilds it from storage in one O(n) pass.
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
from .checkpoint import Checkpoint
from .hashing import keccak256
from .proof import Proof, state_path
from .state_tree import StateTree

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
)

#: meta row present while state_nodes matches storage (version of the tree's rules)
TREE_META = "state_tree"
TREE_VERSION = "smt-shortcut-keccak-v1"
#: Modules kept in memory by hash (StateStore.code), so a warm call reads no code row.
CODE_CACHE_ENTRIES = 64


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


@dataclass(frozen=True)
class EventRecord:
    """An event as recorded: which transaction and block emitted it, in emission order."""

    tx_hash: bytes
    index: int
    height: int
    event: Event


class StateStore:
    def __init__(
        self, path: Path | str, *, durable: bool = False, authenticated: bool = False
    ) -> None:
        """`durable`: fsync every commit (synchronous=FULL), as a node that acknowledges
        a transaction only once it survives power loss needs; the sandbox does not.
        `authenticated`: keep the state tree, for `state_root()`, `prove()` and checkpoints."""
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open state database {self.path}: {exc}") from exc
        self._savepoints = count()
        self._code_cache: dict[bytes, bytes] = {}
        self.tree: StateTree | None = None
        if authenticated:
            self.tree = StateTree(self._db)
            self._sync_tree()

    def _sync_tree(self) -> None:
        """Rebuild the tree from storage unless the meta row says it is current."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (TREE_META,)).fetchone()
        if row is not None and row[0] == TREE_VERSION:
            return
        assert self.tree is not None
        with self.transaction():
            self.tree.rebuild({
                state_path(address, key): keccak256(value)
                for address, key, value in self._db.execute(
                    "SELECT address, key, value FROM storage")
            })
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             (TREE_META, TREE_VERSION))

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
            self._rollback(name)
            raise
        try:
            self._db.execute(f"RELEASE {name}")
        except sqlite3.DatabaseError as exc:  # e.g. disk full at commit
            self._rollback(name)
            raise StateError(f"could not commit to {self.path}: {exc}") from exc

    def _rollback(self, name: str) -> None:
        self._db.execute(f"ROLLBACK TO {name}")
        self._db.execute(f"RELEASE {name}")
        if self.tree is not None:
            self.tree.nodes.forget()  # its cache may hold rows that were just undone

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run a block, then put every table back exactly as it was."""
        name = f"snap{next(self._savepoints)}"
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        finally:
            self._rollback(name)

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

    def name_of(self, address: bytes) -> str | None:
        """The first (alphabetically) name registered for `address`, if any."""
        row = self._db.execute(
            "SELECT name FROM names WHERE address = ? ORDER BY name LIMIT 1", (address,)
        ).fetchone()
        return row[0] if row else None

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
        # Code is addressed by its hash, so a copy kept here can never be stale.
        code = self._code_cache.get(code_hash)
        if code is not None:
            return code
        row = self._db.execute("SELECT code FROM code WHERE hash = ?", (code_hash,)).fetchone()
        if row is None:
            raise StateError(f"code 0x{code_hash.hex()} missing from the state database")
        if len(self._code_cache) >= CODE_CACHE_ENTRIES:
            self._code_cache.clear()
        self._code_cache[code_hash] = row[0]
        return row[0]

    # --- contract storage -------------------------------------------------------------

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT value FROM storage WHERE address = ? AND key = ?", (address, key)
        ).fetchone()
        return row[0] if row else None

    def storage_apply(self, address: bytes, writes: dict[bytes, bytes | None]) -> None:
        if self.tree is not None:
            with self.transaction():  # storage and tree rows: both or neither
                self._storage_write(address, writes)
                for key, value in writes.items():
                    self.tree.update(address, key, value)
        elif writes:
            self._storage_write(address, writes)
            # the tree no longer matches storage; an authenticated open rebuilds it
            self._db.execute("DELETE FROM meta WHERE key = ?", (TREE_META,))

    def _storage_write(self, address: bytes, writes: dict[bytes, bytes | None]) -> None:
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

    # --- state root, proofs and checkpoints ---------------------------------------------

    def _authenticated(self) -> StateTree:
        if self.tree is None:
            raise StateError(
                f"state database {self.path} is open without its state tree; "
                "open it with StateStore(..., authenticated=True)"
            )
        return self.tree

    def state_root(self) -> bytes:
        """The root of the state tree over every contract's storage (proof.py's rules)."""
        return self._authenticated().root()

    def prove(self, address: bytes, key: bytes) -> Proof:
        """Proof that `key` of `address` holds its current value, or is absent, under
        `state_root()`; check it with proof.verify_proof."""
        return self._authenticated().prove(address, key)

    def put_checkpoint(self, cp: Checkpoint) -> None:
        self._db.execute(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)",
            (cp.height, cp.state_root, cp.receipts_root, cp.tx_count, cp.first_height,
             cp.time_ms),
        )

    def checkpoint(self, height: int | None = None) -> Checkpoint:
        """The latest checkpoint, or the one at `height`."""
        cols = "height, state_root, receipts_root, tx_count, first_height, time"
        if height is None:
            row = self._db.execute(
                f"SELECT {cols} FROM checkpoints ORDER BY height DESC LIMIT 1").fetchone()
        else:
            row = self._db.execute(
                f"SELECT {cols} FROM checkpoints WHERE height = ?", (height,)).fetchone()
        if row is None:
            raise NotFoundError("no checkpoint yet" if height is None
                                else f"no checkpoint at height {height}")
        return Checkpoint(*row)

    def checkpoint_covering(self, height: int) -> Checkpoint:
        """The checkpoint whose range holds block `height`."""
        row = self._db.execute(
            "SELECT height FROM checkpoints WHERE height >= ? AND first_height <= ? "
            "ORDER BY height LIMIT 1", (height, height),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"block {height} is not in a checkpoint yet")
        return self.checkpoint(row[0])

    def tx_hashes(self, first_height: int, last_height: int) -> list[bytes]:
        """Hashes of the transactions recorded in blocks first..last, in height order."""
        return [h for (h,) in self._db.execute(
            "SELECT tx_hash FROM receipts WHERE height BETWEEN ? AND ? ORDER BY height, tx_hash",
            (first_height, last_height),
        )]

    def block_time(self, height: int) -> int | None:
        row = self._db.execute("SELECT time FROM blocks WHERE height = ?", (height,)).fetchone()
        return row[0] if row else None

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

    def events(
        self,
        *,
        address: bytes | None = None,
        name: str | None = None,
        topic: bytes | None = None,
        from_block: int = 0,
        to_block: int | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        """Recorded events, oldest first, filtered by contract, name (topic 0), any later
        topic and block range."""
        sql = ("SELECT e.tx_hash, e.idx, r.height, e.address, e.topics, e.data FROM events e "
               "JOIN receipts r ON r.tx_hash = e.tx_hash WHERE r.height >= ?")
        params: list[object] = [from_block]
        if to_block is not None:
            sql += " AND r.height <= ?"
            params.append(to_block)
        if address is not None:
            sql += " AND e.address = ?"
            params.append(address)
        if name is not None:
            sql += " AND e.name = ?"
            params.append(name)
        sql += " ORDER BY r.height, e.idx"
        out: list[EventRecord] = []
        for tx_hash, idx, height, addr, topics, data in self._db.execute(sql, params):
            split = tuple(topics[i : i + 32] for i in range(0, len(topics), 32))
            if topic is not None and topic not in split[1:]:
                continue  # topics are packed in one blob; match whole 32-byte words only
            out.append(EventRecord(tx_hash, idx, height, Event(addr, split, data)))
            if len(out) >= limit:
                break
        return out

    def counts(self) -> dict[str, int]:
        """Row counts per table: what tests compare to prove a failure changed nothing."""
        tables = ("accounts", "contracts", "names", "storage", "blocks", "receipts", "events")
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
