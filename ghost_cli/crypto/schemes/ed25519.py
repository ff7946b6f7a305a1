"""Ed25519 (RFC 8032) through `cryptography`. The secret key is RFC 8032's 32-byte seed."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._seed import SEED_LEN, check_secret, check_seed


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
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


ED25519 = Ed25519()
