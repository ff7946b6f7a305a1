"""ML-DSA (FIPS 204), pure mode with an empty context, through `cryptography` (OpenSSL).

The secret key is the 32-byte seed ξ of FIPS 204 (its own allowed private-key form):
compact for keystores, and `keygen(seed)` is deterministic. Signatures are byte-for-byte
FIPS 204, so pqcrypto and other implementations verify them (tests/crypto check that).
ghost does its domain separation inside the signed hash, hence no FIPS 204 context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import mldsa

from ...exceptions import CryptoError
from ._seed import SEED_LEN, check_secret, check_seed


@dataclass(frozen=True)
class MlDsa:
    id: int
    name: str
    public_key_size: int
    signature_size: int
    _private: Any  # cryptography's MLDSA{44,65,87}PrivateKey class
    _public: Any
    secret_key_size: int = SEED_LEN

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        seed = os.urandom(SEED_LEN) if seed is None else check_seed(self.name, seed)
        key = self._load(seed)
        return seed, key.public_key().public_bytes_raw()

    def sign(self, secret_key: bytes, message: bytes) -> bytes:
        key = _expanded(self, bytes(check_secret(self.name, secret_key, SEED_LEN)))
        return key.sign(message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            return False
        try:
            self._public.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return False
        return True

    def _load(self, seed: bytes):
        try:
            return self._private.from_seed_bytes(seed)
        except UnsupportedAlgorithm as exc:  # a `cryptography` built without OpenSSL ML-DSA
            raise CryptoError(f"{self.name} is not supported by this build of cryptography: "
                              f"{exc}") from exc


@lru_cache(maxsize=16)
def _expanded(scheme: MlDsa, seed: bytes):
    """The expanded private key of a seed, kept for the keys this process signs with:
    expanding costs about a sixth of a signature, and the seed is in memory anyway."""
    return scheme._load(seed)


ML_DSA_44 = MlDsa(1, "ml-dsa-44", 1312, 2420, mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey)
ML_DSA_65 = MlDsa(2, "ml-dsa-65", 1952, 3309, mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey)
ML_DSA_87 = MlDsa(3, "ml-dsa-87", 2592, 4627, mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey)
