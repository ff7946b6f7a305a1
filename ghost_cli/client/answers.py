"""Reading a node's answers: one that lacks the fields read, or holds values of the wrong
types, is reported as the caller's kind of error, never as a crash from deep inside."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..exceptions import GhostError

#: What reading a field of a malformed answer raises (a missing key, a wrong type, bad hex).
READ_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def malformed_as(error: type[GhostError], where: Callable[[Any], str]):
    """Decorate a method that reads a node's answers: what a malformed one raises becomes
    `error`, naming the node (`where(self)`) and the method."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except READ_ERRORS as exc:
                raise error(f"{where(self)} answered {method.__name__} with a malformed "
                            f"result ({type(exc).__name__}: {exc})") from None
        return wrapper
    return decorate
