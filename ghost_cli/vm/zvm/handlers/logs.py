"""LOG0..LOG4: events whose topics are stack words; data copied out of memory now."""

from __future__ import annotations

from collections.abc import Callable

from ghost_cli.vm.types import Event

from ..interpreter import Frame
from .storage import require_writable

LOG_BYTE_GAS = 8


def log(n: int) -> Callable[[Frame], None]:
    def log_n(f: Frame) -> None:
        require_writable(f, f"LOG{n}")
        s = f.stack
        offset, size = s.pop(), s.pop()
        topics = tuple(s.pop().to_bytes(32, "big") for _ in range(n))
        # a copy (later MSTOREs do not change the event); the memory limit before gas
        data = f.mread(offset, size, LOG_BYTE_GAS * size)
        f.state.events.append(Event(f.msg.address, topics, data))

    return log_n
