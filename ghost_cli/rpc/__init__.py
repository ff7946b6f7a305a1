"""JSON-RPC 2.0 for ghost nodes, sans-IO: the codec, the error table, the method table
and the dispatcher. Adapters own the sockets; this package only turns bytes into bytes.

The names below load on first use, so a module that needs only `rpc.limits` (node
configuration, on every `ghost` start) does not load the dispatcher and its method table."""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Dispatcher": "dispatcher", "Observer": "dispatcher", "Limits": "limits",
    "ALL_ERRORS": "errors", "ErrorCode": "errors", "error_object": "errors",
    "exception_from": "errors", "METHODS": "methods", "Context": "methods", "Core": "methods",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
