"""MLOAD, MSTORE, MSTORE8, MSIZE: big-endian words in byte-addressed memory."""

from __future__ import annotations

from ..interpreter import Frame


def mload(f: Frame) -> None:
    s = f.stack
    offset = s[-1]
    f.expand(offset, 32)
    s[-1] = int.from_bytes(f.memory[offset:offset + 32], "big")


def mstore(f: Frame) -> None:
    s = f.stack
    offset, value = s.pop(), s.pop()
    f.expand(offset, 32)
    f.memory[offset:offset + 32] = value.to_bytes(32, "big")


def mstore8(f: Frame) -> None:
    s = f.stack
    offset, value = s.pop(), s.pop()
    f.expand(offset, 1)
    f.memory[offset] = value & 0xFF


def msize(f: Frame) -> None:
    f.stack.append(len(f.memory))
