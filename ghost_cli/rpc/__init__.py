"""JSON-RPC 2.0 for ghost nodes, sans-IO: the codec, the error table, the method table
and the dispatcher. Adapters own the sockets; this package only turns bytes into bytes."""

from .dispatcher import Dispatcher, Limits, Observer
from .errors import ALL_ERRORS, ErrorCode, error_object, exception_from
from .methods import METHODS, Context, Core

__all__ = [
    "ALL_ERRORS", "METHODS", "Context", "Core", "Dispatcher", "ErrorCode", "Limits",
    "Observer", "error_object", "exception_from",
]
