"""The seam through which `ghost test --coverage` watches contracts run.

A collector (ghost_cli/testing/coverage.py) is switched on for a test session with
`collecting(collector)`; the engines ask `active()` once per execution and, when there is
one, hand it the run: the WebAssembly engine runs the module the collector gives back (a
probed copy, vm/wasm/coverage.py) and the ZVM engine adds the collector's step hook.
With no collector the engines pay one global read per execution and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# A plain global rather than a context variable: the test session's calls may run on any
# thread (a sandbox worker), and every one of them is covered.
_ACTIVE: Any = None


def active() -> Any:
    """The collector switched on, if any."""
    return _ACTIVE


@contextmanager
def collecting(collector: Any) -> Iterator[Any]:
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, collector
    try:
        yield collector
    finally:
        _ACTIVE = previous
