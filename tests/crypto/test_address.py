"""Addresses: derivation with domain separation, and the checksummed text form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ghost_cli import abi
from ghost_cli.crypto.address import (
    address_of_public_key,
    format_address,
    multisig_address,
    parse_address,
)
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.exceptions import ArgumentError, CryptoError

# EIP-55's published examples: the same checksum rule over keccak256 of the lower-case hex.
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("text", EIP55)
def test_checksum_matches_eip55(text):
    raw = parse_address(text)
    assert format_address(raw) == text
    assert parse_address(text.lower()) == raw
    assert parse_address("0x" + text[2:].upper()) == raw
    assert parse_address(text[2:]) == raw  # 0x is optional


@given(st.binary(min_size=20, max_size=20))
def test_checksum_is_eip55s_rule_for_any_address(raw):
    # EIP-55 as written: hex digit i of the address is upper case when it is a letter and
    # nibble i of keccak256(the lower-case hex) is 8 or more.
    lower = raw.hex()
    nibbles = keccak256(lower.encode()).hex()
    expected = "".join(c.upper() if c.isalpha() and int(nibbles[i], 16) >= 8 else c
                       for i, c in enumerate(lower))
    assert format_address(raw) == "0x" + expected
    assert format_address(raw) == "0x" + expected  # cached, the same
    assert parse_address("0x" + expected) == raw


def test_wrong_mixed_case_is_refused():
    text = EIP55[0]
    flipped = text[:3] + text[3].swapcase() + text[4:]
    with pytest.raises(CryptoError, match="address checksum mismatch"):
        parse_address(flipped)
    with pytest.raises(ArgumentError, match="address checksum mismatch"):
        abi.parse_address(flipped)  # the same check, as a bad command-line argument (exit 2)


@pytest.mark.parametrize("text", ["0x1234", "0x" + "g" * 40, "", "0x" + "ab" * 21])
def test_malformed_addresses(text):
    with pytest.raises(CryptoError, match="not an address"):
        parse_address(text)
    with pytest.raises(ArgumentError, match="not an address"):
        abi.parse_address(text)


def test_format_refuses_wrong_length():
    with pytest.raises(CryptoError, match="20 bytes"):
        format_address(b"\x01" * 19)


def test_abi_prints_checksummed_addresses():
    assert abi.format_address(bytes.fromhex(EIP55[1][2:])) == EIP55[1]


def test_key_address_is_domain_separated_keccak_of_the_encoded_key():
    encoded = bytes([16]) + bytes(range(32))
    assert address_of_public_key(encoded) == keccak256(b"ghost/address/v1" + encoded)[-20:]
    # The scheme id is part of the preimage: the same raw bytes under another scheme differ.
    assert address_of_public_key(bytes([17]) + bytes(range(32))) != address_of_public_key(encoded)
    assert multisig_address(encoded) != address_of_public_key(encoded)


def test_key_address_refuses_a_truncated_key():
    with pytest.raises(CryptoError, match="truncated"):
        address_of_public_key(b"\x10")


def test_from_hex():
    from ghost_cli.crypto.address import from_hex

    assert from_hex("0xAb01") == from_hex("ab01") == b"\xab\x01"
    for bad in ("0xzz", "abc", None, 12):
        with pytest.raises(ValueError):
            from_hex(bad)
