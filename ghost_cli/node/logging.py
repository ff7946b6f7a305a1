"""Structured logs: one JSON object per line, to a file or stderr.

Only named fields are written, so secrets cannot slip in through a record: a node never
logs passphrases, keys or transaction bodies. Keys in REDACTED are dropped even if a
caller passes them, as a second line of defence.

What the libraries under the transports report (uvicorn, aioquic, grpcio, asyncio's
unhandled exceptions) arrives through Python's logging and the event loop's exception
handler; `capture` turns both into `library_error` lines here instead of tracebacks on
stderr. A task cancelled (uvicorn cuts the requests still running when the node's stop
grace is over) is how the node stops, not a library's error: no line.

`finish` writes the last line (`node_stopped`): nothing is written after it, whatever a
library or a thread still reports while the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, Protocol

from .core import Executed

#: Field names that never reach a log line.
REDACTED = frozenset({"passphrase", "password", "secret", "secret_key", "seed", "body", "tx",
                      "params", "auth", "signature", "module"})


#: Lines a stranger can cause at no cost (a junk request, a connection, a library's
#: complaint about one): per event, a burst of this many, refilled at this many a second.
#: Past it lines are counted, not written, and one `suppressed` line says how many.
#: A `tx` line of a recorded transaction is not limited: its sender paid gas for it. One
#: its checks refused (a replay, a wrong chain, a bad signature) cost nothing: the
#: `tx` budget holds those alone.
LINE_BUDGETS: dict[str, tuple[int, float]] = {
    "tx": (500, 100.0),
    "rejected": (500, 100.0),
    "connection": (500, 100.0),
    "library_error": (200, 20.0),
    "internal_error": (200, 20.0),
    # one per commit or tick while the store refuses checkpoints
    "checkpoint_failed": (200, 20.0),
}

#: A log file is rolled over to FILE.1 (replacing the older one) past this size, so
#: a node's log never holds more than twice this on disk.
LOG_FILE_MAX_BYTES = 64 * 1024 * 1024


class LineSink(Protocol):
    """Where lines go: stderr, a LogFile, a StringIO in tests."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class NodeLog:
    def __init__(self, stream: LineSink, *, clock: Callable[[], float] = time.time,
                 budgets: dict[str, tuple[int, float]] = LINE_BUDGETS) -> None:
        self.stream = stream
        self.clock = clock
        self._lock = threading.Lock()  # lines from many threads never interleave
        self._budgets = {event: _Bucket(*b) for event, b in budgets.items()}
        self.finished = False  # the last line is written: no more

    def write(self, event: str, **fields: Any) -> None:
        self._write(event, fields, budgeted=True)

    def _write(self, event: str, fields: dict[str, Any], *, budgeted: bool) -> None:
        now = self.clock()
        suppressed = ""
        bucket = self._budgets.get(event) if budgeted else None
        if bucket is not None:  # decided before the line is built: a dropped one costs little
            with self._lock:
                if self.finished or not bucket.take(now):
                    return
                if bucket.dropped:
                    suppressed = self._suppressed(event, bucket, now)
        line = self._line(now, event, fields)
        with self._lock:
            if self.finished:
                return
            self.stream.write(suppressed + line)
            self.stream.flush()

    def finish(self, event: str, **fields: Any) -> None:
        """Write the last line (`node_stopped`), after the `suppressed` counts still
        unreported; every write after it is dropped."""
        self.flush_suppressed()
        line = self._line(self.clock(), event, fields)
        with self._lock:
            if self.finished:
                return
            self.finished = True
            self.stream.write(line)
            self.stream.flush()

    @staticmethod
    def _line(now: float, event: str, fields: dict[str, Any]) -> str:
        record = {"ts": round(now, 6), "event": event}
        record.update({k: _plain(v) for k, v in fields.items() if k not in REDACTED})
        return json.dumps(record, separators=(",", ":"), default=str) + "\n"

    def flush_suppressed(self) -> None:
        """One `suppressed` line per event that has lines counted but not yet reported."""
        with self._lock:
            if self.finished:
                return
            now = self.clock()
            lines = "".join(self._suppressed(event, b, now)
                            for event, b in self._budgets.items() if b.dropped)
            if lines:
                self.stream.write(lines)
                self.stream.flush()

    @staticmethod
    def _suppressed(event: str, bucket: _Bucket, now: float) -> str:
        dropped, bucket.dropped = bucket.dropped, 0
        return json.dumps({"ts": round(now, 6), "event": "suppressed", "of": event,
                           "lines": dropped}, separators=(",", ":")) + "\n"

    # --- core observer -----------------------------------------------------------------

    def executed(self, e: Executed) -> None:
        self._write("tx", {"hash": e.tx_hash, "sender": e.sender, "kind": e.kind,
                           "contract": e.contract, "gas": e.gas_used, "status": e.status,
                           "latency_ms": round(e.seconds * 1000, 3), "height": e.height},
                    budgeted=not e.recorded)

    def checkpoint_failed(self, exc: BaseException) -> None:
        self.write("checkpoint_failed", code=getattr(exc, "code", None),
                   message=_one_line(str(exc)))

    # --- dispatcher observer -----------------------------------------------------------

    def request(self, method: str, error: str | None, seconds: float) -> None:
        pass  # per-request volume belongs in metrics; failures are logged by rejected()

    def rejected(self, reason: str, *, peer: str, method: str | None, code: str) -> None:
        self.write("rejected", reason=reason, code=code, peer=peer, method=method)

    def internal_error(self, method: str, exc: BaseException) -> None:
        where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        self.write("internal_error", method=method, error=type(exc).__name__,
                   message=_one_line(str(exc)),
                   at=f"{where[0].filename}:{where[0].lineno}" if where else None)

    # --- transports --------------------------------------------------------------------

    def connection(self, transport: str, peer: str, state: str, **fields: Any) -> None:
        """state: "open", "closed", or why the node ended it: "refused" (over the cap),
        "evicted" (made room at the cap), "timeout" (no whole request in time)."""
        self.write("connection", transport=transport, peer=peer, state=state, **fields)

    # --- libraries -----------------------------------------------------------------------

    @contextlib.contextmanager
    def capture(self, loop: asyncio.AbstractEventLoop | None = None):
        """While serving: library warnings and errors, and exceptions nothing awaited,
        become JSON lines."""
        handler = _JsonHandler(self)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(min(old_level or logging.WARNING, logging.WARNING))
        old_handler = loop.get_exception_handler() if loop else None
        if loop is not None:
            loop.set_exception_handler(self._loop_error)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            if loop is not None:
                loop.set_exception_handler(old_handler)

    def library_error(self, source: str, message: str, exc: BaseException | None,
                      level: str = "error") -> None:
        fields: dict[str, Any] = {"source": source, "level": level,
                                  "message": _one_line(message)}
        if exc is not None:
            fields.update(_where(exc))
        self.write("library_error", **fields)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return  # the node stopping (module docstring): no library's error
        self.library_error("asyncio", str(context.get("message", "")), exc)


class _Bucket:
    """A token bucket: `burst` lines at once, `rate` more each second."""

    __slots__ = ("burst", "rate", "tokens", "last", "dropped")

    def __init__(self, burst: int, rate: float) -> None:
        self.burst, self.rate = burst, rate
        self.tokens, self.last, self.dropped = float(burst), None, 0

    def take(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.dropped += 1
        return False


class LogFile:
    """The node's `--log-file`: rolled over by the standard library's RotatingFileHandler
    past LOG_FILE_MAX_BYTES (one older file kept), so junk traffic cannot fill the disk.
    A line that cannot be written (a full disk) is lost, never an error in the node."""

    def __init__(self, path: Path, max_bytes: int = LOG_FILE_MAX_BYTES) -> None:
        self._handler = _QuietRotatingFile(path, maxBytes=max_bytes, backupCount=1,
                                           encoding="utf-8")
        self._handler.terminator = ""  # lines arrive with their newline

    def write(self, text: str) -> None:
        self._handler.emit(logging.makeLogRecord({"msg": text}))

    def flush(self) -> None:
        pass  # every write is flushed by the handler

    def close(self) -> None:
        self._handler.close()


class _QuietRotatingFile(RotatingFileHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        pass  # no traceback on stderr for a line the disk would not take


class _JsonHandler(logging.Handler):
    def __init__(self, log: NodeLog) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc = record.exc_info[1] if record.exc_info else None
            if isinstance(exc, asyncio.CancelledError) or _stop_grace_over(record):
                return  # the node stopping (module docstring): no library's error
            self.log.library_error(record.name, record.getMessage(), exc,
                                   record.levelname.lower())
        except Exception:  # a log line must never take the node down
            self.handleError(record)


#: uvicorn's report that its graceful shutdown (the node's stop grace) ran out and it
#: cancelled the requests still running: its logger and message format.
_GRACE_OVER = ("uvicorn.error", "Cancel %s running task(s), timeout graceful shutdown exceeded")


def _stop_grace_over(record: logging.LogRecord) -> bool:
    return (record.name, record.msg) == _GRACE_OVER


def _where(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    return {"error": type(exc).__name__, "error_message": _one_line(str(exc)),
            "at": f"{frames[0].filename}:{frames[0].lineno}" if frames else None}


#: Characters of a message quoted in a log line: an exception's text may carry request
#: input, and a line must not grow with it.
MAX_MESSAGE = 1000


def _one_line(text: str) -> str:
    return " ".join(text[:4 * MAX_MESSAGE].split())[:MAX_MESSAGE]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value
