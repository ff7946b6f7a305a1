"""ADD..SIGNEXTEND: arithmetic mod 2^256; signed opcodes read words as two's complement."""

from __future__ import annotations

from ..interpreter import Frame
from ._words import MASK, signed

EXP_BYTE_GAS = 50


def add(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = (a + s[-1]) & MASK


def sub(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = (a - s[-1]) & MASK


def mul(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    s[-1] = (a * s[-1]) & MASK


def div(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    b = s[-1]
    s[-1] = a // b if b else 0


def sdiv(f: Frame) -> None:
    s = f.stack
    a, b = signed(s.pop()), signed(s[-1])
    if b == 0:
        s[-1] = 0
        return
    q = abs(a) // abs(b)  # truncates toward zero; MIN / -1 wraps back to MIN
    s[-1] = (-q if (a < 0) != (b < 0) else q) & MASK


def mod(f: Frame) -> None:
    s = f.stack
    a = s.pop()
    b = s[-1]
    s[-1] = a % b if b else 0


def smod(f: Frame) -> None:
    s = f.stack
    a, b = signed(s.pop()), signed(s[-1])
    if b == 0:
        s[-1] = 0
        return
    r = abs(a) % abs(b)  # the result takes the dividend's sign
    s[-1] = (-r if a < 0 else r) & MASK


def addmod(f: Frame) -> None:
    s = f.stack
    a, b, n = s.pop(), s.pop(), s[-1]
    s[-1] = (a + b) % n if n else 0  # exact: no wrap before the modulo


def mulmod(f: Frame) -> None:
    s = f.stack
    a, b, n = s.pop(), s.pop(), s[-1]
    s[-1] = (a * b) % n if n else 0


def exp(f: Frame) -> None:
    s = f.stack
    base, exponent = s.pop(), s[-1]
    f.charge(EXP_BYTE_GAS * ((exponent.bit_length() + 7) // 8))
    s[-1] = pow(base, exponent, 1 << 256)


def signextend(f: Frame) -> None:
    s = f.stack
    b, x = s.pop(), s[-1]
    if b < 31:
        bit = 8 * b + 7
        low = (1 << (bit + 1)) - 1
        s[-1] = (x | (MASK ^ low)) if (x >> bit) & 1 else (x & low)
