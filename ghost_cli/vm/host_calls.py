"""Every row of the host table, written once for both engines.

Each call takes a `HostAccess` (the engine's view of the running call: its memory, gas
and per-call state) and the row's arguments as unsigned integers, and follows one order:
check sizes against the limits (TrapError), read every input (bounds-checked by the
engine: HostMemoryError on wasm), check the output ranges, charge the whole price, then
do the work (vm/host_services.py, or the call's state) and write the results. So a call
that cannot pay, or points outside memory, does nothing at all.

The bytes `n` priced by `HOST_PRICES[name].cost(n)` for the first sixteen rows are:

    storage_read    key + the value bytes copied out (at most out_cap)
    storage_write   key + value          storage_delete, storage_has   key
    input_copy      bytes copied         set_return, revert, debug_log  message/data
    emit_event      32 * topics + data   everything else               0

Results are plain integers (-1 for "none"); each engine encodes them for its ABI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ghost_cli.exceptions import GhostError, RevertError, TrapError
from ghost_cli.vm import host_services as svc
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.types import Event, Limits

MAX_TOPICS = 4
#: A panic message longer than this is cut (it is read only to be shown).
MAX_PANIC_BYTES = 1024
TOPIC_BYTES = 32
ADDRESS_BYTES = 20

#: Largest input of each kind, in bytes: generous for honest use, a bound on host work.
LIMITS: dict[str, int] = {
    "data": 1024 * 1024,  # hashed data
    "message": 64 * 1024,  # signed message
    "public key": 4096,  # encoded; ml-dsa-87's is 2593
    "signature": 32 * 1024,  # encoded; slh-dsa-sha2-128f's is 17089
    "descriptor": 48 * 1024,  # 16 members of up to 2595 bytes each
    "signature list": 320 * 1024,  # 16 entries of up to 3 + 17089 bytes
    "key list": 128 * svc.BLS_PK_BYTES,  # 128 BLS signers
    "proof list": 128 * svc.BLS_SIG_BYTES,
    "aggregate": 4096,
    "secret key": 4096,
    "ciphertext": 4096,
    "seed": 4096,
    "storage key": 1024,
    "value": 256 * 1024,
    "proof": 3 + 32 + 256 * 32 + 65,  # version, depth, bitmap, every sibling, leaf
}


class HostAccess(Protocol):
    """One engine's view of the call in progress, for one host function."""

    name: str

    def read(self, ptr: int, length: int) -> bytes: ...
    def reserve(self, ptr: int, length: int) -> None: ...
    def write(self, ptr: int, data: bytes) -> None: ...
    def charge(self, price: int) -> None: ...

    # ---- the call's context and state (the first sixteen rows) -------------------------

    @property
    def limits(self) -> Limits: ...
    @property
    def input(self) -> bytes: ...
    @property
    def caller_address(self) -> bytes: ...
    @property
    def self_address(self) -> bytes: ...
    @property
    def block_height(self) -> int: ...
    @property
    def block_time(self) -> int: ...
    @property
    def chain_id(self) -> int: ...
    def gas_left(self) -> int: ...
    def require_writable(self) -> None: ...
    def storage_get(self, key: bytes) -> bytes | None: ...
    def storage_set(self, key: bytes, value: bytes | None) -> None: ...
    def emit(self, event: Event) -> None: ...
    def log(self, message: str) -> None: ...
    def set_return(self, data: bytes) -> None: ...
    def set_revert(self, data: bytes) -> None: ...
    def panic(self, message: str) -> None: ...


def _read(m: HostAccess, what: str, ptr: int, length: int) -> bytes:
    limit = LIMITS[what]
    if length > limit:
        raise TrapError(
            f"host call {m.name}: {what} of {length} bytes exceeds the {limit}-byte limit")
    return m.read(ptr, length)


def _hash(m: HostAccess, data_ptr: int, data_len: int, out_ptr: int) -> None:
    data = _read(m, "data", data_ptr, data_len)
    m.reserve(out_ptr, svc.HASH_BYTES)
    m.charge(HOST_PRICES[m.name].cost(data_len))
    m.write(out_ptr, svc.HASHES[m.name](data))


def sig_verify(m: HostAccess, pk_ptr: int, pk_len: int, msg_ptr: int, msg_len: int,
               sig_ptr: int, sig_len: int) -> int:
    pk = _read(m, "public key", pk_ptr, pk_len)
    msg = _read(m, "message", msg_ptr, msg_len)
    sig = _read(m, "signature", sig_ptr, sig_len)
    m.charge(svc.sig_verify_price(pk, msg_len, pk_len + msg_len + sig_len))
    return int(svc.verify(pk, msg, sig))


def multisig_verify(m: HostAccess, desc_ptr: int, desc_len: int, msg_ptr: int, msg_len: int,
                    sigs_ptr: int, sigs_len: int) -> int:
    desc = _read(m, "descriptor", desc_ptr, desc_len)
    msg = _read(m, "message", msg_ptr, msg_len)
    sigs = _read(m, "signature list", sigs_ptr, sigs_len)
    parsed = svc.parse_multisig(desc, sigs)
    m.charge(svc.multisig_price(parsed, msg_len, desc_len + msg_len + sigs_len))
    return int(svc.multisig_check(parsed, msg))


def bls_aggregate_verify(m: HostAccess, pks_ptr: int, pks_len: int, pops_ptr: int,
                         pops_len: int, msg_ptr: int, msg_len: int, agg_ptr: int,
                         agg_len: int) -> int:
    pks = _read(m, "key list", pks_ptr, pks_len)
    pops = _read(m, "proof list", pops_ptr, pops_len)
    msg = _read(m, "message", msg_ptr, msg_len)
    agg = _read(m, "aggregate", agg_ptr, agg_len)
    m.charge(svc.bls_aggregate_price(pks_len, msg_len, pks_len + pops_len + msg_len + agg_len))
    return int(svc.bls_aggregate_verify(pks, pops, msg, agg))


def kem_encapsulate(m: HostAccess, pk_ptr: int, pk_len: int, seed_ptr: int, seed_len: int,
                    ct_out_ptr: int, ss_out_ptr: int) -> int:
    pk = _read(m, "public key", pk_ptr, pk_len)
    seed = _read(m, "seed", seed_ptr, seed_len)
    m.reserve(ct_out_ptr, svc.ML_KEM_768.ciphertext_size)
    m.reserve(ss_out_ptr, svc.ML_KEM_768.shared_secret_size)
    m.charge(HOST_PRICES["kem_encapsulate"].cost(pk_len + seed_len))
    result = svc.kem_encapsulate(pk, seed)
    if result is None:
        return 0
    m.write(ct_out_ptr, result[0])
    m.write(ss_out_ptr, result[1])
    return 1


def kem_decapsulate(m: HostAccess, sk_ptr: int, sk_len: int, ct_ptr: int, ct_len: int,
                    ss_out_ptr: int) -> int:
    sk = _read(m, "secret key", sk_ptr, sk_len)
    ct = _read(m, "ciphertext", ct_ptr, ct_len)
    m.reserve(ss_out_ptr, svc.ML_KEM_768.shared_secret_size)
    m.charge(HOST_PRICES["kem_decapsulate"].cost(sk_len + ct_len))
    shared = svc.kem_decapsulate(sk, ct)
    if shared is None:
        return 0
    m.write(ss_out_ptr, shared)
    return 1


def keygen_seeded(m: HostAccess, scheme_id: int, seed_ptr: int, seed_len: int,
                  pk_out_ptr: int, pk_cap: int) -> int:
    seed = _read(m, "seed", seed_ptr, seed_len)
    m.reserve(pk_out_ptr, pk_cap)
    m.charge(svc.keygen_price(scheme_id, seed_len))
    pk = svc.keygen_seeded(scheme_id, seed)
    if pk is None:
        return -1
    m.write(pk_out_ptr, pk[:pk_cap])
    return len(pk)


def merkle_verify(m: HostAccess, root_ptr: int, address_ptr: int, key_ptr: int, key_len: int,
                  value_ptr: int, value_len: int, proof_ptr: int, proof_len: int) -> int:
    root = m.read(root_ptr, svc.HASH_BYTES)
    address = m.read(address_ptr, 20)
    key = _read(m, "storage key", key_ptr, key_len)
    absent = value_len == svc.ABSENT
    value = None if absent else _read(m, "value", value_ptr, value_len)
    proof = _read(m, "proof", proof_ptr, proof_len)
    nbytes = key_len + (0 if absent else value_len) + proof_len
    m.charge(svc.merkle_price(proof, nbytes))
    return int(svc.merkle_verify(root, address, key, value, proof))


# ---- storage (against the engine's view: wasm's overlay, ZVM's journaled state) ---------


def _over(m: HostAccess, what: str, size: int, limit: int) -> TrapError:
    return TrapError(
        f"host call {m.name}: {what} of {size} bytes exceeds the {limit}-byte limit")


def _key(m: HostAccess, ptr: int, n: int) -> bytes:
    if n > m.limits.max_key_bytes:
        raise _over(m, "key", n, m.limits.max_key_bytes)
    return m.read(ptr, n)


def storage_read(m: HostAccess, key_ptr: int, key_len: int, out_ptr: int, out_cap: int) -> int:
    key = _key(m, key_ptr, key_len)
    m.reserve(out_ptr, out_cap)
    value = m.storage_get(key)
    copied = b"" if value is None else value[:out_cap]
    m.charge(HOST_PRICES["storage_read"].cost(len(key) + len(copied)))
    if value is None:
        return -1
    m.write(out_ptr, copied)
    return len(value)


def storage_write(m: HostAccess, key_ptr: int, key_len: int, val_ptr: int, val_len: int) -> None:
    m.require_writable()
    key = _key(m, key_ptr, key_len)
    if val_len > m.limits.max_value_bytes:
        raise _over(m, "value", val_len, m.limits.max_value_bytes)
    value = m.read(val_ptr, val_len)
    m.charge(HOST_PRICES["storage_write"].cost(len(key) + len(value)))
    m.storage_set(key, value)


def storage_delete(m: HostAccess, key_ptr: int, key_len: int) -> None:
    m.require_writable()
    key = _key(m, key_ptr, key_len)
    m.charge(HOST_PRICES["storage_delete"].cost(len(key)))
    m.storage_set(key, None)


def storage_has(m: HostAccess, key_ptr: int, key_len: int) -> int:
    key = _key(m, key_ptr, key_len)
    m.charge(HOST_PRICES["storage_has"].cost(len(key)))
    return 0 if m.storage_get(key) is None else 1


# ---- call data and result ----------------------------------------------------------------


def input_size(m: HostAccess) -> int:
    m.charge(HOST_PRICES["input_size"].cost())
    return len(m.input)


def input_copy(m: HostAccess, out_ptr: int, offset: int, length: int) -> None:
    data = m.input
    if offset + length > len(data):
        raise TrapError(
            f"host call input_copy: offset {offset} + len {length} past the end of the "
            f"call data ({len(data)} bytes)")
    m.reserve(out_ptr, length)
    m.charge(HOST_PRICES["input_copy"].cost(length))
    m.write(out_ptr, data[offset:offset + length])


def set_return(m: HostAccess, ptr: int, length: int) -> None:
    if length > m.limits.max_return_bytes:
        raise _over(m, "return data", length, m.limits.max_return_bytes)
    data = m.read(ptr, length)
    m.charge(HOST_PRICES["set_return"].cost(length))
    m.set_return(data)


def revert(m: HostAccess, msg_ptr: int, msg_len: int) -> None:
    if msg_len > m.limits.max_return_bytes:
        raise _over(m, "reason", msg_len, m.limits.max_return_bytes)
    msg = m.read(msg_ptr, msg_len)
    m.charge(HOST_PRICES["revert"].cost(msg_len))
    m.set_revert(msg)
    raise RevertError(msg.decode("utf-8", errors="replace"))


def panic(m: HostAccess, msg_ptr: int, msg_len: int) -> None:
    """The SDK's panic handler: the message, then a trap (the engine reports both)."""
    msg_len = min(msg_len, MAX_PANIC_BYTES)
    msg = m.read(msg_ptr, msg_len)
    m.charge(HOST_PRICES["panic"].cost(msg_len))
    m.panic(msg.decode("utf-8", errors="replace"))


# ---- events and logs ---------------------------------------------------------------------


def emit_event(m: HostAccess, topics_ptr: int, topic_count: int, data_ptr: int,
               data_len: int) -> None:
    m.require_writable()
    if topic_count > MAX_TOPICS:
        raise TrapError(
            f"host call emit_event: {topic_count} topics, at most {MAX_TOPICS} allowed")
    if data_len > m.limits.max_event_data_bytes:
        raise _over(m, "event data", data_len, m.limits.max_event_data_bytes)
    raw = m.read(topics_ptr, topic_count * TOPIC_BYTES)
    data = m.read(data_ptr, data_len)
    m.charge(HOST_PRICES["emit_event"].cost(len(raw) + data_len))
    topics = tuple(raw[i:i + TOPIC_BYTES] for i in range(0, len(raw), TOPIC_BYTES))
    m.emit(Event(m.self_address, topics, data))


def debug_log(m: HostAccess, msg_ptr: int, msg_len: int) -> None:
    msg = m.read(msg_ptr, msg_len)
    m.charge(HOST_PRICES["debug_log"].cost(msg_len))
    m.log(msg.decode("utf-8", errors="replace"))


# ---- context -----------------------------------------------------------------------------


def _address(m: HostAccess, out_ptr: int, address: bytes) -> None:
    m.reserve(out_ptr, ADDRESS_BYTES)
    m.charge(HOST_PRICES[m.name].cost())
    m.write(out_ptr, address[:ADDRESS_BYTES].ljust(ADDRESS_BYTES, b"\0"))


def caller(m: HostAccess, out_ptr: int) -> None:
    _address(m, out_ptr, m.caller_address)


def self_address(m: HostAccess, out_ptr: int) -> None:
    _address(m, out_ptr, m.self_address)


def _context(field: str) -> Callable[[HostAccess], int]:
    """block_height, block_time, chain_id: a flat price, then the value."""

    def call(m: HostAccess) -> int:
        m.charge(HOST_PRICES[field].cost())
        return int(getattr(m, field))

    call.__name__ = field
    return call


def gas_left(m: HostAccess) -> int:
    m.charge(HOST_PRICES["gas_left"].cost())  # charged first: the result is what remains
    return max(0, m.gas_left())


#: Host function name → its engine-neutral implementation.
CALLS: dict[str, Callable[..., int | None]] = {
    "storage_read": storage_read,
    "storage_write": storage_write,
    "storage_delete": storage_delete,
    "storage_has": storage_has,
    "input_size": input_size,
    "input_copy": input_copy,
    "set_return": set_return,
    "revert": revert,
    "emit_event": emit_event,
    "caller": caller,
    "self_address": self_address,
    "block_height": _context("block_height"),
    "block_time": _context("block_time"),
    "chain_id": _context("chain_id"),
    "gas_left": gas_left,
    "debug_log": debug_log,
    "hash_sha256": _hash,
    "hash_keccak256": _hash,
    "hash_blake2b256": _hash,
    "sig_verify": sig_verify,
    "multisig_verify": multisig_verify,
    "bls_aggregate_verify": bls_aggregate_verify,
    "kem_encapsulate": kem_encapsulate,
    "kem_decapsulate": kem_decapsulate,
    "keygen_seeded": keygen_seeded,
    "merkle_verify": merkle_verify,
    "panic": panic,
}


# ---- tracing -----------------------------------------------------------------------------
# Off, an engine pays one None check per host call. On, the engine calls `call_traced`,
# which runs the same row over a recording view of the access and reports what the row
# read, wrote, emitted and charged (vm/trace.py builds the call tree from it).


class HostTracer(Protocol):
    def host_call(self, name: str, gas: int, notes: dict, result: int | None,
                  error: GhostError | None) -> None: ...


class _Recording:
    """A HostAccess that notes what the row does and what it is charged."""

    __slots__ = ("_m", "gas", "name", "notes")

    def __init__(self, m: HostAccess) -> None:
        self._m, self.name, self.gas, self.notes = m, m.name, 0, {}

    def __getattr__(self, attr: str):  # read, reserve, write, the context properties
        return getattr(self._m, attr)

    def charge(self, price: int) -> None:
        self.gas += price  # counted even when it cannot be paid: the trace shows the ask
        self._m.charge(price)

    def storage_get(self, key: bytes) -> bytes | None:
        value = self._m.storage_get(key)
        self.notes.update(key=key, value=value)
        return value

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        self.notes.update(key=key, value=value)
        self._m.storage_set(key, value)

    def emit(self, event: Event) -> None:
        self.notes["event"] = event
        self._m.emit(event)

    def log(self, message: str) -> None:
        self.notes["message"] = message
        self._m.log(message)

    def set_return(self, data: bytes) -> None:
        self.notes["data"] = data
        self._m.set_return(data)

    def set_revert(self, data: bytes) -> None:
        self.notes["reason"] = data.decode("utf-8", errors="replace")
        self._m.set_revert(data)


def call_traced(tracer: HostTracer, call: Callable[..., int | None], m: HostAccess,
                *args: int) -> int | None:
    """Run one host row as the engine would, reporting it to `tracer` (failures too)."""
    rec = _Recording(m)
    try:
        result = call(rec, *args)
    except GhostError as exc:
        tracer.host_call(m.name, rec.gas, rec.notes, None, exc)
        raise
    tracer.host_call(m.name, rec.gas, rec.notes, result, None)
    return result
