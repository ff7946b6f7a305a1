"""The queries every SQL backend shares: contracts, storage, nonces, blocks, receipts,
events, checkpoints and the state tree's rows.

Statements are written once with `?` placeholders and portable SQL (ON CONFLICT upserts);
a backend supplies the connection handling (`_rows`, `_exec`, `_exec_many`, the
transaction context managers) and its schema.

An authenticated store (a node) also keeps the state tree (state_tree.py) in the same
database: `storage_apply` updates storage and tree rows in one transaction, so a failed
transaction rolls both back and `state_root()` always matches storage. An unauthenticated
store (the sandbox, for speed) skips the tree and marks it stale; opening the store
authenticated later rebuilds it from storage in one O(n) pass.

State history. An authenticated store also logs, in the same transaction, every tree node
and storage value a block changes, keyed by that block's height (`state_nodes_log`,
`storage_log`; a NULL records a removal). The state after block h is then the latest
logged row at or below h for each position, so `state_root_at`, `prove_at` and
`storage_get_at` answer for any height from `history_from` (the height when logging
began: the first authenticated open, or the last rebuild, copies the tree there) to
the latest. This is what lets a fork (chain/fork.py) pin a height while the node moves on.
With a window (`history_blocks`), rows no height in the window needs are deleted as
blocks are written, so the log holds at most a tenth more than the window's heights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from ...crypto.address import format_address
from ...crypto.hashing import keccak256
from ...exceptions import (
    HeightUnavailableError,
    NotFoundError,
    RequestTooLargeError,
    StateError,
)
from ...vm.host_calls import MAX_TOPICS
from ...vm.types import Event
from .records import COUNTED, TABLES, ContractRecord, EventRecord, ReceiptRecord

if TYPE_CHECKING:
    # Imported where used: a store without its state tree (the sandbox) never needs the
    # tree, its proofs or checkpoints, and a one-shot command should not load them.
    from ...crypto.proof import Proof
    from ..checkpoint import Checkpoint
    from ..state_tree import Changes, Node, SparseMerkleTree, StateTree

#: meta row present while state_nodes matches storage (version of the tree's rules)
TREE_META = "state_tree"
TREE_VERSION = "smt-shortcut-keccak-v1"
#: meta row: the first height whose state the history can show (absent: no history)
HISTORY_META = "history_from"
#: Said to any JSON-RPC client: no path or database URL in it.
NO_HISTORY = "this state database keeps no state history (--no-state-history)"
#: With a history window of N blocks, the log is pruned once it spans N + N/10 heights
#: (at least one more than N): a prune scans the log, so it runs once per tenth of the
#: window, not once per block.
PRUNE_SLACK_FRACTION = 10
#: Modules kept in memory by hash (SqlStore.code), so a warm call reads no code row.
CODE_CACHE_ENTRIES = 64


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: undecodable bytes from a command line
        return False
    return True


class SqlNodes:
    """The tree's nodes in the `state_nodes` table, with a write-through cache of the
    nodes read and written. The cache must never outlive what it mirrors: the store calls
    `forget()` when it rolls back, and `sync()` asks the store whether anyone else has
    committed since (when so, the store calls `forget()` too)."""

    def __init__(self, store: SqlStore, cache_limit: int = 200_000) -> None:
        self._store = store
        self._cache: dict[tuple[int, bytes], Node | None] = {}
        self._limit = cache_limit

    def sync(self) -> None:
        self._store._changed_elsewhere()  # when so, the store calls forget()

    def forget(self) -> None:
        self._cache.clear()

    def get(self, depth: int, prefix: bytes) -> Node | None:
        pos = (depth, prefix)
        try:
            return self._cache[pos]
        except KeyError:
            pass
        from ..state_tree import Node

        row = self._store._one(
            "SELECT kind, a, b FROM state_nodes WHERE depth = ? AND prefix = ?", pos)
        node = None if row is None else Node(row[0], bytes(row[1]), bytes(row[2]))
        if len(self._cache) >= self._limit:
            self._cache.clear()  # crude but bounded; the hot top levels refill at once
        self._cache[pos] = node
        return node

    def apply(self, changes: Changes) -> None:
        # two statements for the whole update; an upsert rewrites the row in place
        self.put_many([(*pos, *node) for pos, node in changes.items() if node is not None])
        gone = [pos for pos, node in changes.items() if node is None]
        if gone:
            self._store._exec_many(
                "DELETE FROM state_nodes WHERE depth = ? AND prefix = ?", gone)
        if len(self._cache) + len(changes) >= self._limit:
            self._cache.clear()
        self._cache.update(changes)
        height = self._store._log_height
        if height is not None:  # state history: the same rows, as of this block
            self._store._exec_many(
                "INSERT INTO state_nodes_log VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (depth, prefix, height) DO UPDATE SET kind = excluded.kind, "
                "a = excluded.a, b = excluded.b",
                [(d, p, height, *(node if node is not None else (None, None, None)))
                 for (d, p), node in changes.items()])

    def put_many(self, rows: Sequence[tuple[int, bytes, int, bytes, bytes]]) -> None:
        if rows:
            self._store._exec_many(
                "INSERT INTO state_nodes VALUES (?, ?, ?, ?, ?) ON CONFLICT (depth, prefix) "
                "DO UPDATE SET kind = excluded.kind, a = excluded.a, b = excluded.b", rows)

    def clear(self) -> None:
        self._store._exec("DELETE FROM state_nodes")
        self._cache.clear()

    def count(self) -> int:
        return self._store._one("SELECT COUNT(*) FROM state_nodes")[0]


class LoggedNodes:
    """The tree's nodes as they were after block `height`, read from `state_nodes_log`:
    for proofs and roots at a past height. Read-only."""

    def __init__(self, store: SqlStore, height: int) -> None:
        self._store = store
        self._height = height

    def get(self, depth: int, prefix: bytes) -> Node | None:
        row = self._store._one(
            "SELECT kind, a, b FROM state_nodes_log WHERE depth = ? AND prefix = ? "
            "AND height <= ? ORDER BY height DESC LIMIT 1", (depth, prefix, self._height))
        if row is None or row[0] is None:
            return None
        from ..state_tree import Node

        return Node(row[0], bytes(row[1]), bytes(row[2]))

    def apply(self, changes: Changes) -> None:
        raise StateError("the state at a past height cannot be changed")

    def sync(self) -> None:
        pass


class SqlStore:
    """The shared queries; subclasses provide the connection and the schema."""

    backend = "sql"
    location = ""
    #: while an authenticated storage_apply runs: the height its block will have
    _log_height: int | None = None
    history_blocks: int | None = None
    _history_start: int | None = None
    #: no other connection can reach this store (SQLite in memory)
    _private = False
    #: what this connection last wrote stays so until it sees another connection's
    #: commit: no other connection can reach the store, or every transaction asks first
    #: thing, inside it (SQLite)
    _sees_other_writers = False

    # --- what a backend provides -----------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def _exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _changed_elsewhere(self) -> bool:
        """Has another connection committed since this one's caches were filled?"""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def read(self) -> AbstractContextManager[None]:
        return self.transaction()

    def _atomic(self) -> AbstractContextManager[None]:
        """All or nothing for one method's few statements. Inside a transaction() already,
        that transaction makes them so (an error leaving this method leaves it too, and it
        rolls back), and a savepoint of their own would only cost two more statements."""
        return nullcontext() if self._depth else self.transaction()

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()

    def checkpoint_lock(self) -> AbstractContextManager[bool]:
        return nullcontext(True)

    def schema_version(self) -> int:
        raise NotImplementedError

    # --- shared plumbing -------------------------------------------------------------

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _init_tree(self, authenticated: bool, history: bool = True,
                   history_blocks: int | None = None) -> None:
        # Nesting depth of transaction(): savepoints are named by it, so the same few
        # statement texts recur and stay in the connection's prepared-statement cache (a
        # fresh name per savepoint is parsed and planned anew every time).
        self._depth = 0
        # The tree's meta rows are known to be absent (only ever True on a store that
        # sees other writers); any rollback, write or import of them, or another
        # connection's commit, resets it.
        self._tree_meta_gone = False
        self.tree: StateTree | None = None
        self.authenticated = authenticated
        #: log the state history; every process writing one store must agree
        self.keep_history = authenticated and history
        #: keep the state of this many latest blocks (None: every block since history_from)
        self.history_blocks = history_blocks if self.keep_history and history_blocks else None
        self._history_start: int | None = None  # history_from as last read here
        if authenticated:
            from ..state_tree import StateTree

            self.tree = StateTree(SqlNodes(self))
            self._sync_tree()

    def _sync_tree(self) -> None:
        """Rebuild the tree from storage unless the meta row says it is current (and start
        the state history if it has none)."""
        if self.meta_get(TREE_META) == TREE_VERSION:
            if (self.meta_get(HISTORY_META) is None) == self.keep_history:
                with self.exclusive(), self.transaction():
                    if (self.meta_get(HISTORY_META) is None) == self.keep_history:
                        self._restart_history()
            return  # the usual case, without taking the writers' lock
        with self.exclusive():
            row = self._one("SELECT value FROM meta WHERE key = ?", (TREE_META,))
            if row is not None and row[0] == TREE_VERSION:
                return
            assert self.tree is not None
            from ...crypto.proof import state_path

            with self.transaction():
                self.tree.rebuild({
                    state_path(bytes(address), bytes(key)): keccak256(bytes(value))
                    for address, key, value in self._rows(
                        "SELECT address, key, value FROM storage")
                })
                self.meta_set(TREE_META, TREE_VERSION)
                self._restart_history()

    def _restart_history(self) -> None:
        """Start the state history at the current height: a copy of the tree and storage
        as they are (the log of a rebuilt tree would not match it). Without history:
        drop it."""
        height = self.height()
        self._history_start = None
        self._exec("DELETE FROM state_nodes_log")
        self._exec("DELETE FROM storage_log")
        if not self.keep_history:
            self._exec("DELETE FROM meta WHERE key = ?", (HISTORY_META,))
            return
        self._exec("INSERT INTO state_nodes_log SELECT depth, prefix, CAST(? AS BIGINT), "
                   "kind, a, b FROM state_nodes", (height,))
        self._exec("INSERT INTO storage_log SELECT address, key, CAST(? AS BIGINT), value "
                   "FROM storage", (height,))
        self.meta_set(HISTORY_META, str(height))

    def _forget_caches(self) -> None:
        self._history_start = None  # a prune may have been undone
        self._tree_meta_gone = False  # the rows' removal may have been undone
        if self.tree is not None:
            self.tree.nodes.forget()  # its cache may hold rows that were just undone

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run a block, then put every table back exactly as it was."""
        with self.transaction():
            name = f"snap{self._depth}"
            self._exec(f"SAVEPOINT {name}")
            try:
                yield
            finally:
                self._exec(f"ROLLBACK TO SAVEPOINT {name}")
                self._exec(f"RELEASE SAVEPOINT {name}")
                self._forget_caches()

    # --- meta and blocks -------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def meta_set(self, key: str, value: str) -> None:
        if key in (TREE_META, HISTORY_META):
            self._tree_meta_gone = False
        self._exec("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) "
                   "DO UPDATE SET value = excluded.value", (key, value))

    def height(self) -> int:
        row = self._one("SELECT MAX(height) FROM blocks")
        return row[0] or 0

    def add_block(self, height: int, time: int, tx_hash: bytes) -> None:
        self._exec("INSERT INTO blocks VALUES (?, ?, ?)", (height, time, tx_hash))

    def block_time(self, height: int) -> int | None:
        row = self._one("SELECT time FROM blocks WHERE height = ?", (height,))
        return row[0] if row else None

    # --- accounts ---------------------------------------------------------------------

    def nonce(self, address: bytes) -> int:
        row = self._one("SELECT nonce FROM accounts WHERE address = ?", (address,))
        return row[0] if row else 0

    def set_nonce(self, address: bytes, nonce: int) -> None:
        self._exec(
            "INSERT INTO accounts VALUES (?, ?) ON CONFLICT (address) DO UPDATE SET nonce = ?",
            (address, nonce, nonce),
        )

    # --- contracts --------------------------------------------------------------------

    def put_contract(self, rec: ContractRecord, code: bytes) -> None:
        with self._atomic():
            self._exec("INSERT INTO code VALUES (?, ?) ON CONFLICT DO NOTHING",
                       (rec.code_hash, code))
            self._exec(
                "INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?)",
                (rec.address, rec.code_hash, json.dumps(rec.abi), json.dumps(rec.metadata),
                 rec.deployer, rec.height),
            )

    def set_name(self, name: str, address: bytes) -> None:
        self._exec(
            "INSERT INTO names VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET address = ?",
            (name, address, address),
        )

    def names(self) -> dict[str, bytes]:
        return {n: bytes(a) for n, a in self._rows("SELECT name, address FROM names ORDER BY name")}

    def name_of(self, address: bytes) -> str | None:
        """The first (alphabetically) name registered for `address`, if any."""
        row = self._one(
            "SELECT name FROM names WHERE address = ? ORDER BY name LIMIT 1", (address,))
        return row[0] if row else None

    def address_of(self, name: str) -> bytes | None:
        if not name.isascii() and not _utf8(name):
            return None  # no name stored is text that UTF-8 cannot encode
        row = self._one("SELECT address FROM names WHERE name = ?", (name,))
        return bytes(row[0]) if row else None

    def contract(self, address: bytes) -> ContractRecord:
        row = self._one(
            "SELECT address, code_hash, abi, metadata, deployer, height FROM contracts "
            "WHERE address = ?", (address,),
        )
        if row is None:
            raise NotFoundError(f"no contract at {format_address(address)}")
        address, code_hash, abi, metadata, deployer, height = row
        return ContractRecord(bytes(address), bytes(code_hash), json.loads(abi),
                              json.loads(metadata), bytes(deployer), height)

    def code(self, code_hash: bytes) -> bytes:
        # Code is addressed by its hash, so a copy kept here can never be stale, whichever
        # node of a shared database wrote it.
        cache: dict[bytes, bytes] = self.__dict__.setdefault("_code_cache", {})
        code = cache.get(code_hash)
        if code is not None:
            return code
        row = self._one("SELECT code FROM code WHERE hash = ?", (code_hash,))
        if row is None:
            raise StateError(f"code 0x{code_hash.hex()} missing from the state database")
        if len(cache) >= CODE_CACHE_ENTRIES:
            cache.clear()
        code = cache[code_hash] = bytes(row[0])
        return code

    # --- contract storage -------------------------------------------------------------

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        row = self._one(
            "SELECT value FROM storage WHERE address = ? AND key = ?", (address, key))
        return bytes(row[0]) if row else None

    def storage_apply(self, address: bytes, writes: dict[bytes, bytes | None], *,
                      height: int | None = None) -> None:
        if self.tree is not None:
            with self._atomic():  # storage and tree rows: both or neither
                self._storage_write(address, writes)
                if not self.keep_history:
                    for key, value in writes.items():
                        self.tree.update(address, key, value)
                    return
                # the block these writes belong to: the executor says; else the next one
                self._log_height = height = self.height() + 1 if height is None else height
                try:
                    for key, value in writes.items():
                        self.tree.update(address, key, value)
                finally:
                    self._log_height = None
                self._exec_many(
                    "INSERT INTO storage_log VALUES (?, ?, ?, ?) ON CONFLICT "
                    "(address, key, height) DO UPDATE SET value = excluded.value",
                    [(address, key, height, value) for key, value in writes.items()])
                self._prune_for(height)
        elif writes:
            with self._atomic():
                self._storage_write(address, writes)
                # the tree (and its history) no longer match storage; an authenticated
                # open rebuilds it and starts the history afresh
                if not self._tree_meta_gone:
                    self._exec("DELETE FROM meta WHERE key IN (?, ?)", (TREE_META, HISTORY_META))
                    # They stay gone until another process rebuilds the tree: a store
                    # that cannot tell must remove them on every write.
                    self._tree_meta_gone = self._sees_other_writers

    def _storage_write(self, address: bytes, writes: dict[bytes, bytes | None]) -> None:
        gone = [(address, key) for key, value in writes.items() if value is None]
        kept = [(address, key, value) for key, value in writes.items() if value is not None]
        if gone:
            self._exec_many("DELETE FROM storage WHERE address = ? AND key = ?", gone)
        if kept:
            self._exec_many(
                "INSERT INTO storage VALUES (?, ?, ?) "
                "ON CONFLICT (address, key) DO UPDATE SET value = excluded.value", kept)

    def storage_keys(self) -> int:
        """Storage slots across all contracts (one COUNT: it reads the whole table)."""
        return self._one("SELECT COUNT(*) FROM storage")[0]

    def storage_items(self, address: bytes) -> list[tuple[bytes, bytes]]:
        return [(bytes(k), bytes(v)) for k, v in self._rows(
            "SELECT key, value FROM storage WHERE address = ? ORDER BY key", (address,))]

    # --- state root, proofs and checkpoints ---------------------------------------------

    def _authenticated(self) -> StateTree:
        if self.tree is None:
            raise StateError(
                f"state database {self.location} is open without its state tree; "
                "open it with open_store(..., authenticated=True)"
            )
        return self.tree

    def state_root(self) -> bytes:
        """The root of the state tree over every contract's storage (proof.py's rules)."""
        tree = self._authenticated()
        with self.read():
            return tree.root()

    def prove(self, address: bytes, key: bytes) -> Proof:
        """Proof that `key` of `address` holds its current value, or is absent, under
        `state_root()`; check it with proof.verify_proof."""
        tree = self._authenticated()
        with self.read():
            return tree.prove(address, key)

    # --- state history: the state after a past block ----------------------------------

    def history_from(self) -> int | None:
        """The first height whose state this store can show; None: it keeps no history."""
        value = self.meta_get(HISTORY_META) if self.tree is not None else None
        return None if value is None else int(value)

    def prune_history(self, keep_from: int) -> None:
        """Forget the state of the blocks before `keep_from` (at most the latest height):
        delete every log row that no height from `keep_from` on reads, and move
        `history_from` there. Heights from `keep_from` on answer exactly as before; earlier
        ones are then `height_unavailable`. Never moves `history_from` back."""
        self._authenticated()
        self._prune(keep_from, None)

    def _prune(self, keep_from: int, latest: int | None) -> None:
        """`latest`: the block being written, when it is not recorded yet."""
        with self.transaction():
            start = self.history_from()
            if start is None:
                raise HeightUnavailableError(NO_HISTORY)
            keep_from = min(keep_from, max(self.height(), latest or 0))
            if keep_from <= start:
                return
            # A row below keep_from is still read by heights from keep_from on only if it
            # is its position's latest row at or below keep_from, and holds a value: a
            # removal read as the latest row means the same as no row at all.
            for table, position, value in (("storage_log", ("address", "key"), "value"),
                                           ("state_nodes_log", ("depth", "prefix"), "kind")):
                same = " AND ".join(f"newer.{c} = {table}.{c}" for c in position)
                self._exec(
                    f"DELETE FROM {table} WHERE height < ? AND EXISTS (SELECT 1 FROM {table} "
                    f"AS newer WHERE {same} AND newer.height > {table}.height "
                    "AND newer.height <= ?)", (keep_from, keep_from))
                self._exec(f"DELETE FROM {table} WHERE height < ? AND {value} IS NULL",
                           (keep_from,))
            self.meta_set(HISTORY_META, str(keep_from))
        self._history_start = keep_from

    def _prune_for(self, height: int) -> None:
        """Called as block `height` is logged: prune once the log spans its window plus
        the slack (PRUNE_SLACK_FRACTION), back to exactly the window."""
        window = self.history_blocks
        if window is None:
            return
        start = self._history_start
        if start is None:
            start = self._history_start = self.history_from() or 0
        if height - start + 1 >= window + max(1, window // PRUNE_SLACK_FRACTION):
            self._prune(height - window + 1, height)

    def _history_at(self, height: int) -> SparseMerkleTree:
        from ..state_tree import SparseMerkleTree

        self._authenticated()
        start, latest = self.history_from(), self.height()
        if height > latest:  # first: with or without history, say how far the chain is
            raise HeightUnavailableError(
                f"height {height} is past the latest block ({latest})", latest=latest)
        if start is None:
            raise HeightUnavailableError(NO_HISTORY)
        if height < start:
            raise HeightUnavailableError(
                f"state history starts at height {start}; {height} is before it",
                history_from=start)
        return SparseMerkleTree(LoggedNodes(self, height))

    def state_root_at(self, height: int) -> bytes:
        """The state root as it was after block `height` (HeightUnavailableError when
        this store cannot show that height)."""
        with self.read():
            return self._history_at(height).root()

    def prove_at(self, address: bytes, key: bytes, height: int) -> Proof:
        """Proof of `key`'s value (or absence) under `state_root_at(height)`."""
        with self.read():
            return self._history_at(height).prove(address, key)

    def storage_get_at(self, address: bytes, key: bytes, height: int) -> bytes | None:
        """The value `key` of `address` held after block `height`."""
        with self.read():
            self._history_at(height)
            row = self._one(
                "SELECT value FROM storage_log WHERE address = ? AND key = ? AND height <= ? "
                "ORDER BY height DESC LIMIT 1", (address, key, height))
        return None if row is None or row[0] is None else bytes(row[0])

    def put_checkpoint(self, cp: Checkpoint) -> None:
        self._exec(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)",
            (cp.height, cp.state_root, cp.receipts_root, cp.tx_count, cp.first_height,
             cp.time_ms),
        )

    def checkpoint(self, height: int | None = None) -> Checkpoint:
        """The latest checkpoint, or the one at `height`."""
        cols = "height, state_root, receipts_root, tx_count, first_height, time"
        if height is None:
            row = self._one(f"SELECT {cols} FROM checkpoints ORDER BY height DESC LIMIT 1")
        else:
            row = self._one(f"SELECT {cols} FROM checkpoints WHERE height = ?", (height,))
        if row is None:
            raise NotFoundError("no checkpoint yet" if height is None
                                else f"no checkpoint at height {height}")
        from ..checkpoint import Checkpoint

        h, state_root, receipts_root, *rest = row
        return Checkpoint(h, bytes(state_root), bytes(receipts_root), *rest)

    def checkpoint_covering(self, height: int) -> Checkpoint:
        """The checkpoint whose range holds block `height`."""
        row = self._one(
            "SELECT height FROM checkpoints WHERE height >= ? AND first_height <= ? "
            "ORDER BY height LIMIT 1", (height, height),
        )
        if row is None:
            raise NotFoundError(f"block {height} is not in a checkpoint yet")
        return self.checkpoint(row[0])

    def tx_hashes(self, first_height: int, last_height: int) -> list[bytes]:
        """Hashes of the transactions recorded in blocks first..last, in height order."""
        return [bytes(h) for (h,) in self._rows(
            "SELECT tx_hash FROM receipts WHERE height BETWEEN ? AND ? ORDER BY height, tx_hash",
            (first_height, last_height),
        )]

    # --- receipts and events ----------------------------------------------------------

    def put_receipt(self, rec: ReceiptRecord) -> None:
        with self._atomic():
            self._exec(
                "INSERT INTO receipts (tx_hash, height, kind, sender, target, function, "
                "gas_used, return_data, logs, status, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.tx_hash, rec.height, rec.kind, rec.sender, rec.target, rec.function,
                 rec.gas_used, rec.return_data,
                 json.dumps(list(rec.logs)) if rec.logs else "[]", rec.status,
                 None if rec.error is None else json.dumps(rec.error)),
            )
            if rec.events:
                self._exec_many(
                    "INSERT INTO events (tx_hash, idx, address, name, topics, data, height) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(rec.tx_hash, i, e.address, e.name, b"".join(e.topics), e.data,
                      rec.height) for i, e in enumerate(rec.events)],
                )

    def receipt(self, tx_hash: bytes, *, max_event_bytes: int | None = None) -> ReceiptRecord:
        """`max_event_bytes`: when the transaction's events hold more bytes of data and
        topics than that, RequestTooLargeError, found from their lengths before any event
        is read (a transaction may emit thousands)."""
        with self.read():
            row = self._one(
                "SELECT tx_hash, height, kind, sender, target, function, gas_used, "
                "return_data, logs, status, error FROM receipts WHERE tx_hash = ?",
                (tx_hash,),
            )
            if row is None:
                raise NotFoundError(f"no receipt for transaction 0x{tx_hash.hex()}")
            if max_event_bytes is not None:
                count, held = self._one(
                    "SELECT COUNT(*), COALESCE(SUM(length(data) + length(topics)), 0) "
                    "FROM events WHERE tx_hash = ?", (tx_hash,))
                if held > max_event_bytes:
                    raise RequestTooLargeError(
                        f"this receipt's {count} events hold {held} bytes of data and "
                        f"topics, over the limit of {max_event_bytes} one reply carries: "
                        f"read them with ghost_getEvents (from_block and to_block {row[1]}, "
                        "after_index to page)", limit=max_event_bytes)
            events = tuple(
                Event(bytes(addr), _split(bytes(topics)), bytes(data))
                for addr, topics, data in self._rows(
                    "SELECT address, topics, data FROM events WHERE tx_hash = ? ORDER BY idx",
                    (tx_hash,),
                )
            )
        (h, height, kind, sender, target, function, gas_used, return_data, logs, status,
         error) = row
        return ReceiptRecord(bytes(h), height, kind, bytes(sender), bytes(target), function,
                             gas_used, bytes(return_data), tuple(json.loads(logs)), events,
                             status, None if error is None else json.loads(error))

    def events(
        self,
        *,
        address: bytes | None = None,
        name: str | None = None,
        topic: bytes | None = None,
        from_block: int = 0,
        to_block: int | None = None,
        after_index: int | None = None,
        limit: int = 100,
        max_bytes: int | None = None,
    ) -> list[EventRecord]:
        """Recorded events, oldest first, filtered by contract, name (topic 0), any later
        topic and block range: at most `limit` of them.

        Every filter and the limit are in the SQL, and an index gives the events in
        block order (events_by_address_name, events_by_address, events_by_name,
        events_by_height), so the database stops after `limit` matching rows: a reply
        never loads, sorts or decodes the other events stored, however many there are.
        A `topic` is matched on the rows that index gives. `after_index`: only
        events after that index in block `from_block` (and any in later blocks), so a
        reader pages through a block of any number of events, `limit` at a time.

        `max_bytes`: when the events found hold more bytes of data and topics than that,
        RequestTooLargeError, found from the rows' lengths before any of them is read."""
        if after_index is None:
            sql = " FROM events e WHERE e.height >= ?"
            params: list[object] = [from_block]
        else:  # a row value: the index seeks straight to it
            sql = " FROM events e WHERE (e.height, e.idx) > (?, ?)"
            params = [from_block, after_index]
        if to_block is not None:
            sql += " AND e.height <= ?"
            params.append(to_block)
        if address is not None:
            sql += " AND e.address = ?"
            params.append(address)
        if name is not None:
            sql += " AND e.name = ?"
            params.append(name)
        if topic is not None:
            # topics are packed in one blob: match whole 32-byte words after the name only
            sql += " AND (" + " OR ".join(
                f"substr(e.topics, {32 * i + 1}, 32) = ?" for i in range(1, MAX_TOPICS)) + ")"
            params.extend([topic] * (MAX_TOPICS - 1))
        sql += " ORDER BY e.height, e.idx LIMIT ?"  # a block records one transaction
        params.append(limit)
        with self.read():  # both statements in one snapshot
            if max_bytes is not None:
                held = sum(n for (n,) in self._rows(
                    "SELECT length(e.data) + length(e.topics)" + sql, params))
                if held > max_bytes:
                    raise RequestTooLargeError(
                        f"these events hold {held} bytes of data and topics, over the "
                        f"limit of {max_bytes} one reply carries: ask for fewer (limit) or "
                        "a narrower block range", limit=max_bytes)
            rows = self._rows(
                "SELECT e.tx_hash, e.idx, e.height, e.address, e.topics, e.data" + sql, params)
        return [EventRecord(bytes(tx_hash), idx, height,
                            Event(bytes(addr), _split(bytes(topics)), bytes(data)))
                for tx_hash, idx, height, addr, topics, data in rows]

    # --- whole-store ------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Row counts per table: what tests compare to prove a failure changed nothing."""
        with self.read():
            return {t: self._one(f"SELECT COUNT(*) FROM {t}")[0] for t in COUNTED}

    def export_rows(self, table: str) -> Iterator[tuple]:
        """Every row of `table` (one of records.TABLES), in key order."""
        cols = TABLES[table]
        for row in self._rows(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2"):
            yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)

    def import_rows(self, table: str, rows: Iterable[tuple]) -> None:
        """Insert rows into `table` (one of records.TABLES), replacing rows with the same key."""
        if table == "meta":  # the tree's meta rows may be among them (see meta_set)
            self._tree_meta_gone = False
        cols = TABLES[table]
        marks = ", ".join("?" * len(cols))
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                self._exec_many(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",
                                batch)
                batch.clear()
        if batch:
            self._exec_many(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", batch)


def _split(topics: bytes) -> tuple[bytes, ...]:
    return tuple(topics[i : i + 32] for i in range(0, len(topics), 32))
