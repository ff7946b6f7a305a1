"""Crypto and state-proof host services: pure functions over bytes, shared by both engines.

The WebAssembly imports (vm/wasm/host_functions.py) and ZVM HOSTCALL (vm/zvm/handlers/
host.py) reach these through vm/host_calls.py, which reads the arguments out of either
engine's memory, checks limits, charges the price computed here, then calls the service.
So a contract gets the same answer and pays the same gas on both engines.

Every verifier is total: malformed input is False/None, never an exception, because a
contract must be able to reject a bad signature without trapping.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ghost_cli.crypto.hashing import keccak256 as _keccak256
from ghost_cli.exceptions import CryptoError, GhostError
from ghost_cli.vm.gas import (
    BLS_AGGREGATE_PER_KEY,
    HOST_PRICES,
    KEYGEN_PRICES,
    MERKLE_PER_LEVEL,
    SIG_VERIFY_PRICES,
)

HASH_BYTES = 32
BLS_PK_BYTES = 48
BLS_SIG_BYTES = 96
KEM_SEED_BYTES = 32  # FIPS 203's encapsulation randomness m
SEED_BYTES = 32  # keygen_seeded
#: merkle_verify's value_len meaning "prove the key absent" (-1 as an i32).
ABSENT = 0xFFFF_FFFF

# Bad input of any of these kinds is a 0 result, not a trap.
_MALFORMED = (CryptoError, ValueError, TypeError, OverflowError)


# ---- hashes -------------------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def keccak256(data: bytes) -> bytes:
    return _keccak256(data)


def blake2b256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=HASH_BYTES).digest()


HASHES = {"hash_sha256": sha256, "hash_keccak256": keccak256, "hash_blake2b256": blake2b256}

# The signature, KEM and multi-sig libraries load on a contract's first use of them: most
# calls never verify anything, and importing them all costs tens of milliseconds per process.
if TYPE_CHECKING:
    from ghost_cli.crypto.scheme import SignatureScheme


def __getattr__(name: str) -> Any:  # svc.ML_KEM_768 (its sizes), loaded on first use
    if name == "ML_KEM_768":
        from ghost_cli.crypto.kem import ML_KEM_768

        return ML_KEM_768
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- signatures ---------------------------------------------------------------------------


def scheme_of(encoded: bytes) -> SignatureScheme | None:
    """The scheme an encoded key or signature names by its first byte, if ghost knows it."""
    if not encoded:
        return None
    from ghost_cli.crypto import schemes

    try:
        return schemes.by_id(encoded[0])
    except CryptoError:
        return None


def verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """Encoded key, encoded signature (`scheme id ‖ raw`), any scheme ghost knows."""
    from ghost_cli.crypto import schemes

    try:
        return bool(schemes.verify_encoded(bytes(pk), bytes(msg), bytes(sig)))
    except _MALFORMED:
        return False


def sig_verify_price(pk: bytes, msg_len: int, nbytes: int) -> int:
    """The host-call price for nbytes read, plus the key's scheme's price over msg_len."""
    price = HOST_PRICES["sig_verify"].cost(nbytes)
    scheme = scheme_of(pk)
    if scheme is not None:
        price += SIG_VERIFY_PRICES[scheme.name].cost(msg_len)
    return price


# ---- multi-sig ----------------------------------------------------------------------------
# sigs = count (u8) ‖ count × (member index (u8) ‖ length (u16 big-endian) ‖ encoded sig)
# Member indexes are positions in the descriptor's canonical (sorted) order.

Multisig = tuple[Any, list[tuple[int, bytes]]]  # (crypto.multisig.MultisigAccount, entries)


def parse_multisig(desc: bytes, sigs: bytes) -> Multisig | None:
    """The account and its (member index, signature) list; None when either is malformed,
    an index is not a member or a member is listed twice."""
    from ghost_cli.crypto.multisig import MultisigAccount

    try:
        account = MultisigAccount.from_bytes(bytes(desc))
    except _MALFORMED:
        return None
    if not sigs:
        return None
    count, pos, entries, seen = sigs[0], 1, [], set()
    for _ in range(count):
        if pos + 3 > len(sigs):
            return None
        index, size = sigs[pos], int.from_bytes(sigs[pos + 1:pos + 3], "big")
        pos += 3
        if pos + size > len(sigs) or index >= len(account.members) or index in seen:
            return None
        seen.add(index)
        entries.append((index, bytes(sigs[pos:pos + size])))
        pos += size
    return (account, entries) if pos == len(sigs) else None


def multisig_price(parsed: Multisig | None, msg_len: int, nbytes: int) -> int:
    """The host-call price, plus each listed signature's scheme price (its member's key)."""
    price = HOST_PRICES["multisig_verify"].cost(nbytes)
    if parsed is not None:
        account, entries = parsed
        for index, _ in entries:
            scheme = scheme_of(account.members[index])
            if scheme is not None:
                price += SIG_VERIFY_PRICES[scheme.name].cost(msg_len)
    return price


def multisig_verify(desc: bytes, msg: bytes, sigs: bytes) -> bool:
    """At least threshold distinct members' signatures over msg verify (schemes may mix)."""
    return multisig_check(parse_multisig(desc, sigs), msg)


def multisig_check(parsed: Multisig | None, msg: bytes) -> bool:
    if parsed is None:
        return False
    account, entries = parsed
    valid = sum(verify(account.members[i], msg, sig) for i, sig in entries)
    return valid >= account.threshold


# ---- BLS aggregation ----------------------------------------------------------------------
# pks = n × 48-byte compressed G1 keys, pops = n × 96-byte proofs, agg = 96 bytes (all raw).


def bls_aggregate_price(pks_len: int, msg_len: int, nbytes: int) -> int:
    return (HOST_PRICES["bls_aggregate_verify"].cost(nbytes)
            + BLS_AGGREGATE_PER_KEY * (pks_len // BLS_PK_BYTES)
            + SIG_VERIFY_PRICES["bls12-381"].cost(msg_len))


def bls_aggregate_verify(pks: bytes, pops: bytes, msg: bytes, agg: bytes) -> bool:
    """Same message, every key's proof of possession required: rogue-key safe."""
    if (not pks or len(pks) % BLS_PK_BYTES or len(pops) % BLS_SIG_BYTES
            or len(pks) // BLS_PK_BYTES != len(pops) // BLS_SIG_BYTES
            or len(agg) != BLS_SIG_BYTES):
        return False
    keys = [bytes(pks[i:i + BLS_PK_BYTES]) for i in range(0, len(pks), BLS_PK_BYTES)]
    proofs = [bytes(pops[i:i + BLS_SIG_BYTES]) for i in range(0, len(pops), BLS_SIG_BYTES)]
    from ghost_cli.crypto.aggregate import aggregate_verify_same_message

    try:
        return bool(aggregate_verify_same_message(keys, bytes(msg), bytes(agg), proofs))
    except _MALFORMED:
        return False


# ---- ML-KEM-768 ---------------------------------------------------------------------------


def kem_encapsulate(pk: bytes, seed: bytes) -> tuple[bytes, bytes] | None:
    """(ciphertext, shared secret), deterministic in seed (FIPS 203 ML-KEM.Encaps_internal
    with m = seed). `cryptography` draws m from the OS, so this uses pycryptodome's
    ML-KEM, whose `_encaps(coins)` takes m explicitly; its output decapsulates with
    ghost's `cryptography`-based keys (tests/vm/test_host_crypto.py checks both ways).
    None for a malformed key or seed."""
    from ghost_cli.crypto.kem import ML_KEM_768

    if len(pk) != ML_KEM_768.public_key_size or len(seed) != KEM_SEED_BYTES:
        return None
    try:  # lazily: only contracts that encapsulate need it
        from Crypto.PublicKey import MLKEM
    except ImportError:  # pycryptodome before 4.2: the install's fault, not the contract's
        import Crypto

        raise GhostError(f"this install cannot encapsulate (ML-KEM needs pycryptodome 4.2 "
                         f"or newer; it has {Crypto.__version__})") from None

    try:
        key = MLKEM.construct(param_set=MLKEM.ML_KEM_768, ek=bytes(pk))
        shared, ciphertext = key._encaps(bytes(seed))
    except _MALFORMED:
        return None
    return bytes(ciphertext), bytes(shared)


def kem_decapsulate(sk: bytes, ct: bytes) -> bytes | None:
    """The 32-byte shared secret (a tampered ct gives an unrelated one, FIPS 203's implicit
    rejection); None for malformed lengths."""
    from ghost_cli.crypto.kem import ML_KEM_768

    if len(sk) != ML_KEM_768.secret_key_size or len(ct) != ML_KEM_768.ciphertext_size:
        return None
    try:
        return bytes(ML_KEM_768.decaps(bytes(sk), bytes(ct)))
    except _MALFORMED:
        return None


# ---- seeded keygen ------------------------------------------------------------------------


def keygen_price(scheme_id: int, nbytes: int) -> int:
    price = HOST_PRICES["keygen_seeded"].cost(nbytes)
    scheme = scheme_of(bytes([scheme_id])) if 0 <= scheme_id < 256 else None
    if scheme is not None and scheme.name in KEYGEN_PRICES:
        price += KEYGEN_PRICES[scheme.name].cost()
    return price


def keygen_seeded(scheme_id: int, seed: bytes) -> bytes | None:
    """The encoded public key (`scheme id ‖ raw`) for a 32-byte seed; None when the scheme
    has no seeded keygen (slh-dsa: pqcrypto has none) or the seed is bad."""
    if not 0 <= scheme_id < 256 or len(seed) != SEED_BYTES:
        return None
    scheme = scheme_of(bytes([scheme_id]))
    if scheme is None or scheme.name not in KEYGEN_PRICES:
        return None
    try:
        _, pk = scheme.keygen(bytes(seed))
    except _MALFORMED:
        return None
    return bytes([scheme.id]) + pk


# ---- state proofs -------------------------------------------------------------------------


def proof_levels(proof: bytes) -> int:
    """The depth a state proof declares (its header), capped at the tree's height: what
    merkle_verify will hash, known before any hashing."""
    from ghost_cli.crypto.proof import PATH_BITS  # like the signature libraries: on first use

    return min(int.from_bytes(proof[1:3], "big"), PATH_BITS) if len(proof) >= 3 else 0


def merkle_price(proof: bytes, nbytes: int) -> int:
    return HOST_PRICES["merkle_verify"].cost(nbytes) + MERKLE_PER_LEVEL * proof_levels(proof)


def merkle_verify(root: bytes, address: bytes, key: bytes, value: bytes | None,
                  proof: bytes) -> bool:
    """ghost's state-tree proof (crypto/proof.py); value None proves the key absent."""
    from ghost_cli.crypto.proof import Proof, verify_proof

    try:
        parsed = Proof.from_bytes(bytes(proof))
        return bool(verify_proof(bytes(root), bytes(address), bytes(key),
                                 None if value is None else bytes(value), parsed))
    except _MALFORMED:
        return False
