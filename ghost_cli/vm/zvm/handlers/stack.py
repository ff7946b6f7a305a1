"""POP and the PUSHn, DUPn, SWAPn families (their handlers are made per n)."""

from __future__ import annotations

from collections.abc import Callable

from ghost_cli.exceptions import TruncatedImmediateError

from ..interpreter import Frame


def pop(f: Frame) -> None:
    f.stack.pop()


def push(n: int) -> Callable[[Frame], None]:
    def push_n(f: Frame) -> None:
        start = f.pc
        end = start + n
        code = f.code
        if end > len(code):
            raise TruncatedImmediateError(
                f"truncated PUSH{n} at pc {start - 1}: {len(code) - start} of {n} immediate "
                "bytes before the end of the code")
        f.stack.append(int.from_bytes(code[start:end], "big"))
        f.pc = end

    return push_n


def dup(n: int) -> Callable[[Frame], None]:
    def dup_n(f: Frame) -> None:
        s = f.stack
        s.append(s[-n])

    return dup_n


def swap(n: int) -> Callable[[Frame], None]:
    other = -1 - n

    def swap_n(f: Frame) -> None:
        s = f.stack
        s[-1], s[other] = s[other], s[-1]

    return swap_n
