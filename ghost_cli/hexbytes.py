"""Hex text to bytes, strictly: at the bottom of the layers, for every reader of hex."""

from __future__ import annotations


def from_hex_digits(text: str) -> bytes | None:
    """The bytes `text` spells as hex digit pairs and nothing else (no prefix, no spaces),
    or None. `bytes.fromhex` alone skips whitespace, which shows as fewer bytes than
    half the characters. Both steps run in C: a regular expression over every digit
    pair (or `str.isalnum`) cost about 20 times as much on the kilobytes of hex of a
    post-quantum signature and key, which every transaction a node receives carries."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:  # an odd count, a letter past f, a non-ASCII character
        return None
    return raw if 2 * len(raw) == len(text) else None


def from_0x_hex(text: object, length: int | None = None) -> bytes | None:
    """`from_hex_digits` after a `0x` prefix, of exactly `length` bytes when given; None
    for anything else (a non-string included): the form of hashes, roots and values in
    JSON."""
    if not isinstance(text, str) or text[:2] != "0x":
        return None
    raw = from_hex_digits(text[2:])
    return raw if raw is not None and (length is None or len(raw) == length) else None
