"""ML-KEM-768 + ChaCha20-Poly1305 public-key encryption: round trips, the blob layout, and
that changing any part of a blob, the key or the associated data fails one clear way."""

from __future__ import annotations

import pytest
from pqcrypto.kem import ml_kem_768 as pq_ml_kem_768

from ghost_cli.crypto.kem import (
    HKDF_INFO,
    KEM_SCHEMES,
    MAGIC,
    ML_KEM_768,
    decrypt,
    encrypt,
    get_kem,
)
from ghost_cli.exceptions import CryptoError

KEM_CT = 1088
HEADER = len(MAGIC) + 1


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return ML_KEM_768.keygen()


def test_registry_row():
    kem = KEM_SCHEMES["ml-kem-768"]
    assert (kem.id, kem.name, kem.public_key_size, kem.ciphertext_size) == \
        (32, "ml-kem-768", 1184, KEM_CT)
    assert get_kem("ml-kem-768") is kem
    with pytest.raises(CryptoError, match="unknown KEM 'x25519'; known: ml-kem-768"):
        get_kem("x25519")


@pytest.mark.parametrize("plaintext", [b"", b"a", b"secret key material" * 100])
def test_round_trip(keys, plaintext):
    sk, pk = keys
    blob = encrypt(pk, plaintext, associated=b"ghost/keystore")
    assert decrypt(sk, blob, associated=b"ghost/keystore") == plaintext
    assert len(blob) == HEADER + KEM_CT + 12 + len(plaintext) + 16


def test_blob_layout_is_self_describing(keys):
    _, pk = keys
    blob = encrypt(pk, b"x")
    assert blob[:4] == b"GHX1" and blob[4] == 32
    assert HKDF_INFO == b"ghost/kem-aead/v1"
    # fresh encapsulation and nonce every time: equal plaintexts never give equal blobs
    assert encrypt(pk, b"x") != blob


def test_seeded_keygen_is_deterministic_and_interoperates_with_pqcrypto():
    seed = bytes(range(64))
    sk, pk = ML_KEM_768.keygen(seed)
    assert (sk, pk) == ML_KEM_768.keygen(seed) and sk == seed
    # pqcrypto (PQClean's ML-KEM) encapsulates to our key; we decapsulate the same secret
    ciphertext, shared = pq_ml_kem_768.encaps(pk)
    assert ML_KEM_768.decaps(sk, ciphertext) == shared
    with pytest.raises(CryptoError, match="seed must be 64 bytes, got 32"):
        ML_KEM_768.keygen(bytes(32))


def test_every_tampered_byte_fails(keys):
    sk, pk = keys
    blob = encrypt(pk, b"attack at dawn", associated=b"ad")
    # one byte in each region: KEM ciphertext (start, end), nonce, AEAD body, tag
    for i in (HEADER, HEADER + KEM_CT - 1, HEADER + KEM_CT, HEADER + KEM_CT + 12, len(blob) - 1):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(CryptoError, match=r"^decryption failed: authentication failed"):
            decrypt(sk, bytes(bad), associated=b"ad")


def test_wrong_key_or_associated_data_fails(keys):
    sk, pk = keys
    blob = encrypt(pk, b"m", associated=b"ad")
    other_sk, _ = ML_KEM_768.keygen()
    for call in (lambda: decrypt(other_sk, blob, associated=b"ad"),
                 lambda: decrypt(sk, blob, associated=b"AD"),
                 lambda: decrypt(sk, blob)):
        with pytest.raises(CryptoError, match="^decryption failed: authentication failed"):
            call()


def test_malformed_blobs_fail_with_one_line_reasons(keys):
    sk, pk = keys
    blob = encrypt(pk, b"m")
    cases = {
        b"": "bad magic",
        b"GHX2" + blob[4:]: "bad magic",
        b"GHX1": "truncated",
        blob[:4] + b"\x07" + blob[5:]: "unknown KEM id 7",
        blob[:HEADER + KEM_CT + 12 + 15]: "truncated",
        blob[:100]: "truncated",
    }
    for bad, reason in cases.items():
        with pytest.raises(CryptoError, match=f"^decryption failed: .*{reason}") as info:
            decrypt(sk, bad)
        assert "\n" not in str(info.value)
    with pytest.raises(CryptoError, match="^decryption failed: malformed ml-kem-768 secret key"):
        decrypt(sk[:10], blob)


def test_malformed_public_key_is_a_crypto_error(keys):
    _, pk = keys
    with pytest.raises(CryptoError, match="malformed ml-kem-768 public key"):
        encrypt(pk[:-1], b"m")
    with pytest.raises(CryptoError, match="malformed ml-kem-768 public key"):
        encrypt(b"\xff" * len(pk), b"m")  # coefficients above q: FIPS 203's modulus check
