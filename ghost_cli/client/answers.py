"""Reading a node's answers: one that lacks the fields read, or holds values of the wrong
types, is reported as the caller's kind of error, never as a crash from deep inside."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from ..exceptions import GhostError

#: What reading a field of a malformed answer raises (a missing key, a wrong type, bad hex).
READ_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


@contextlib.contextmanager
def reading(error: type[GhostError], where: str, method: str) -> Iterator[None]:
    """Read fields of a node's answer to `method` inside: what a malformed one raises
    becomes `error`, naming the node (`where`) and the method. For code that awaits, where
    a decorator of the method cannot catch it."""
    try:
        yield
    except READ_ERRORS as exc:
        raise error(f"{where} answered {method} with a malformed result "
                    f"({type(exc).__name__}: {exc})") from None


def malformed_as(error: type[GhostError], where: Callable[[Any], str]):
    """Decorate a method that reads a node's answers: what a malformed one raises becomes
    `error`, naming the node (`where(self)`) and the method."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            with reading(error, where(self), method.__name__):
                return method(self, *args, **kwargs)
        return wrapper
    return decorate
