"""Strict hex: digit pairs only, as every reader of hex in ghost takes them."""

import pytest

from ghost_cli.hexbytes import from_hex_digits


@pytest.mark.parametrize("text, expected", [
    ("", b""), ("00ff", b"\x00\xff"), ("DeadBEEF", b"\xde\xad\xbe\xef"),
    ("abc", None),  # odd
    ("0x00", None),  # a prefix is the caller's to strip
    ("00 ff", None), ("00ff\n", None), ("\t00", None),  # whitespace bytes.fromhex skips
    ("zz", None), ("٠٠", None), ("ab²", None),  # not hex, non-ASCII digits
])
def test_only_hex_digit_pairs_are_bytes(text, expected):
    assert from_hex_digits(text) == expected
