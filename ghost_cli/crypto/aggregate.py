"""BLS aggregation over bls12-381 (scheme id 18), rogue-key safe by proofs of possession.

Many signers sign one message; their signatures add up to one 96-byte signature that
checks against all their keys with two pairings (FastAggregateVerify). Adding keys is what
makes it fast and also what makes it unsafe alone: anyone can publish
pk_rogue = x·g1 − pk_victim and then "co-sign" for the victim with x·H(m). A proof of
possession (a signature over the key itself, under its own domain tag) proves the holder
knows the key's secret, which a rogue key's publisher does not; so
`aggregate_verify_same_message` requires a valid proof for every key, every time, and
callers need no registry of checked keys to be safe.
"""

from __future__ import annotations

from collections.abc import Sequence

from .schemes.bls import (
    POP_DST,
    aggregate_points,
    core_sign,
    core_verify,
    fast_aggregate_verify_unchecked,
    public_point,
    sk_to_pk,
)

__all__ = [
    "aggregate",
    "aggregate_verify_same_message",
    "prove_possession",
    "verify_possession",
]


def prove_possession(secret_key: bytes) -> bytes:
    """PopProve: a 96-byte proof that the holder knows the key's secret."""
    return core_sign(secret_key, sk_to_pk(secret_key), POP_DST)


def verify_possession(public_key: bytes, proof: bytes) -> bool:
    """PopVerify; False (never raises) for malformed keys or proofs."""
    pk = public_point(public_key)
    return pk is not None and core_verify(pk, bytes(public_key), proof, POP_DST)


def aggregate(signatures: Sequence[bytes]) -> bytes:
    """Add BLS signatures into one. CryptoError for an empty list or a malformed signature."""
    return aggregate_points(list(signatures))


def aggregate_verify_same_message(
    public_keys: Sequence[bytes],
    message: bytes,
    aggregate_signature: bytes,
    proofs_of_possession: Sequence[bytes],
) -> bool:
    """True when every key's proof of possession verifies and `aggregate_signature` is the
    sum of their signatures on `message`. False for anything else, including no keys,
    a proof count that differs from the key count, or malformed input."""
    keys, proofs = list(public_keys), list(proofs_of_possession)
    if not keys or len(keys) != len(proofs):
        return False
    if not all(verify_possession(pk, pop) for pk, pop in zip(keys, proofs, strict=True)):
        return False
    return fast_aggregate_verify_unchecked(keys, message, aggregate_signature)
