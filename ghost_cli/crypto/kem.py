"""Public-key encryption: ML-KEM-768 (FIPS 203) to agree a key, ChaCha20-Poly1305 to seal.

    blob = b"GHX1" ‖ kem id (1 byte) ‖ KEM ciphertext ‖ nonce (12) ‖ AEAD ciphertext+tag
    key  = HKDF-SHA256(shared secret, salt=none, info=b"ghost/kem-aead/v1" ‖ KEM ciphertext)
    AEAD associated data = b"GHX1" ‖ kem id ‖ the caller's `associated`

The KEM ciphertext's length follows from the kem id, so the blob needs no length fields.
Binding the KEM ciphertext into the key and the header into the AEAD means no byte of the
blob can change without decryption failing. ML-KEM runs on `cryptography` (OpenSSL), like
ML-DSA: its secret key is FIPS 203's 64-byte seed d ‖ z, so `keygen(seed)` is deterministic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..exceptions import CryptoError

MAGIC = b"GHX1"
HKDF_INFO = b"ghost/kem-aead/v1"
NONCE_LEN = 12
TAG_LEN = 16


@dataclass(frozen=True)
class MlKem:
    id: int
    name: str
    public_key_size: int
    ciphertext_size: int
    _private: Any  # cryptography's MLKEM{768,1024}PrivateKey class
    _public: Any
    secret_key_size: int = 64  # the seed d ‖ z
    shared_secret_size: int = 32

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        """(secret key, public key); with a 64-byte `seed`, deterministic."""
        if seed is None:
            seed = os.urandom(self.secret_key_size)
        elif len(seed) != self.secret_key_size:
            raise CryptoError(f"{self.name} keygen seed must be {self.secret_key_size} bytes, "
                              f"got {len(seed)}")
        return bytes(seed), self._secret(seed).public_key().public_bytes_raw()

    def encaps(self, public_key: bytes) -> tuple[bytes, bytes]:
        """(KEM ciphertext, shared secret) for the holder of `public_key`."""
        try:
            key = self._public.from_public_bytes(bytes(public_key))
        except ValueError as exc:
            raise CryptoError(f"malformed {self.name} public key ({len(public_key)} bytes): "
                              f"{exc}") from exc
        except UnsupportedAlgorithm as exc:
            raise CryptoError(f"{self.name} is not supported by this build of cryptography")\
                from exc
        shared, ciphertext = key.encapsulate()
        return ciphertext, shared

    def decaps(self, secret_key: bytes, ciphertext: bytes) -> bytes:
        """The shared secret. A tampered ciphertext yields an unrelated secret (FIPS 203's
        implicit rejection), never an error: the AEAD tag is what catches tampering."""
        if len(ciphertext) != self.ciphertext_size:
            raise CryptoError(f"malformed {self.name} ciphertext: expected "
                              f"{self.ciphertext_size} bytes, got {len(ciphertext)}")
        return self._secret(secret_key).decapsulate(bytes(ciphertext))

    def _secret(self, secret_key: bytes):
        if len(secret_key) != self.secret_key_size:
            raise CryptoError(f"malformed {self.name} secret key: expected "
                              f"{self.secret_key_size} bytes, got {len(secret_key)}")
        try:
            return self._private.from_seed_bytes(bytes(secret_key))
        except UnsupportedAlgorithm as exc:
            raise CryptoError(f"{self.name} is not supported by this build of cryptography")\
                from exc


ML_KEM_768 = MlKem(32, "ml-kem-768", 1184, 1088, mlkem.MLKEM768PrivateKey,
                   mlkem.MLKEM768PublicKey)

KEM_SCHEMES: dict[str, MlKem] = {k.name: k for k in (ML_KEM_768,)}
_KEM_BY_ID: dict[int, MlKem] = {k.id: k for k in KEM_SCHEMES.values()}
DEFAULT_KEM = "ml-kem-768"


def get_kem(name: str) -> MlKem:
    try:
        return KEM_SCHEMES[name]
    except KeyError:
        raise CryptoError(f"unknown KEM {name!r}; known: {', '.join(KEM_SCHEMES)}") from None


def _key(shared_secret: bytes, kem_ciphertext: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=HKDF_INFO + kem_ciphertext).derive(shared_secret)


def encrypt(recipient_public_key: bytes, plaintext: bytes, *, associated: bytes = b"",
            kem: str = DEFAULT_KEM) -> bytes:
    """Seal `plaintext` for the holder of the secret key; `associated` is authenticated, not
    stored: decrypt must be given the same bytes."""
    scheme = get_kem(kem)
    kem_ciphertext, shared = scheme.encaps(recipient_public_key)
    header = MAGIC + bytes([scheme.id])
    nonce = os.urandom(NONCE_LEN)
    sealed = ChaCha20Poly1305(_key(shared, kem_ciphertext)).encrypt(
        nonce, bytes(plaintext), header + bytes(associated))
    return header + kem_ciphertext + nonce + sealed


def decrypt(secret_key: bytes, blob: bytes, *, associated: bytes = b"") -> bytes:
    """Open a blob from `encrypt`. Any tampering, a wrong key or wrong `associated` raises
    CryptoError("decryption failed: ...")."""
    blob = bytes(blob)
    if blob[:len(MAGIC)] != MAGIC:
        raise CryptoError("decryption failed: not a ghost encrypted blob (bad magic)")
    if len(blob) <= len(MAGIC):
        raise CryptoError("decryption failed: blob truncated after the magic")
    scheme = _KEM_BY_ID.get(blob[len(MAGIC)])
    if scheme is None:
        raise CryptoError(f"decryption failed: unknown KEM id {blob[len(MAGIC)]}")
    start = len(MAGIC) + 1
    end = start + scheme.ciphertext_size
    if len(blob) < end + NONCE_LEN + TAG_LEN:
        raise CryptoError(f"decryption failed: blob truncated ({len(blob)} bytes)")
    kem_ciphertext, nonce, sealed = blob[start:end], blob[end:end + NONCE_LEN], \
        blob[end + NONCE_LEN:]
    try:
        shared = scheme.decaps(secret_key, kem_ciphertext)
    except CryptoError as exc:
        raise CryptoError(f"decryption failed: {exc}") from exc
    try:
        return ChaCha20Poly1305(_key(shared, kem_ciphertext)).decrypt(
            nonce, sealed, blob[:start] + bytes(associated))
    except InvalidTag as exc:
        raise CryptoError("decryption failed: authentication failed (wrong key, wrong "
                          "associated data, or the blob was altered)") from exc
