"""Checks shared by the scheme modules."""

from __future__ import annotations

from ...exceptions import CryptoError

SEED_LEN = 32


def check_seed(name: str, seed: bytes) -> bytes:
    """A keygen seed is exactly 32 bytes: shorter ones are guessable, longer ones a mistake."""
    if len(seed) != SEED_LEN:
        raise CryptoError(f"{name} keygen seed must be {SEED_LEN} bytes, got {len(seed)}")
    return bytes(seed)


def check_secret(name: str, secret_key: bytes, size: int) -> bytes:
    if len(secret_key) != size:
        raise CryptoError(
            f"malformed {name} secret key: expected {size} bytes, got {len(secret_key)}")
    return bytes(secret_key)
