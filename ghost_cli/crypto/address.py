"""Addresses: 20 bytes derived from a public key or a multi-sig descriptor, printed as
0x + 40 hex digits whose letter case is a checksum (EIP-55's rule, over ghost's keccak).

    key address       keccak256(b"ghost/address/v1" ‖ scheme id ‖ raw public key)[-20:]
    multi-sig account keccak256(b"ghost/multisig/v1" ‖ MultisigAccount.to_bytes())[-20:]

The domain prefixes keep the two kinds (and contract addresses) from ever colliding.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..exceptions import CryptoError
from .hashing import ADDRESS_LEN, keccak256

ADDRESS_DOMAIN = b"ghost/address/v1"
MULTISIG_DOMAIN = b"ghost/multisig/v1"

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")


def from_hex(value: object) -> bytes:
    """Bytes from hex text, `0x` optional; ValueError otherwise (callers name the field)."""
    if not isinstance(value, str):
        raise ValueError(f"expected hex text, got {type(value).__name__}")
    return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)


def address_of_public_key(encoded_public_key: bytes) -> bytes:
    """The address of a key, from its encoded public key (scheme id ‖ raw)."""
    from .scheme import Encoded  # printing an address (most commands) needs no key type

    Encoded.from_bytes(encoded_public_key, "public key")  # refuses empty or id-only keys
    return keccak256(ADDRESS_DOMAIN + encoded_public_key)[-ADDRESS_LEN:]


def multisig_address(descriptor: bytes) -> bytes:
    """The address of a multi-sig account from its canonical bytes (MultisigAccount.to_bytes)."""
    return keccak256(MULTISIG_DOMAIN + descriptor)[-ADDRESS_LEN:]


@lru_cache(maxsize=4096)
def _checksummed(lower_hex: str) -> str:
    # EIP-55: a letter is upper case where the matching nibble of keccak256(lower hex) >= 8
    # (a digit's upper case is itself; of the digest's 64 nibbles the first 40 count).
    # Cached: a node prints the same few addresses (its contracts, its busy senders) in
    # every receipt, a hash and 40 steps each time.
    digest = keccak256(lower_hex.encode("ascii")).hex()
    return "".join(c.upper() if d in "89abcdef" else c
                   for c, d in zip(lower_hex, digest, strict=False))


def format_address(raw: bytes) -> str:
    """0x + 40 hex digits with the checksum in their case."""
    if len(raw) != ADDRESS_LEN:
        raise CryptoError(f"an address is {ADDRESS_LEN} bytes, got {len(raw)}")
    return "0x" + _checksummed(bytes(raw).hex())


def parse_address(text: str) -> bytes:
    """Accept 40 hex digits (0x optional) in one case, or in the checksum's mixed case."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if not _HEX40.fullmatch(digits):
        raise CryptoError(f"not an address (0x + {2 * ADDRESS_LEN} hex digits): {text!r}")
    # All one case carries no checksum (hand-typed or from tools that lower-case).
    if digits not in (digits.lower(), digits.upper()) and _checksummed(digits.lower()) != digits:
        raise CryptoError(f"address checksum mismatch: {text!r}")
    return bytes.fromhex(digits)
