"""The signature schemes ghost knows, as data: one row per scheme, ids stable forever.

    id  name                 library        secret key   public key   signature
     1  ml-dsa-44            cryptography   32 (seed)    1312         2420
     2  ml-dsa-65 (default)  cryptography   32 (seed)    1952         3309
     3  ml-dsa-87            cryptography   32 (seed)    2592         4627
     4  slh-dsa-sha2-128s    pqcrypto       64           32           7856
     5  slh-dsa-sha2-128f    pqcrypto       64           32           17088
    16  ed25519              cryptography   32 (seed)    32           64
    17  schnorr-secp256k1    coincurve      32           32 (x-only)  64
    18  bls12-381            arkworks       32           48 (G1)      96 (G2)

Ids 1-15 are post-quantum, 16-31 classical, 32+ KEMs (ghost_cli.crypto.kem). Never
renumber a row, only add. See docs/keys.md for why each library was chosen.
"""

from __future__ import annotations

from ...exceptions import CryptoError
from ..scheme import Encoded, SignatureScheme
from .bls import BLS12_381
from .ed25519 import ED25519
from .ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
from .schnorr import SCHNORR_SECP256K1
from .slh_dsa import SLH_DSA_SHA2_128F, SLH_DSA_SHA2_128S

__all__ = ["DEFAULT_SCHEME", "SCHEMES", "by_id", "decode", "get", "verify_encoded"]

DEFAULT_SCHEME = "ml-dsa-65"

_ROWS: tuple[SignatureScheme, ...] = (
    ML_DSA_44, ML_DSA_65, ML_DSA_87, SLH_DSA_SHA2_128S, SLH_DSA_SHA2_128F,
    ED25519, SCHNORR_SECP256K1, BLS12_381,
)
SCHEMES: dict[str, SignatureScheme] = {s.name: s for s in _ROWS}
_BY_ID: dict[int, SignatureScheme] = {s.id: s for s in _ROWS}


def get(name: str) -> SignatureScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise CryptoError(f"unknown signature scheme {name!r}; known: "
                          f"{', '.join(SCHEMES)}") from None


def by_id(scheme_id: int) -> SignatureScheme:
    try:
        return _BY_ID[scheme_id]
    except KeyError:
        known = ", ".join(f"{s.id} {s.name}" for s in _ROWS)
        raise CryptoError(f"unknown signature scheme id {scheme_id}; known: {known}") from None


def decode(data: bytes, what: str = "key") -> tuple[SignatureScheme, bytes]:
    """Split `scheme id ‖ raw` into its scheme and raw bytes; CryptoError if either is bad."""
    enc = Encoded.from_bytes(data, what)
    return by_id(enc.scheme_id), enc.raw


def verify_encoded(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify an encoded signature under an encoded key. False when the two name different
    schemes, an id is unknown or anything is malformed: a key never checks another scheme's
    signature."""
    try:
        scheme, raw_pk = decode(public_key, "public key")
        sig = Encoded.from_bytes(signature, "signature")
    except CryptoError:
        return False
    return sig.scheme_id == scheme.id and scheme.verify(raw_pk, message, sig.raw)
