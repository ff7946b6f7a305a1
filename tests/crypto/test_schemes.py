"""Every signature scheme through the one interface: round trips, rejection of anything
wrong or malformed (False, never an exception), seeds, the registry and encoded ids."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghost_cli.crypto.scheme import Encoded
from ghost_cli.crypto.schemes import (
    DEFAULT_SCHEME,
    SCHEMES,
    by_id,
    decode,
    get,
    verify_encoded,
)
from ghost_cli.exceptions import CryptoError

MESSAGE = b"ghost/test/v1 transfer 10 to 0xabc"
SEEDED = ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "ed25519", "schnorr-secp256k1", "bls12-381"]
UNSEEDED = ["slh-dsa-sha2-128s", "slh-dsa-sha2-128f"]


@pytest.fixture(scope="module")
def signed() -> dict[str, tuple[bytes, bytes, bytes]]:
    """One key pair and one signature of MESSAGE per scheme; SLH-DSA-128s signs at ~4/s."""
    out = {}
    for name, scheme in SCHEMES.items():
        sk, pk = scheme.keygen()
        out[name] = (sk, pk, scheme.sign(sk, MESSAGE))
    return out


def test_ids_are_the_stable_table():
    assert {name: s.id for name, s in SCHEMES.items()} == {
        "ml-dsa-44": 1, "ml-dsa-65": 2, "ml-dsa-87": 3,
        "slh-dsa-sha2-128s": 4, "slh-dsa-sha2-128f": 5,
        "ed25519": 16, "schnorr-secp256k1": 17, "bls12-381": 18,
    }
    assert DEFAULT_SCHEME == "ml-dsa-65"
    for name, scheme in SCHEMES.items():
        assert scheme.name == name and by_id(scheme.id) is scheme and get(name) is scheme


def test_docs_table_lists_every_scheme():
    text = (Path(__file__).resolve().parents[2] / "docs" / "keys.md").read_text()
    for name, scheme in SCHEMES.items():
        assert f"| {scheme.id} | `{name}`" in text, f"docs/keys.md is missing {name}"


def test_unknown_names_and_ids_are_crypto_errors_listing_the_known():
    with pytest.raises(CryptoError, match="unknown signature scheme 'rsa'.*ml-dsa-65.*ed25519"):
        get("rsa")
    with pytest.raises(CryptoError, match="unknown signature scheme id 99.*2 ml-dsa-65"):
        by_id(99)


@pytest.mark.parametrize("name", SCHEMES)
def test_round_trip_and_sizes(name, signed):
    scheme = SCHEMES[name]
    sk, pk, sig = signed[name]
    assert scheme.verify(pk, MESSAGE, sig) is True
    assert len(pk) == scheme.public_key_size
    assert len(sig) == scheme.signature_size
    assert len(sk) == scheme.secret_key_size


@pytest.mark.parametrize("name", SCHEMES)
def test_wrong_message_key_or_signature_is_false(name, signed):
    scheme = SCHEMES[name]
    _, pk, sig = signed[name]
    other = next(n for n in SCHEMES if SCHEMES[n] is not scheme and n in signed)
    assert scheme.verify(pk, MESSAGE + b"!", sig) is False
    assert scheme.verify(pk, b"", sig) is False
    # another key of the same scheme (a fresh one for unseeded schemes costs one keygen)
    _, pk2 = scheme.keygen(b"\x07" * 32 if name in SEEDED else None)
    assert scheme.verify(pk2, MESSAGE, sig) is False
    flipped = bytearray(sig)
    flipped[len(sig) // 2] ^= 0x01
    assert scheme.verify(pk, MESSAGE, bytes(flipped)) is False
    assert scheme.verify(pk, MESSAGE, signed[other][2]) is False


@pytest.mark.parametrize("name", SCHEMES)
def test_malformed_input_of_any_length_is_false_not_an_exception(name, signed):
    scheme = SCHEMES[name]
    _, pk, sig = signed[name]
    rng = random.Random(name)  # reproducible garbage
    lengths = {0, 1, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97,
               len(pk) - 1, len(pk), len(pk) + 1, len(sig) - 1, len(sig), len(sig) + 1}
    for n in sorted(lengths):
        junk = rng.randbytes(n)
        for bad_pk, bad_sig in ((junk, sig), (pk, junk), (junk, junk)):
            assert scheme.verify(bad_pk, MESSAGE, bad_sig) is False, (n, bad_pk == junk)
    for fill in (b"\x00", b"\xff"):
        assert scheme.verify(fill * len(pk), MESSAGE, sig) is False
        assert scheme.verify(pk, MESSAGE, fill * len(sig)) is False
    assert scheme.verify(pk[:-1], MESSAGE, sig) is False
    assert scheme.verify(pk, MESSAGE, sig[:-1]) is False
    assert scheme.verify(pk, MESSAGE, sig + b"\x00") is False


@pytest.mark.parametrize("name", SCHEMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_verify_is_total_over_arbitrary_bytes(name, data):
    """Property: for any bytes at all, verify answers a bool (False) and never raises."""
    scheme = SCHEMES[name]
    sizes = st.sampled_from([scheme.public_key_size, scheme.signature_size, 0, 1, 48, 96])
    pk = data.draw(st.one_of(st.binary(max_size=200), sizes.flatmap(
        lambda n: st.binary(min_size=n, max_size=n))))
    sig = data.draw(st.one_of(st.binary(max_size=200), sizes.flatmap(
        lambda n: st.binary(min_size=n, max_size=n))))
    msg = data.draw(st.binary(max_size=64))
    assert scheme.verify(pk, msg, sig) is False


@pytest.mark.parametrize("name", SCHEMES)
def test_malformed_secret_key_is_a_crypto_error(name):
    scheme = SCHEMES[name]
    for bad in (b"", b"\x01" * 7, b"\x01" * (scheme.secret_key_size + 1)):
        with pytest.raises(CryptoError, match="malformed"):
            scheme.sign(bad, MESSAGE)


@pytest.mark.parametrize("name", SEEDED)
def test_keygen_from_a_seed_is_deterministic(name):
    scheme = SCHEMES[name]
    seed = bytes(range(32))
    assert scheme.keygen(seed) == scheme.keygen(seed)
    assert scheme.keygen(seed)[1] != scheme.keygen(bytes(31) + b"\x01")[1]
    sk, pk = scheme.keygen(seed)
    assert scheme.verify(pk, MESSAGE, scheme.sign(sk, MESSAGE))
    with pytest.raises(CryptoError, match="seed must be 32 bytes, got 16"):
        scheme.keygen(bytes(16))


@pytest.mark.parametrize("name", UNSEEDED)
def test_schemes_without_seeded_keygen_say_so(name):
    with pytest.raises(CryptoError, match=f"{name} cannot derive keys from a seed"):
        SCHEMES[name].keygen(bytes(32))


def test_schnorr_rejects_a_seed_that_is_not_a_scalar():
    with pytest.raises(CryptoError, match="not a valid secp256k1 scalar"):
        get("schnorr-secp256k1").keygen(bytes(32))
    with pytest.raises(CryptoError, match="not a valid secp256k1 scalar"):
        get("schnorr-secp256k1").keygen(b"\xff" * 32)


def test_signing_is_over_any_message_length(signed):
    for name in ("ed25519", "schnorr-secp256k1", "bls12-381", "ml-dsa-44"):
        scheme = get(name)
        sk, pk, _ = signed[name]
        for msg in (b"", b"x", bytes(32), bytes(100)):
            assert scheme.verify(pk, msg, scheme.sign(sk, msg)), (name, len(msg))


def test_a_signature_of_one_scheme_never_verifies_as_another(signed):
    ed_sk, ed_pk, ed_sig = signed["ed25519"]
    # Ed25519 and BIP-340 share sizes (32-byte keys, 64-byte signatures): the raw bytes fit
    # but are rejected; ML-DSA rejects them by size alone.
    assert get("schnorr-secp256k1").verify(ed_pk, MESSAGE, ed_sig) is False
    for name in ("ml-dsa-44", "ml-dsa-65", "ml-dsa-87"):
        ml_pk = signed[name][1]
        assert get(name).verify(ml_pk, MESSAGE, ed_sig) is False
        assert get(name).verify(ed_pk, MESSAGE, ed_sig) is False
    # Encoded: the id byte says which scheme checks it, and a mismatch is False.
    enc_pk = Encoded(16, ed_pk).to_bytes()
    enc_sig = Encoded(16, ed_sig).to_bytes()
    assert enc_pk[0] == 16 and enc_sig[0] == 16
    assert verify_encoded(enc_pk, MESSAGE, enc_sig) is True
    assert verify_encoded(enc_pk, MESSAGE, Encoded(17, ed_sig).to_bytes()) is False
    assert verify_encoded(Encoded(17, ed_pk).to_bytes(), MESSAGE, Encoded(17, ed_sig).to_bytes()) \
        is False
    ml_pk, ml_sig = signed["ml-dsa-65"][1:]
    assert verify_encoded(Encoded(2, ml_pk).to_bytes(), MESSAGE, Encoded(2, ml_sig).to_bytes())
    assert verify_encoded(Encoded(2, ml_pk).to_bytes(), MESSAGE, enc_sig) is False
    assert verify_encoded(Encoded(200, ed_pk).to_bytes(), MESSAGE, enc_sig) is False
    assert verify_encoded(b"", MESSAGE, enc_sig) is False


def test_decode_splits_an_encoded_key():
    scheme, raw = decode(Encoded(18, b"\x01" * 48).to_bytes())
    assert scheme.name == "bls12-381" and raw == b"\x01" * 48
    with pytest.raises(CryptoError, match="unknown signature scheme id 250"):
        decode(b"\xfa\x00\x00")
    with pytest.raises(CryptoError, match="public key is empty or truncated"):
        decode(b"\x02", "public key")
