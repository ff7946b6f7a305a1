"""SLH-DSA (FIPS 205), pure mode with an empty context, through pqcrypto.

Hash-based: security rests on SHA-256 alone, the conservative choice next to ML-DSA's
lattices. "s" sets sign slowly with small signatures, "f" sets sign fast with large ones.
pqcrypto generates keys only from its own randomness, so there is no seeded keygen; the
secret key is FIPS 205's SK.seed ‖ SK.prf ‖ PK.seed ‖ PK.root.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from pqcrypto.sign import slh_dsa_sha2_128f, slh_dsa_sha2_128s

from ...exceptions import CryptoError
from ._seed import check_secret


@dataclass(frozen=True)
class SlhDsa:
    id: int
    name: str
    public_key_size: int
    signature_size: int
    secret_key_size: int
    _lib: ModuleType

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        if seed is not None:
            raise CryptoError(f"{self.name} cannot derive keys from a seed (pqcrypto offers "
                              "only random keygen); omit the seed")
        public, secret = self._lib.keygen()
        return bytes(secret), bytes(public)

    def sign(self, secret_key: bytes, message: bytes) -> bytes:
        secret_key = check_secret(self.name, secret_key, self.secret_key_size)
        try:
            return bytes(self._lib.sign(secret_key, message))
        except ValueError as exc:
            raise CryptoError(f"{self.name} signing failed: {exc}") from exc

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            return False
        try:
            self._lib.verify(bytes(public_key), bytes(message), bytes(signature))
        except (ValueError, TypeError):  # pqcrypto.InvalidSignatureError is a ValueError
            return False
        return True


def _slh(id_: int, name: str, lib: ModuleType) -> SlhDsa:
    return SlhDsa(id_, name, lib.PUBLIC_KEY_SIZE, lib.SIGNATURE_SIZE, lib.SECRET_KEY_SIZE, lib)


SLH_DSA_SHA2_128S = _slh(4, "slh-dsa-sha2-128s", slh_dsa_sha2_128s)
SLH_DSA_SHA2_128F = _slh(5, "slh-dsa-sha2-128f", slh_dsa_sha2_128f)
