"""Structured logs: one JSON object per line, to a file or stderr.

Only named fields are written, so secrets cannot slip in through a record: a node never
logs passphrases, keys or transaction bodies. Keys in REDACTED are dropped even if a
caller passes them, as a second line of defence.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from .core import Executed

#: Field names that never reach a log line.
REDACTED = frozenset({"passphrase", "password", "secret", "secret_key", "seed", "body", "tx",
                      "params", "auth", "signature", "module"})


class NodeLog:
    def __init__(self, stream: IO[str], *, clock: Callable[[], float] = time.time) -> None:
        self.stream = stream
        self.clock = clock
        self._lock = threading.Lock()  # lines from many threads never interleave

    def write(self, event: str, **fields: Any) -> None:
        record = {"ts": round(self.clock(), 6), "event": event}
        record.update({k: _plain(v) for k, v in fields.items() if k not in REDACTED})
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            self.stream.write(line)
            self.stream.flush()

    # --- core observer -----------------------------------------------------------------

    def executed(self, e: Executed) -> None:
        self.write("tx", hash=e.tx_hash, sender=e.sender, kind=e.kind, contract=e.contract,
                   gas=e.gas_used, status=e.status, latency_ms=round(e.seconds * 1000, 3),
                   height=e.height)

    # --- dispatcher observer -----------------------------------------------------------

    def request(self, method: str, error: str | None, seconds: float) -> None:
        pass  # per-request volume belongs in metrics; failures are logged by rejected()

    def rejected(self, reason: str, *, peer: str, method: str | None, code: str) -> None:
        self.write("rejected", reason=reason, code=code, peer=peer, method=method)

    def internal_error(self, method: str, exc: BaseException) -> None:
        where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        self.write("internal_error", method=method, error=type(exc).__name__,
                   message=" ".join(str(exc).split()),
                   at=f"{where[0].filename}:{where[0].lineno}" if where else None)

    # --- transports --------------------------------------------------------------------

    def connection(self, transport: str, peer: str, state: str, **fields: Any) -> None:
        """state: "open" | "closed" (the QUIC adapter adds e.g. alpn, reason)."""
        self.write("connection", transport=transport, peer=peer, state=state, **fields)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value
