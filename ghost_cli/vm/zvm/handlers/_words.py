"""Word helpers shared by the handler families."""

from __future__ import annotations

MASK = (1 << 256) - 1
SIGN = 1 << 255
WORD = 1 << 256
ADDRESS_MASK = (1 << 160) - 1


def signed(x: int) -> int:
    return x - WORD if x & SIGN else x


def word_bytes(x: int) -> bytes:
    return x.to_bytes(32, "big")


def address_word(address: bytes) -> int:
    return int.from_bytes(address[-20:], "big")


def word_address(x: int) -> bytes:
    """The low 20 bytes of a word: an address."""
    return (x & ADDRESS_MASK).to_bytes(20, "big")


def words(size: int) -> int:
    return (size + 31) // 32
