"""HALT, NOP, JUMP, JUMPI, PC, JUMPDEST, RETURN, REVERT, SELFDESTRUCT."""

from __future__ import annotations

from ghost_cli.exceptions import InvalidJumpError, RevertError, TrapError

from ..interpreter import STOP, Frame
from .storage import require_writable


def halt(f: Frame) -> object:
    return STOP


def nop(f: Frame) -> None:
    return None


def jumpdest(f: Frame) -> None:
    return None


def _jump_to(f: Frame, dest: int) -> None:
    if dest not in f.msg.code.jumpdests:
        raise InvalidJumpError(
            f"invalid jump at pc {f.pc - 1}: destination {dest} is not a JUMPDEST")
    f.pc = dest


def jump(f: Frame) -> None:
    _jump_to(f, f.stack.pop())


def jumpi(f: Frame) -> None:
    s = f.stack
    dest = s.pop()
    if s.pop():
        _jump_to(f, dest)


def pc(f: Frame) -> None:
    f.stack.append(f.pc - 1)


def _output(f: Frame, what: str) -> bytes:
    s = f.stack
    offset, size = s.pop(), s.pop()
    limit = f.tx.limits.max_return_bytes
    if size > limit:
        raise TrapError(f"{what} data of {size} bytes exceeds the {limit}-byte limit")
    return f.mread(offset, size)


def return_(f: Frame) -> object:
    f.output = _output(f, "RETURN")
    return STOP


def revert(f: Frame) -> None:
    data = _output(f, "REVERT")
    f.output = data
    raise RevertError(data.decode("utf-8", errors="replace"))


def selfdestruct(f: Frame) -> object:
    # EIP-6780: only a contract created in this same transaction is deleted (the engine
    # drops it, with its storage, when the transaction ends); ghost has no native
    # balances, so nothing is sent to the recipient.
    require_writable(f, "SELFDESTRUCT")
    f.stack.pop()  # the recipient: nothing to send it
    f.state.destroy(f.msg.address)
    return STOP
