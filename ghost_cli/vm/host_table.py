"""Host ABI v1 as data: every service a contract can ask of the host.

One row per function. The WebAssembly engine exposes each row as an import from the
module named `ghost`; the ZVM engine serves every row through HOSTCALL (0xD0) by its
index (`zvm_opcode` only names a native opcode of similar purpose). Gas for a
call is `gas.base + gas.per_byte * bytes moved` (see vm/gas.py). docs/host-abi.md is
written from this table; a test keeps the two in step.

Pointers (`ptr`) are byte offsets into the contract's linear memory; every pointer and
length is bounds-checked before the host touches memory.
"""

from __future__ import annotations

from dataclasses import dataclass

HOST_MODULE = "ghost"
ABI_VERSION = 1


@dataclass(frozen=True)
class HostFunction:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, wasm type)
    results: tuple[str, ...]  # wasm types
    doc: str
    zvm_opcode: int | None = None  # the ZVM opcode serving the same purpose, if any
    #: Changes contract state (storage or events): a function whose code can reach it
    #: is marked `mutates` in the ABI (toolchain/mutation.py).
    writes_state: bool = False


def _p(*pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.split(":")[0], p.split(":")[1]) for p in pairs)


HOST_FUNCTIONS: tuple[HostFunction, ...] = (
    HostFunction(
        "storage_read", _p("key_ptr:i32", "key_len:i32", "out_ptr:i32", "out_cap:i32"), ("i32",),
        "Copy up to out_cap bytes of the value stored under key to out; return the value's full "
        "length, or -1 when the key is absent.", 0x90),
    HostFunction(
        "storage_write", _p("key_ptr:i32", "key_len:i32", "val_ptr:i32", "val_len:i32"), (),
        "Store val under key, replacing any earlier value.", 0x91, writes_state=True),
    HostFunction(
        "storage_delete", _p("key_ptr:i32", "key_len:i32"), (),
        "Remove key; removing an absent key is not an error.", writes_state=True),
    HostFunction(
        "storage_has", _p("key_ptr:i32", "key_len:i32"), ("i32",),
        "1 when key is present, else 0."),
    HostFunction(
        "input_size", (), ("i32",),
        "Length of the call data.", 0xB6),
    HostFunction(
        "input_copy", _p("out_ptr:i32", "offset:i32", "len:i32"), (),
        "Copy len bytes of call data starting at offset to out; reading past the end is an "
        "error.", 0xB7),
    HostFunction(
        "set_return", _p("ptr:i32", "len:i32"), (),
        "Set the call's return data (the last call wins).", 0xA8),
    HostFunction(
        "revert", _p("msg_ptr:i32", "msg_len:i32"), (),
        "Abort the call with a UTF-8 reason; every state change and event is undone. Does not "
        "return.", 0xA9),
    HostFunction(
        "emit_event", _p("topics_ptr:i32", "topic_count:i32", "data_ptr:i32", "data_len:i32"), (),
        "Emit an event with topic_count 32-byte topics (at most 4; the SDK puts the event name "
        "in topic 0) and data. Kept only if the call succeeds.", 0xF8, writes_state=True),
    HostFunction(
        "caller", _p("out_ptr:i32"), (),
        "Write the 20-byte address of the account that made this call.", 0xB3),
    HostFunction(
        "self_address", _p("out_ptr:i32"), (),
        "Write the contract's own 20-byte address.", 0xB0),
    HostFunction(
        "block_height", (), ("i64",),
        "Height of the block this call executes in.", 0xC3),
    HostFunction(
        "block_time", (), ("i64",),
        "Timestamp of that block, Unix seconds.", 0xC2),
    HostFunction(
        "chain_id", (), ("i64",),
        "The chain id of the network.", 0xC7),
    HostFunction(
        "gas_left", (), ("i64",),
        "Gas remaining for this call, after this function's own price."),
    HostFunction(
        "debug_log", _p("msg_ptr:i32", "msg_len:i32"), (),
        "Record a debug message in the receipt's logs (never affects state)."),
    # ---- crypto and state proofs (vm/host_services.py; encodings in docs/host-abi.md) ----
    HostFunction(
        "hash_sha256", _p("data_ptr:i32", "data_len:i32", "out_ptr:i32"), (),
        "Write the 32-byte SHA-256 of data to out."),
    HostFunction(
        "hash_keccak256", _p("data_ptr:i32", "data_len:i32", "out_ptr:i32"), (),
        "Write the 32-byte Keccak-256 (Ethereum's, not SHA3-256) of data to out."),
    HostFunction(
        "hash_blake2b256", _p("data_ptr:i32", "data_len:i32", "out_ptr:i32"), (),
        "Write the 32-byte BLAKE2b-256 of data to out."),
    HostFunction(
        "sig_verify",
        _p("pk_ptr:i32", "pk_len:i32", "msg_ptr:i32", "msg_len:i32", "sig_ptr:i32",
           "sig_len:i32"), ("i32",),
        "1 when sig (scheme id ‖ raw) is a valid signature of msg under pk (scheme id ‖ raw), "
        "else 0; malformed input is 0. Plus the scheme's price (SIG_VERIFY_PRICES)."),
    HostFunction(
        "multisig_verify",
        _p("desc_ptr:i32", "desc_len:i32", "msg_ptr:i32", "msg_len:i32", "sigs_ptr:i32",
           "sigs_len:i32"), ("i32",),
        "1 when at least threshold distinct members of the multi-sig descriptor signed msg "
        "(sigs: see below), else 0. Plus each listed signature's scheme price."),
    HostFunction(
        "bls_aggregate_verify",
        _p("pks_ptr:i32", "pks_len:i32", "pops_ptr:i32", "pops_len:i32", "msg_ptr:i32",
           "msg_len:i32", "agg_ptr:i32", "agg_len:i32"), ("i32",),
        "1 when agg is the BLS12-381 aggregate of every key's signature on msg and every key's "
        "proof of possession verifies, else 0. Plus BLS_AGGREGATE_PER_KEY per key."),
    HostFunction(
        "kem_encapsulate",
        _p("pk_ptr:i32", "pk_len:i32", "seed_ptr:i32", "seed_len:i32", "ct_out_ptr:i32",
           "ss_out_ptr:i32"), ("i32",),
        "ML-KEM-768, deterministic: encapsulate to pk (1184 bytes) with the 32-byte seed as "
        "FIPS 203's randomness m; write the 1088-byte ciphertext to ct_out and the 32-byte "
        "shared secret to ss_out and return 1; 0 (nothing written) for a malformed pk or seed."),
    HostFunction(
        "kem_decapsulate",
        _p("sk_ptr:i32", "sk_len:i32", "ct_ptr:i32", "ct_len:i32", "ss_out_ptr:i32"), ("i32",),
        "ML-KEM-768: write the 32-byte shared secret of ct under sk (the 64-byte seed) to "
        "ss_out and return 1; 0 (nothing written) for malformed lengths."),
    HostFunction(
        "keygen_seeded",
        _p("scheme_id:i32", "seed_ptr:i32", "seed_len:i32", "pk_out_ptr:i32", "pk_cap:i32"),
        ("i32",),
        "Derive the encoded public key of a 32-byte seed; copy up to pk_cap bytes to pk_out "
        "and return its full length, or -1 when the scheme has no seeded keygen or the seed "
        "is bad. Plus the scheme's price (KEYGEN_PRICES)."),
    HostFunction(
        "merkle_verify",
        _p("root_ptr:i32", "address_ptr:i32", "key_ptr:i32", "key_len:i32", "value_ptr:i32",
           "value_len:i32", "proof_ptr:i32", "proof_len:i32"), ("i32",),
        "1 when the state proof shows storage key of the 20-byte address holds value under "
        "the 32-byte root (value_len -1: holds nothing), else 0. Plus MERKLE_PER_LEVEL per "
        "level of the proof."),
    HostFunction(
        "panic", _p("msg_ptr:i32", "msg_len:i32"), (),
        "Stop the call with the UTF-8 message of a Zig panic or failed safety check: it "
        "fails as `panic` with that message (docs/debugging.md), charged the gas used up to "
        "and including this call; nothing after it runs. Does not return."),
)

BY_NAME: dict[str, HostFunction] = {f.name: f for f in HOST_FUNCTIONS}
