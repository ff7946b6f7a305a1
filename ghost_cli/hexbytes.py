"""Hex text to bytes, strictly: at the bottom of the layers, for every reader of hex."""

from __future__ import annotations


def from_hex_digits(text: str) -> bytes | None:
    """The bytes `text` spells as hex digit pairs and nothing else (no prefix, no spaces),
    or None. `bytes.fromhex` alone skips whitespace; a regular expression over every
    digit pair costs about 20 times as much on the kilobytes of a post-quantum signature
    or key, which every transaction a node receives carries."""
    if not text:
        return b""
    if not (text.isascii() and text.isalnum()):  # whitespace, punctuation, non-ASCII
        return None
    try:
        return bytes.fromhex(text)  # what remains: an odd count or a letter past f
    except ValueError:
        return None
