"""BLS signatures on BLS12-381, min-pk (48-byte G1 keys, 96-byte G2 signatures), with the
IETF proof-of-possession ciphersuite (draft-irtf-cfrg-bls-signature-05, §4.2.3), the one
Ethereum's consensus layer uses, so its test vectors apply.

Built on py_arkworks_bls12381 (the Ethereum Foundation's bindings to arkworks), which gives
the curve, RFC 9380 hash-to-curve and pairings; this module adds the ciphersuite on top:
KeyGen, SkToPk, KeyValidate, Sign, Verify, PopProve, PopVerify, Aggregate and
FastAggregateVerify. Why not a library with the ciphersuite built in: see docs/keys.md.
Aggregation with rogue-key protection is exposed in ghost_cli.crypto.aggregate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from ...exceptions import CryptoError
from ._seed import SEED_LEN, check_secret, check_seed

SIG_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
_KEYGEN_SALT = b"BLS-SIG-KEYGEN-SALT-"
_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001  # group order
_L = 48  # ceil(3 * ceil(log2(r)) / 16): KeyGen's output length, for a near-uniform mod r
PUBLIC_KEY_SIZE = 48
SIGNATURE_SIZE = 96


def key_gen(ikm: bytes, key_info: bytes = b"") -> bytes:
    """The ciphersuite's KeyGen (HKDF-SHA256 mod r, re-salting until non-zero); 32-byte SK."""
    if len(ikm) < 32:
        raise CryptoError(f"BLS KeyGen needs at least 32 bytes of key material, got {len(ikm)}")
    salt, sk = _KEYGEN_SALT, 0
    while sk == 0:
        salt = hashlib.sha256(salt).digest()
        prk = hmac.new(salt, ikm + b"\0", hashlib.sha256).digest()  # HKDF-Extract
        info = key_info + _L.to_bytes(2, "big")
        okm, block = b"", b""
        for i in range(1, -(-_L // 32) + 1):  # HKDF-Expand
            block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
            okm += block
        sk = int.from_bytes(okm[:_L], "big") % _R
    return sk.to_bytes(32, "big")


def secret_scalar(secret_key: bytes) -> Scalar:
    secret_key = check_secret("bls12-381", secret_key, 32)
    value = int.from_bytes(secret_key, "big")
    if not 0 < value < _R:
        raise CryptoError("malformed bls12-381 secret key: not in 1..r-1")
    return Scalar(value)


def sk_to_pk(secret_key: bytes) -> bytes:
    return (G1Point() * secret_scalar(secret_key)).to_compressed_bytes()


def public_point(public_key: bytes) -> G1Point | None:
    """KeyValidate: a compressed G1 point in the prime-order subgroup, not the identity."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        return None
    try:
        point = G1Point.from_compressed_bytes(bytes(public_key))  # checks the subgroup
    except (ValueError, TypeError):
        return None
    return None if point == G1Point.identity() else point


def signature_point(signature: bytes) -> G2Point | None:
    """A compressed G2 point in the prime-order subgroup (signature_subgroup_check)."""
    if len(signature) != SIGNATURE_SIZE:
        return None
    try:
        return G2Point.from_compressed_bytes(bytes(signature))
    except (ValueError, TypeError):
        return None


def core_sign(secret_key: bytes, message: bytes, dst: bytes) -> bytes:
    return (G2Point.hash_to_curve(bytes(message), dst) * secret_scalar(secret_key)) \
        .to_compressed_bytes()


def core_verify(pk: G1Point, message: bytes, signature: bytes, dst: bytes) -> bool:
    """e(pk, H(m)) == e(g1, sig), checked as one multi-pairing equal to 1."""
    sig = signature_point(signature)
    if sig is None:
        return False
    return GT.pairing_check([pk, -G1Point()], [G2Point.hash_to_curve(bytes(message), dst), sig])


def aggregate_points(signatures: Sequence[bytes]) -> bytes:
    if not signatures:
        raise CryptoError("cannot aggregate an empty list of BLS signatures")
    total = G2Point.identity()
    for i, sig in enumerate(signatures):
        point = signature_point(sig)
        if point is None:
            raise CryptoError(f"malformed BLS signature at index {i} ({len(sig)} bytes)")
        total = total + point
    return total.to_compressed_bytes()


def fast_aggregate_verify_unchecked(
        public_keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    """FastAggregateVerify WITHOUT proofs of possession: open to rogue-key forgeries, so only
    safe over keys whose possession was proven. Public callers use ghost_cli.crypto.aggregate."""
    if not public_keys:
        return False
    total = G1Point.identity()
    for pk in public_keys:
        point = public_point(pk)
        if point is None:
            return False
        total = total + point
    if total == G1Point.identity():
        return False
    return core_verify(total, message, signature, SIG_DST)


@dataclass(frozen=True)
class Bls12381:
    id: int = 18
    name: str = "bls12-381"
    public_key_size: int = PUBLIC_KEY_SIZE
    signature_size: int = SIGNATURE_SIZE
    secret_key_size: int = 32

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        ikm = os.urandom(SEED_LEN) if seed is None else check_seed(self.name, seed)
        secret = key_gen(ikm)
        return secret, sk_to_pk(secret)

    def sign(self, secret_key: bytes, message: bytes) -> bytes:
        return core_sign(secret_key, message, SIG_DST)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        pk = public_point(public_key)
        return pk is not None and core_verify(pk, message, signature, SIG_DST)


BLS12_381 = Bls12381()
