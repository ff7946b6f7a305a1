"""The gas schedule, as data: one unit for WebAssembly fuel and host-call prices.

WebAssembly instructions cost wasmtime fuel (one unit per instruction, as wasmtime
counts it); a host call costs `base + per_byte * n`, where n is the bytes it moves
(key + value for storage, data for events, and so on). The same schedule gives the
same gas for the same call on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import defaults


@dataclass(frozen=True)
class Price:
    base: int
    per_byte: int = 0

    def cost(self, nbytes: int = 0) -> int:
        return self.base + self.per_byte * nbytes


#: What one µs of host CPU costs in gas. The rule for every host-call price: the wall
#: time of one call, measured on wasm with its cheapest arguments (bench/gas_calibration.py),
#: times this rate. At 440 gas/µs (2.27 ns per gas) host gas buys at most about 16x the wall
#: time of plain wasm arithmetic (0.14 ns per gas measured), inside the 20x goal that keeps
#: `out_of_gas` rather than the wall-clock backstop the end of a long call on any machine.
#: Crypto rows add the measured µs of the cryptography itself (bench/host_crypto_bench.py).
HOST_GAS_PER_US = 440
#: Goal for bench/gas_calibration.py: host ns/gas within this factor of wasm arithmetic.
HOST_RATIO_GOAL = 20

#: What every host call pays for crossing from wasm into the host and back (wasmtime-py's
#: trampoline, argument and result conversion, the fuel bookkeeping): 11-24 µs of wall time
#: measured for the cheapest rows (block_height, gas_left, caller) on a loaded 2-core
#: machine; priced at 23 µs times HOST_GAS_PER_US. It was 10 gas, about 1,000 ns per gas.
HOST_CALL_BASE = 10_000

#: Host-call prices by host function name (vm/host_table.py): HOST_CALL_BASE plus the
#: measured extra work of the row; per_byte from the bytes it moves (or keeps, for logs).
HOST_PRICES: dict[str, Price] = {
    "storage_read": Price(HOST_CALL_BASE + 4_000, 3),
    "storage_write": Price(HOST_CALL_BASE + 5_000, 30),
    "storage_delete": Price(HOST_CALL_BASE + 2_500, 3),
    "storage_has": Price(HOST_CALL_BASE + 3_000, 3),
    "input_size": Price(HOST_CALL_BASE),
    "input_copy": Price(HOST_CALL_BASE, 1),
    # Kept in the receipt like event data (a transaction's return data is recorded), so
    # priced as events are: at 1 a byte it bought disk 8 times cheaper than events did.
    "set_return": Price(HOST_CALL_BASE, 8),
    "revert": Price(HOST_CALL_BASE, 1),
    "emit_event": Price(HOST_CALL_BASE + 1_000, 8),
    "caller": Price(HOST_CALL_BASE),
    "self_address": Price(HOST_CALL_BASE),
    "block_height": Price(HOST_CALL_BASE),
    "block_time": Price(HOST_CALL_BASE),
    "chain_id": Price(HOST_CALL_BASE),
    "gas_left": Price(HOST_CALL_BASE),
    # Logs are kept in the receipt, like event data; at most MAX_LOG_BYTES per call.
    "debug_log": Price(HOST_CALL_BASE + 2_000, 8),
    # Crypto and state proofs: the host µs measured by bench/host_crypto_bench.py times
    # HOST_GAS_PER_US (docs/host-abi.md). n is every input byte read; the per-scheme and
    # per-key tables below add the cryptography itself. The bases add what a call with
    # malformed input (which skips the cryptography) costs in wall time.
    "hash_sha256": Price(HOST_CALL_BASE + 6_000, 1),
    "hash_keccak256": Price(HOST_CALL_BASE + 10_000, 3),
    "hash_blake2b256": Price(HOST_CALL_BASE + 6_000, 1),
    "sig_verify": Price(HOST_CALL_BASE + 25_000, 1),
    "multisig_verify": Price(HOST_CALL_BASE + 26_000, 1),
    "bls_aggregate_verify": Price(HOST_CALL_BASE + 3_000, 1),
    "kem_encapsulate": Price(HOST_CALL_BASE + 16_500, 1),
    "kem_decapsulate": Price(HOST_CALL_BASE + 47_000, 1),
    "keygen_seeded": Price(HOST_CALL_BASE + 12_000, 1),
    # 3 per byte, as hash_keccak256: the value, whatever its size, is hashed with Keccak-256.
    "merkle_verify": Price(HOST_CALL_BASE + 25_000, 3),
    "panic": Price(HOST_CALL_BASE, 1),
}

#: debug_log: message bytes kept per call; later messages are dropped and the logs end
#: with one line saying how many bytes were (LOG_TRUNCATED). Every call is still charged.
MAX_LOG_BYTES = 16 * 1024
LOG_TRUNCATED = "[logs truncated: {dropped} more bytes over the {limit}-byte limit per call]"

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

#: WebAssembly: per 64 KiB page a call grows its linear memory by (`memory.grow`),
#: charged when the call returns or fails: growing a page and touching it took 18 µs (255
#: pages, one write every 4 KiB, 4.7 ms a call; 2026-12-07), times HOST_GAS_PER_US. Pages
#: a module starts with beyond FREE_MEMORY_PAGES cost the same, charged before the call
#: runs: touching them costs what touching grown pages does. (ZVM prices its memory by
#: expansion.)
MEMORY_PAGE = 8_000
#: The pages a call's memory may start with free: what `ghost build` gives a contract
#: (Zig's 1 MiB stack and its data, 18 pages for every template and example).
FREE_MEMORY_PAGES = 18

#: Charged once per transaction before the contract runs.
TX_BASE = 21_000
#: Deploying: per byte of module code stored (and compiled: 0.14-0.84 µs per byte measured,
#: so a 512 KiB module's 105M gas covers its compile at HOST_GAS_PER_US).
DEPLOY_PER_BYTE = 200

DEFAULT_GAS_LIMIT = defaults.DEFAULT_GAS_LIMIT  # config is the leaf every layer reads
#: The most gas one transaction or query may ask for; above it the request is refused
#: before anything runs. At the 20x goal 1G gas is under 3 s of wall time, inside the
#: 5 s wall-clock backstop, and it bounds what a call can buffer (writes, events).
MAX_TX_GAS = 1_000_000_000
#: The most storage keys one transaction (or query) may write or delete, counted once each
#: across every contract it reaches; one more fails the call (`storage_limit`) before
#: anything is recorded. Gas does not bound this on its own: a written key costs the
#: store far more at commit than its ~16,000 gas buy, since an authenticated store (a
#: node's) rewrites the key's path of state-tree rows and their history: 0.1-0.5 ms a
#: key into an empty store, 0.4-1.3 ms with 50,000 keys stored (bench/storage_write_cost.py;
#: one call writing 50,000 keys for 775M gas held the writer 52 s). At 1,024 a
#: transaction's commit stays near a second, inside the wall-clock bound its run has.
MAX_TX_STORAGE_KEYS = 1_024
