"""The gas schedule, as data: one unit for WebAssembly fuel and host-call prices.

WebAssembly instructions cost wasmtime fuel (one unit per instruction, as wasmtime
counts it); a host call costs `base + per_byte * n`, where n is the bytes it moves
(key + value for storage, data for events, and so on). The same schedule gives the
same gas for the same call on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    base: int
    per_byte: int = 0

    def cost(self, nbytes: int = 0) -> int:
        return self.base + self.per_byte * nbytes


#: What one µs of host CPU costs in gas: a throughput policy (a 10M-gas call buys about
#: 23 ms of host cryptography), not a measurement. wasm fuel runs far faster per µs
#: (~13,000/µs measured for Zig's SHA-256), so pricing host µs at the fuel rate would put
#: one BLS verify at ~80M gas; the bench prints both so the choice stays visible.
HOST_GAS_PER_US = 440

#: Host-call prices by host function name (vm/host_table.py).
HOST_PRICES: dict[str, Price] = {
    "storage_read": Price(800, 3),
    "storage_write": Price(5000, 30),
    "storage_delete": Price(2500, 3),
    "storage_has": Price(600, 3),
    "input_size": Price(10),
    "input_copy": Price(20, 1),
    "set_return": Price(20, 1),
    "revert": Price(0, 1),
    "emit_event": Price(375, 8),
    "caller": Price(20),
    "self_address": Price(20),
    "block_height": Price(10),
    "block_time": Price(10),
    "chain_id": Price(10),
    "gas_left": Price(10),
    "debug_log": Price(50, 1),
    # Crypto and state proofs: the host µs measured by bench/host_crypto_bench.py times
    # HOST_GAS_PER_US (docs/host-abi.md). n is every input byte read; the per-scheme and
    # per-key tables below add the cryptography itself.
    "hash_sha256": Price(60, 1),
    "hash_keccak256": Price(60, 3),
    "hash_blake2b256": Price(60, 1),
    "sig_verify": Price(100, 1),
    "multisig_verify": Price(200, 1),
    "bls_aggregate_verify": Price(3000, 1),
    "kem_encapsulate": Price(16500, 1),
    "kem_decapsulate": Price(47000, 1),
    "keygen_seeded": Price(100, 1),
    "merkle_verify": Price(200, 1),
    "panic": Price(0, 1),
}

#: sig_verify and multisig_verify: added per signature checked, by scheme name;
#: `per_byte` counts message bytes. An unknown scheme id pays only the host-call price.
SIG_VERIFY_PRICES: dict[str, Price] = {
    "ml-dsa-44": Price(53000, 1),
    "ml-dsa-65": Price(98000, 1),
    "ml-dsa-87": Price(120000, 1),
    "slh-dsa-sha2-128s": Price(107000, 1),
    "slh-dsa-sha2-128f": Price(327000, 1),
    "ed25519": Price(47000, 1),
    "schnorr-secp256k1": Price(19000, 1),
    "bls12-381": Price(2800000, 2),
}

#: keygen_seeded: added by scheme name; schemes missing here have no seeded keygen.
KEYGEN_PRICES: dict[str, Price] = {
    "ml-dsa-44": Price(45000),
    "ml-dsa-65": Price(71000),
    "ml-dsa-87": Price(108000),
    "ed25519": Price(15000),
    "schnorr-secp256k1": Price(18000),
    "bls12-381": Price(86000),
}

#: bls_aggregate_verify: per public key (its proof of possession costs two pairings).
BLS_AGGREGATE_PER_KEY = 1_270_000
#: merkle_verify: per level of the proof's walk (one keccak256 of 65 bytes).
MERKLE_PER_LEVEL = 2100

#: Charged once per transaction before the contract runs.
TX_BASE = 21_000
#: Deploying: per byte of module code stored.
DEPLOY_PER_BYTE = 200

DEFAULT_GAS_LIMIT = 10_000_000
