"""BIP-340 Schnorr signatures over secp256k1, through coincurve (libsecp256k1).

Keys: a 32-byte secret scalar and a 32-byte x-only public key. Messages of any length, as
BIP-340 allows since 2022: coincurve's public `sign_schnorr` takes only 32-byte messages,
so signing goes through libsecp256k1's `schnorrsig_sign_custom`, which coincurve compiles
in and exposes through its cffi module. For 32-byte messages the two are the same
function. Each signature uses 32 bytes of fresh auxiliary randomness, as BIP-340
recommends against fault and side-channel attacks; `sign_with_aux` is for test vectors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKeyXOnly
from coincurve._libsecp256k1 import ffi, lib

from ...exceptions import CryptoError
from ._seed import SEED_LEN, check_secret, check_seed

# SECP256K1_SCHNORRSIG_EXTRAPARAMS_MAGIC from secp256k1_schnorrsig.h
_EXTRAPARAMS_MAGIC = b"\xda\x6f\xb3\x8c"


def _private(secret: bytes, what: str = "malformed schnorr-secp256k1 secret key") -> PrivateKey:
    try:
        return PrivateKey(secret)
    except ValueError as exc:  # zero or not below the group order
        raise CryptoError(f"{what}: not a valid secp256k1 scalar") from exc


def sign_with_aux(secret_key: bytes, message: bytes, aux: bytes) -> bytes:
    """BIP-340 Sign(sk, m, aux_rand) exactly; `aux` is 32 bytes."""
    name = "schnorr-secp256k1"
    key = _private(check_secret(name, secret_key, SEED_LEN))
    if len(aux) != 32:
        raise CryptoError(f"BIP-340 auxiliary randomness must be 32 bytes, got {len(aux)}")
    keypair = ffi.new("secp256k1_keypair *")
    if not lib.secp256k1_keypair_create(key.context.ctx, keypair, key.secret):
        raise CryptoError(f"malformed {name} secret key: not a valid secp256k1 scalar")
    aux_buf = ffi.new("unsigned char[32]", aux)
    params = ffi.new("secp256k1_schnorrsig_extraparams *")
    params.magic = list(_EXTRAPARAMS_MAGIC)
    params.noncefp = ffi.NULL  # libsecp256k1's BIP-340 nonce function
    params.ndata = aux_buf
    sig = ffi.new("unsigned char[64]")
    msg = ffi.new("unsigned char[]", bytes(message) or b"\0")  # a valid pointer for m = b""
    if not lib.secp256k1_schnorrsig_sign_custom(
            key.context.ctx, sig, msg, len(message), keypair, params):
        raise CryptoError(f"{name} signing failed")
    out = bytes(ffi.buffer(sig, 64))
    # Check before release, as coincurve does: a fault during signing can leak the key.
    if not SCHNORR_SECP256K1.verify(key.public_key_xonly.format(), message, out):
        raise CryptoError(f"{name} produced a signature that does not verify")
    return out


@dataclass(frozen=True)
class SchnorrSecp256k1:
    id: int = 17
    name: str = "schnorr-secp256k1"
    public_key_size: int = 32
    signature_size: int = 64
    secret_key_size: int = SEED_LEN

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        if seed is None:
            key = PrivateKey()
        else:  # the seed is the scalar, as in BIP-340's vectors; invalid ones (p < 2^-127) fail
            key = _private(check_seed(self.name, seed), f"{self.name} keygen seed")
        return key.secret, key.public_key_xonly.format()

    def sign(self, secret_key: bytes, message: bytes) -> bytes:
        return sign_with_aux(secret_key, message, os.urandom(32))

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            return False
        try:
            return PublicKeyXOnly(bytes(public_key)).verify(bytes(signature), bytes(message))
        except (ValueError, TypeError):  # not an x coordinate on the curve
            return False


SCHNORR_SECP256K1 = SchnorrSecp256k1()
