"""The wall-clock backstop: epoch ticks that interrupt a call running too long.

Gas is the real bound on a call; this only catches what gas cannot (a huge gas limit, a
host bug). One daemon thread per engine advances the engine's epoch every `tick` seconds while
calls run, and for a little while after (so a stream of calls never has to wake it);
an idle engine's thread sleeps until the next call. A store given `deadline_ticks`
traps with an interrupt that many ticks after it starts.
"""

from __future__ import annotations

import math
import threading
from types import TracebackType

import wasmtime

#: Ticks per timeout: the backstop fires between timeout and timeout * (1 + 1/TICKS).
TICKS = 10
#: Idle ticks before the thread sleeps until the next call.
IDLE_TICKS = 2 * TICKS


class EpochTicker:
    def __init__(self, engine: wasmtime.Engine, timeout_seconds: float) -> None:
        # Holds the wasmtime Engine only, never the WasmEngine, so the latter can be
        # collected (its finalizer closes us).
        self._engine = engine
        self._tick = timeout_seconds / TICKS
        # +1: the first tick may land just after the call starts, mid-way through a period.
        self.deadline_ticks = math.ceil(timeout_seconds / self._tick) + 1
        self._cond = threading.Condition()
        self._active = 0
        self._sleeping = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EpochTicker:
        with self._cond:
            self._active += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ghost-wasm-epoch", daemon=True)
                self._thread.start()
            elif self._sleeping:
                self._cond.notify()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._cond:
            self._active -= 1

    def _run(self) -> None:
        idle = 0
        with self._cond:
            while not self._closed:
                if self._active == 0 and idle >= IDLE_TICKS:
                    self._sleeping = True
                    self._cond.wait()
                    self._sleeping = False
                    idle = 0
                    continue
                # wait() rather than sleep() so close() is prompt.
                if not self._cond.wait(timeout=self._tick):
                    self._engine.increment_epoch()
                    idle = 0 if self._active else idle + 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
