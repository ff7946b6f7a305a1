"""The sandbox's SQLite store: the rows a call reads, kept in memory between calls.

A warm sandbox call reads the same few rows every time: the contract's name and record,
the sender's nonce, the height, the contract's storage slots. `CachedSqliteStore` keeps
what it read (and what it wrote) in dictionaries, so a call reads none of them again.

A cached row is never stale:
  - this connection's own writes go through the cache (write-through);
  - a rollback (a failed transaction, the end of a `snapshot()`) drops every cache, as
    the state tree's node cache is dropped;
  - before a cached read, `PRAGMA data_version` tells whether another connection (a
    second process on the same file) has committed since; if so, every cache is dropped.
    Inside `pinned()` (one sandbox operation) it is asked once, at the first read: the
    operation then reads the state as of that moment.

Only the sandbox opens its store this way. A node keeps the plain SqliteStore: its commit
path writes rows through statements of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .records import ContractRecord
from .sqlite import SqliteStore

#: Storage slots kept; past this the slot cache starts again (a sandbox's working set is
#: far smaller).
SLOT_CACHE_ENTRIES = 100_000
_ABSENT = object()


class CachedSqliteStore(SqliteStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._contracts: dict[bytes, ContractRecord] = {}
        self._names: dict[str, bytes | None] = {}
        self._nonces: dict[bytes, int] = {}
        self._slots: dict[tuple[bytes, bytes], bytes | None] = {}
        self._height: int | None = None
        self._pins = 0  # depth of pinned() scopes
        self._checked = False  # data_version was asked in the current pinned() scope
        super().__init__(*args, **kwargs)

    # --- keeping the caches true ---------------------------------------------------------

    def _drop(self) -> None:
        self._contracts.clear()
        self._names.clear()
        self._nonces.clear()
        self._slots.clear()
        self._height = None

    def _forget_caches(self) -> None:
        super()._forget_caches()
        self._drop()

    def _ask(self) -> bool:
        changed = super()._ask()
        if changed:  # whoever asks (these reads, the tree's cache), every cache goes
            self._drop()
        return changed

    def _transaction_began(self) -> None:
        read_before = self._checked  # this operation read rows before its transaction
        if self._ask() and read_before:  # what it is about to write rests on rows now stale
            raise self._written_meanwhile()
        self._checked = self._pins > 0  # these reads need not ask again in this operation

    def _fresh(self) -> None:
        if not self._checked:
            self._changed_elsewhere()
            self._checked = self._pins > 0

    def pinned(self) -> _Pinned:
        """One operation: whether another connection committed is asked once, not per read."""
        return _Pinned(self)

    # --- reads -----------------------------------------------------------------------------

    def contract(self, address: bytes) -> ContractRecord:
        self._fresh()
        record = self._contracts.get(address)
        if record is None:
            record = self._contracts[address] = super().contract(address)
        return record

    def address_of(self, name: str) -> bytes | None:
        self._fresh()
        address = self._names.get(name, _ABSENT)
        if address is _ABSENT:
            address = self._names[name] = super().address_of(name)
        return address  # type: ignore[return-value]

    def nonce(self, address: bytes) -> int:
        self._fresh()
        nonce = self._nonces.get(address)
        if nonce is None:
            nonce = self._nonces[address] = super().nonce(address)
        return nonce

    def height(self) -> int:
        self._fresh()
        if self._height is None:
            self._height = super().height()
        return self._height

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        self._fresh()
        slot = (address, key)
        value = self._slots.get(slot, _ABSENT)
        if value is _ABSENT:
            if len(self._slots) >= SLOT_CACHE_ENTRIES:
                self._slots.clear()
            value = self._slots[slot] = super().storage_get(address, key)
        return value  # type: ignore[return-value]

    # --- writes: through the cache (a rollback drops it all) -------------------------------

    def set_nonce(self, address: bytes, nonce: int) -> None:
        super().set_nonce(address, nonce)
        self._nonces[address] = nonce

    def add_block(self, height: int, time: int, tx_hash: bytes) -> None:
        super().add_block(height, time, tx_hash)
        if self._height is not None:
            self._height = max(self._height, height)

    def set_name(self, name: str, address: bytes) -> None:
        super().set_name(name, address)
        self._names[name] = address

    def put_contract(self, rec: ContractRecord, code: bytes) -> None:
        super().put_contract(rec, code)
        self._contracts.pop(rec.address, None)

    def storage_apply(self, address: bytes, writes: dict[bytes, bytes | None], *,
                      height: int | None = None) -> None:
        super().storage_apply(address, writes, height=height)
        slots = self._slots
        if len(slots) + len(writes) >= SLOT_CACHE_ENTRIES:
            slots.clear()
        for key, value in writes.items():
            slots[(address, key)] = value

    def import_rows(self, table: str, rows: Iterable[tuple]) -> None:
        super().import_rows(table, rows)
        self._drop()


class _Pinned:
    """`CachedSqliteStore.pinned()`: a class, as cheap to enter as the sandbox call
    it wraps needs (a generator-based context manager costs several times as much)."""

    __slots__ = ("_store",)

    def __init__(self, store: CachedSqliteStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._pins += 1

    def __exit__(self, *_: object) -> None:
        store = self._store
        store._pins -= 1
        if not store._pins:
            store._checked = False
