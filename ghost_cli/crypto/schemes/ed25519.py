"""Ed25519 (RFC 8032) through `cryptography`. The secret key is RFC 8032's 32-byte seed.

verify() is stricter than RFC 8032 in one way, as libsodium is: it rejects public keys of
small order and non-canonical encodings. A small-order key has no secret behind it, and
for it some signatures (all zeros, say) verify on a quarter of all messages; on a chain,
whatever such a key's address held would be anyone's. keygen never makes such keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._seed import SEED_LEN, check_secret, check_seed

_P = 2**255 - 19
# y of the eight points whose order divides 8 (x's sign bit aside): the identity (1), order
# 2 (p-1), order 4 (0) and order 8 (these two); the same list as libsodium's.
_SMALL_ORDER_Y = frozenset([0, 1, _P - 1] + [int.from_bytes(bytes.fromhex(h), "little") for h in (
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")])


def _acceptable_key(public_key: bytes) -> bool:
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    return y < _P and y not in _SMALL_ORDER_Y


@dataclass(frozen=True)
class Ed25519:
    id: int = 16
    name: str = "ed25519"
    public_key_size: int = 32
    signature_size: int = 64
    secret_key_size: int = SEED_LEN

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        seed = os.urandom(SEED_LEN) if seed is None else check_seed(self.name, seed)
        return seed, Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()

    def sign(self, secret_key: bytes, message: bytes) -> bytes:
        secret_key = check_secret(self.name, secret_key, SEED_LEN)
        return Ed25519PrivateKey.from_private_bytes(secret_key).sign(message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            return False
        if not _acceptable_key(public_key):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


ED25519 = Ed25519()
