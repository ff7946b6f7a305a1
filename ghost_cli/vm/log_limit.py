"""debug_log's bound: at most gas.MAX_LOG_BYTES of messages kept per call.

Logs end up in receipts, so what one call may leave there is capped, not only priced.
Messages are kept whole while they fit, the one that crosses the limit is cut, the rest
are dropped, and the logs then end with one line (gas.LOG_TRUNCATED) saying how many
bytes were left out. Sizes are UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from .gas import LOG_TRUNCATED, MAX_LOG_BYTES


class LogBuffer:
    """A call's debug log, filled as the call runs."""

    __slots__ = ("_kept", "_limit", "_messages", "dropped")

    def __init__(self, limit: int = MAX_LOG_BYTES) -> None:
        self._messages: list[str] = []
        self._kept = 0
        self._limit = limit
        self.dropped = 0

    def add(self, message: str) -> None:
        raw = message.encode("utf-8")
        room = self._limit - self._kept
        if len(raw) <= room:
            self._messages.append(message)
            self._kept += len(raw)
            return
        if room > 0:
            self._messages.append(raw[:room].decode("utf-8", errors="ignore"))
            self._kept = self._limit
        self.dropped += len(raw) - max(room, 0)

    def logs(self) -> tuple[str, ...]:
        if not self.dropped:
            return tuple(self._messages)
        note = LOG_TRUNCATED.format(dropped=self.dropped, limit=self._limit)
        return (*self._messages, note)


def cap_logs(logs: Iterable[str], limit: int = MAX_LOG_BYTES) -> tuple[str, ...]:
    """`logs` as a LogBuffer would have kept them; already-capped logs come back as is."""
    logs = tuple(logs)
    if logs and logs[-1].startswith(LOG_TRUNCATED.split("{", 1)[0]):
        return logs
    buffer = LogBuffer(limit)
    for message in logs:
        buffer.add(message)
    return buffer.logs()
