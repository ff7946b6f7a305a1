"""BLS aggregation: many signers, one message, one signature; and the rogue-key attack that
proofs of possession exist to stop."""

from __future__ import annotations

import pytest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from ghost_cli.crypto.aggregate import (
    aggregate,
    aggregate_verify_same_message,
    prove_possession,
    verify_possession,
)
from ghost_cli.crypto.schemes import get
from ghost_cli.crypto.schemes.bls import SIG_DST, fast_aggregate_verify_unchecked
from ghost_cli.exceptions import CryptoError

BLS = get("bls12-381")
MESSAGE = b"ghost/block/42"


@pytest.fixture(scope="module")
def signers() -> list[tuple[bytes, bytes, bytes]]:
    """(secret key, public key, proof of possession) for four signers."""
    out = []
    for i in range(4):
        sk, pk = BLS.keygen(bytes([i + 1]) * 32)
        out.append((sk, pk, prove_possession(sk)))
    return out


def test_aggregate_of_all_signers_verifies(signers):
    sigs = [BLS.sign(sk, MESSAGE) for sk, _, _ in signers]
    agg = aggregate(sigs)
    pks = [pk for _, pk, _ in signers]
    pops = [pop for _, _, pop in signers]
    assert len(agg) == 96
    assert aggregate_verify_same_message(pks, MESSAGE, agg, pops)
    assert aggregate(list(reversed(sigs))) == agg  # order does not matter
    assert not aggregate_verify_same_message(pks, MESSAGE + b"!", agg, pops)
    assert not aggregate_verify_same_message(pks[:3], MESSAGE, agg, pops[:3])  # one key short
    assert not aggregate_verify_same_message(pks, MESSAGE, aggregate(sigs[:3]), pops)
    assert not aggregate_verify_same_message(pks, MESSAGE, agg, pops[:3])  # count mismatch
    assert not aggregate_verify_same_message([], MESSAGE, agg, [])


def test_a_single_signature_aggregates_to_itself(signers):
    sk, pk, pop = signers[0]
    sig = BLS.sign(sk, MESSAGE)
    assert aggregate([sig]) == sig
    assert aggregate_verify_same_message([pk], MESSAGE, sig, [pop])


def test_proof_of_possession(signers):
    (_, pk0, pop0), (sk1, pk1, pop1) = signers[0], signers[1]
    assert verify_possession(pk0, pop0)
    assert not verify_possession(pk1, pop0)
    # domain separation: a message signature over the key bytes is not a proof, and a proof
    # is not a signature of the key bytes as a message
    assert not verify_possession(pk1, BLS.sign(sk1, pk1))
    assert not BLS.verify(pk1, pk1, pop1)
    for junk in (b"", b"\x00" * 96, pop0[:-1], b"\xc0" + b"\x00" * 95):
        assert verify_possession(pk0, junk) is False
    assert verify_possession(b"\xc0" + b"\x00" * 47, pop0) is False  # identity key


def test_rogue_key_forgery_is_stopped_by_proofs_of_possession(signers):
    """The attacker knows x, publishes pk_rogue = x·g1 − pk_victim, and 'signs' for both
    keys with x·H(m): the sum of the two keys is x·g1, so the pairing check alone passes."""
    _, victim_pk, victim_pop = signers[0]
    x = Scalar(0xC0FFEE)
    rogue = G1Point() * x - G1Point.from_compressed_bytes(victim_pk)
    rogue_pk = rogue.to_compressed_bytes()
    forged = (G2Point.hash_to_curve(MESSAGE, SIG_DST) * x).to_compressed_bytes()
    # The forgery is real: without proofs of possession it would be accepted.
    assert fast_aggregate_verify_unchecked([victim_pk, rogue_pk], MESSAGE, forged)
    # The attacker cannot prove possession of rogue_pk; offering any proof it can make fails.
    attacker_pop_for_x = prove_possession(int(x).to_bytes(32, "big"))
    for rogue_pop in (attacker_pop_for_x, victim_pop, forged):
        assert not verify_possession(rogue_pk, rogue_pop)
        assert not aggregate_verify_same_message(
            [victim_pk, rogue_pk], MESSAGE, forged, [victim_pop, rogue_pop])


def test_aggregate_rejects_empty_and_malformed(signers):
    with pytest.raises(CryptoError, match="empty list"):
        aggregate([])
    good = BLS.sign(signers[0][0], MESSAGE)
    with pytest.raises(CryptoError, match="malformed BLS signature at index 1"):
        aggregate([good, good[:-1]])
    with pytest.raises(CryptoError, match="malformed BLS signature at index 0"):
        aggregate([b"\x00" * 96])


def test_malformed_keys_make_verification_false(signers):
    sigs = [BLS.sign(sk, MESSAGE) for sk, _, _ in signers[:2]]
    pops = [pop for _, _, pop in signers[:2]]
    agg = aggregate(sigs)
    for bad_pk in (b"", b"\x00" * 48, b"\xc0" + b"\x00" * 47, signers[0][1][:-1]):
        assert not aggregate_verify_same_message([bad_pk, signers[1][1]], MESSAGE, agg, pops)
    assert not aggregate_verify_same_message(
        [signers[0][1], signers[1][1]], MESSAGE, agg[:-1], pops)
