"""Comparison and bitwise: LT..SAR."""

from __future__ import annotations

from ..interpreter import Frame
from ._words import MASK, signed


def lt(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = 1 if a < s[-1] else 0


def gt(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = 1 if a > s[-1] else 0


def slt(f: Frame) -> None:
    s = f.stack
    a = signed(s.pop())
    s[-1] = 1 if a < signed(s[-1]) else 0


def sgt(f: Frame) -> None:
    s = f.stack
    a = signed(s.pop())
    s[-1] = 1 if a > signed(s[-1]) else 0


def eq(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = 1 if a == s[-1] else 0


def iszero(f: Frame) -> None:
    s = f.stack
    s[-1] = 0 if s[-1] else 1


def and_(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] &= a


def or_(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] |= a


def xor(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] ^= a


def not_(f: Frame) -> None:
    s = f.stack
    s[-1] ^= MASK


def byte(f: Frame) -> None:
    s = f.stack
    i = s.pop()
    s[-1] = (s[-1] >> (248 - 8 * i)) & 0xFF if i < 32 else 0


def shl(f: Frame) -> None:
    s = f.stack
    shift = s.pop()
    s[-1] = (s[-1] << shift) & MASK if shift < 256 else 0


def shr(f: Frame) -> None:
    s = f.stack
    shift = s.pop()
    s[-1] = s[-1] >> shift if shift < 256 else 0


def sar(f: Frame) -> None:
    s = f.stack
    shift = s.pop()
    # Python's >> on a negative int floors: exactly an arithmetic shift.
    s[-1] = (signed(s[-1]) >> min(shift, 256)) & MASK
