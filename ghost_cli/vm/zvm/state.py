"""The journaled state of one ZVM transaction: storage, transient storage, warm slots,
events, debug logs, the gas refund counter, creators' nonces and the contracts created.

Every change appends an undo record to one journal; a frame takes a `snapshot()` when it
starts and, if it reverts or fails, `revert(snapshot)` undoes exactly what it and its
sub-frames did. Committed storage is only read (through per-address readers), never
written: the writes, nonces and new contracts leave as the result of the successful run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ghost_cli.vm.types import Event, StorageReader

if TYPE_CHECKING:
    from .interpreter import Code

_MISSING = object()  # "no overlay entry": distinct from None, which means deleted


@dataclass(frozen=True)
class Snapshot:
    journal: int
    events: int
    logs: int
    refund: int


@dataclass(frozen=True)
class Created:
    """A contract CREATE or CREATE2 made in this transaction."""

    address: bytes
    stored: bytes  # the ZVMC container the chain will store
    code: Code  # its runnable code section
    metadata: dict[str, Any]
    deployer: bytes


class TxState:
    def __init__(self, reader_for: Callable[[bytes], StorageReader]) -> None:
        self._reader_for = reader_for
        self._readers: dict[bytes, StorageReader] = {}
        self._committed: dict[tuple[bytes, bytes], bytes | None] = {}
        self.overlay: dict[bytes, dict[bytes, bytes | None]] = {}  # address -> key -> value
        self.transient: dict[tuple[bytes, int], int] = {}
        self.warm: set[tuple[bytes, bytes]] = set()
        self.events: list[Event] = []
        self.logs: list[str] = []
        self.refund = 0
        self.nonces: dict[bytes, int] = {}  # creators' nonces as changed in this transaction
        self.created: dict[bytes, Created] = {}  # in creation order
        self.destroyed: set[bytes] = set()  # SELFDESTRUCTed (matters for created ones only)
        self._journal: list[tuple] = []

    # ---- snapshots ---------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(len(self._journal), len(self.events), len(self.logs), self.refund)

    def revert(self, snap: Snapshot) -> None:
        journal = self._journal
        while len(journal) > snap.journal:
            kind, a, b, prev = journal.pop()
            if kind == "s":
                slots = self.overlay[a]
                if prev is _MISSING:
                    del slots[b]
                else:
                    slots[b] = prev
            elif kind == "t":
                if prev is _MISSING:
                    del self.transient[(a, b)]
                else:
                    self.transient[(a, b)] = prev
            elif kind == "w":  # a slot became warm
                self.warm.discard((a, b))
            elif kind == "n":
                if prev is _MISSING:
                    del self.nonces[a]
                else:
                    self.nonces[a] = prev
            elif kind == "c":
                del self.created[a]
            else:  # "d": a SELFDESTRUCT
                self.destroyed.discard(a)
        del self.events[snap.events:]
        del self.logs[snap.logs:]
        self.refund = snap.refund

    # ---- storage -----------------------------------------------------------------------

    def committed(self, address: bytes, key: bytes) -> bytes | None:
        """The value before this transaction (cached: committed state cannot change)."""
        slot = (address, key)
        if slot in self._committed:
            return self._committed[slot]
        reader = self._readers.get(address)
        if reader is None:
            reader = self._readers[address] = self._reader_for(address)
        value = reader(key)
        value = None if value is None else bytes(value)
        self._committed[slot] = value
        return value

    def get(self, address: bytes, key: bytes) -> bytes | None:
        slots = self.overlay.get(address)
        if slots is not None and key in slots:
            return slots[key]
        return self.committed(address, key)

    def set(self, address: bytes, key: bytes, value: bytes | None) -> None:
        slots = self.overlay.setdefault(address, {})
        self._journal.append(("s", address, key, slots.get(key, _MISSING)))
        slots[key] = value

    def warm_up(self, address: bytes, key: bytes) -> bool:
        """Mark a slot accessed; True when it already was (warm)."""
        slot = (address, key)
        if slot in self.warm:
            return True
        self.warm.add(slot)
        self._journal.append(("w", address, key, None))
        return False

    # ---- transient storage -------------------------------------------------------------

    def tget(self, address: bytes, key: int) -> int:
        return self.transient.get((address, key), 0)

    def tset(self, address: bytes, key: int, value: int) -> None:
        self._journal.append(("t", address, key, self.transient.get((address, key), _MISSING)))
        self.transient[(address, key)] = value

    # ---- accounts and contracts -------------------------------------------------------

    def set_nonce(self, address: bytes, nonce: int) -> None:
        self._journal.append(("n", address, None, self.nonces.get(address, _MISSING)))
        self.nonces[address] = nonce

    def create(self, contract: Created) -> None:
        self._journal.append(("c", contract.address, None, None))
        self.created[contract.address] = contract

    def destroy(self, address: bytes) -> None:
        if address not in self.destroyed:
            self._journal.append(("d", address, None, None))
            self.destroyed.add(address)

    # ---- refunds, events, logs ---------------------------------------------------------

    def add_refund(self, amount: int) -> None:
        self.refund += amount  # restored from the snapshot when a frame reverts
