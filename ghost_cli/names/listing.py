"""Every registered name, replayed from the registry's events (docs/names.md).

Each of the registry's events (`Registered`, `Updated`, `Transferred`) carries the whole
entry as it is after the change: u32 LE name length ‖ name ‖ owner ‖ target. Replaying
them in order leaves each name's current entry. The events are read in pages of the most
`ghost_getEvents` returns, so a registry with more events than one page lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import GhostError, NodeUnavailableError
from . import REGISTRY_ADDRESS, NameRecord, is_label

#: The most events one `ghost_getEvents` request may ask for (docs/rpc.md).
PAGE = 1000

#: `(address, from_block, limit)` -> events, oldest first, as `ghost_getEvents` answers.
EventReader = Callable[[bytes, int, int], list[dict[str, Any]]]
#: What reading a malformed event raises (a missing key, a wrong type, bad hex or UTF-8).
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, GhostError)


def registered_names(read: EventReader, *, page: int = PAGE) -> list[tuple[NameRecord, int]]:
    """Each name's current entry and the block that last changed it, sorted by name.
    Events that are not the registry's (a malformed answer) are NodeUnavailableError."""
    current: dict[str, tuple[NameRecord, int]] = {}
    seen: set[tuple[str, int]] = set()  # (tx_hash, index) of the events already replayed
    from_block = 0
    while True:
        events = read(REGISTRY_ADDRESS, from_block, page)
        last = from_block
        for e in events:
            record, height, key = _event(e, from_block)
            last = max(last, height)
            if key in seen:
                continue
            seen.add(key)
            current[record.name] = (record, height)
        if len(events) < page:
            break
        # The next page starts at the last block read, in case it holds more events than
        # this page had room for; those already replayed are skipped above. A page that
        # is all one block cannot end inside it (one transaction per block, one event each),
        # so the next one starts past it: every page moves on, whatever the node answers.
        from_block = last if last > from_block else from_block + 1
    return sorted(current.values(), key=lambda item: item[0].name)


def _event(e: dict[str, Any], from_block: int) -> tuple[NameRecord, int, tuple[str, int]]:
    """One registry event: its entry, block height and identity; NodeUnavailableError
    when it is not what the registry writes or lies before the block asked from."""
    try:
        height, key = e["block_height"], (e["tx_hash"], e["index"])
        if not isinstance(height, int) or height < from_block:
            raise ValueError(f"block_height {height!r} is not at or after {from_block}")
        hash(key)
        return _entry(bytes.fromhex(e["data"][2:])), height, key
    except _MALFORMED as exc:
        raise NodeUnavailableError(f"the node's events of the names registry are malformed "
                                   f"({type(exc).__name__}: {exc})") from None


def _entry(data: bytes) -> NameRecord:
    """u32 LE name length ‖ name ‖ owner ‖ target, exactly; the name a valid label."""
    n = int.from_bytes(data[:4], "little")
    if len(data) != 4 + n + 40:
        raise ValueError(f"an entry of {len(data)} bytes for a {n}-byte name")
    label = data[4:4 + n].decode()
    if not is_label(label):  # as stored: "x.ghost" is no label the registry can hold
        raise ValueError(f"{label!r} is not a name the registry can hold")
    return NameRecord(label, owner=data[4 + n:24 + n], target=data[24 + n:44 + n],
                      code_hash=None)
