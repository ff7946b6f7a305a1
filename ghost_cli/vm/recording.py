"""Which call-trace recorder (vm/trace.py's Recorder) is switched on, if any.

Apart from trace.py so that the engines, which look the recorder up on every run, do not
load the recorder and its frame types when nothing is traced (most runs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghost_cli.vm.trace import Recorder

_ACTIVE: ContextVar[Recorder | None] = ContextVar("ghost_trace", default=None)


def current_tracer() -> Recorder | None:
    """The recorder switched on for this thread or task, if any."""
    return _ACTIVE.get()


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    token = _ACTIVE.set(recorder)
    try:
        yield recorder
    finally:
        _ACTIVE.reset(token)
