"""Every registered name, replayed from the registry's events (docs/names.md).

Each of the registry's events (`Registered`, `Updated`, `Transferred`) carries the whole
entry as it is after the change: u32 LE name length ‖ name ‖ owner ‖ target. Replaying
them in order leaves each name's current entry. The events are read in pages of the most
`ghost_getEvents` returns, so a registry with more events than one page lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import REGISTRY_ADDRESS, NameRecord

#: The most events one `ghost_getEvents` request may ask for (docs/rpc.md).
PAGE = 1000

#: `(address, from_block, limit)` -> events, oldest first, as `ghost_getEvents` answers.
EventReader = Callable[[bytes, int, int], list[dict[str, Any]]]


def registered_names(read: EventReader, *, page: int = PAGE) -> list[tuple[NameRecord, int]]:
    """Each name's current entry and the block that last changed it, sorted by name."""
    current: dict[str, tuple[NameRecord, int]] = {}
    seen: set[tuple[str, int]] = set()  # (tx_hash, index) of the events already replayed
    from_block = 0
    while True:
        events = read(REGISTRY_ADDRESS, from_block, page)
        for e in events:
            if (e["tx_hash"], e["index"]) in seen:
                continue
            seen.add((e["tx_hash"], e["index"]))
            record = _entry(bytes.fromhex(e["data"][2:]))
            current[record.name] = (record, e["block_height"])
        if len(events) < page:
            break
        # The next page starts at the last block read, in case it holds more events than
        # this page had room for; those already replayed are skipped above. A page that
        # is all one block cannot end inside it (one transaction per block, one event each).
        last = events[-1]["block_height"]
        from_block = last if last > from_block else last + 1
    return sorted(current.values(), key=lambda item: item[0].name)


def _entry(data: bytes) -> NameRecord:
    n = int.from_bytes(data[:4], "little")
    label = data[4:4 + n].decode()
    return NameRecord(label, owner=data[4 + n:24 + n], target=data[24 + n:44 + n],
                      code_hash=None)
