"""Calls to host functions (imports from module "ghost") as HOSTCALL.

HOSTCALL pops the function's parameters with the first one on top, the reverse of
wasm's order, so the arguments are reversed first. Pointers are wasm addresses: each
(pointer, length) range is checked against linear memory, as the WebAssembly host does,
then the pointer is moved by the memory's base to a ZVM address.

ZVM's DUP and SWAP reach four items deep, so up to four arguments are reversed and
checked on the stack. The crypto rows with five to eight parameters are first stored in
spill slots (layout.py, `spill_base`: one word per parameter, only in modules that call
such a row) and pushed back from there in the order HOSTCALL takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import CompileError
from ...vm.host_calls import MAX_PANIC_BYTES
from ...vm.host_services import ABSENT, HASH_BYTES, ML_KEM_768
from ...vm.host_table import HOST_FUNCTIONS, HostFunction
from .layout import WORD
from .memory import MemoryOps

#: The memory ranges each host function reads or writes: (pointer parameter, length
#: parameter or None, bytes per unit of length or the fixed length when there is none).
RANGES: dict[str, tuple[tuple[int, int | None, int], ...]] = {
    "storage_read": ((0, 1, 1), (2, 3, 1)),
    "storage_write": ((0, 1, 1), (2, 3, 1)),
    "storage_delete": ((0, 1, 1),),
    "storage_has": ((0, 1, 1),),
    "input_size": (),
    "input_copy": ((0, 2, 1),),
    "set_return": ((0, 1, 1),),
    "revert": ((0, 1, 1),),
    "emit_event": ((0, 1, 32), (2, 3, 1)),
    "caller": ((0, None, 20),),
    "self_address": ((0, None, 20),),
    "block_height": (),
    "block_time": (),
    "chain_id": (),
    "gas_left": (),
    "debug_log": ((0, 1, 1),),
    "hash_sha256": ((0, 1, 1), (2, None, 32)),
    "hash_keccak256": ((0, 1, 1), (2, None, 32)),
    "hash_blake2b256": ((0, 1, 1), (2, None, 32)),
    "panic": ((0, 1, 1),),
    # five to eight parameters: through the spill slots
    "sig_verify": ((0, 1, 1), (2, 3, 1), (4, 5, 1)),
    "multisig_verify": ((0, 1, 1), (2, 3, 1), (4, 5, 1)),
    "bls_aggregate_verify": ((0, 1, 1), (2, 3, 1), (4, 5, 1), (6, 7, 1)),
    "kem_encapsulate": ((0, 1, 1), (2, 3, 1), (4, None, ML_KEM_768.ciphertext_size),
                        (5, None, ML_KEM_768.shared_secret_size)),
    "kem_decapsulate": ((0, 1, 1), (2, 3, 1), (4, None, ML_KEM_768.shared_secret_size)),
    "keygen_seeded": ((1, 2, 1), (3, 4, 1)),
    "merkle_verify": ((0, None, HASH_BYTES), (1, None, 20), (2, 3, 1), (4, 5, 1),
                      (6, 7, 1)),
}
#: Most parameters HOSTCALL's arguments can have for them to be reversed and checked on
#: the stack (DUP1-4, SWAP1-4): a row with more goes through the spill slots.
STACK_PARAMS = 4
#: Length parameters that mean "no range" when they hold ABSENT (merkle_verify's value
#: length: proving a key absent reads no value), as the host reads them.
ABSENT_LENGTHS: dict[str, int] = {"merkle_verify": 5}

#: Host functions that read at most this many bytes of their range, whatever its length
#: parameter says (a longer panic message is cut): only that much must be in memory.
READ_CAPS: dict[str, int] = {"panic": MAX_PANIC_BYTES}
#: [length] -> [min(length, cap)] with the cap pushed above it: 1 when length < cap
#: (GT pops the cap first), then cap + flag * (length - cap), wrapping mod 2^256.
_MIN_WITH_CAP = ["DUP2", "DUP2", "GT", "SWAP2", "DUP2", "SWAP1", "SUB", "SWAP1", "SWAP2",
                 "MUL", "ADD"]

HOST_INDEX = {f.name: i for i, f in enumerate(HOST_FUNCTIONS)}
# Reversing up to four arguments with SWAP1..SWAP4 only.
_REVERSE = {0: [], 1: [], 2: ["SWAP1"], 3: ["SWAP2"], 4: ["SWAP3", "SWAP1", "SWAP2", "SWAP1"]}


@dataclass(frozen=True)
class HostCall:
    function: HostFunction
    index: int


def host_range_trap(name: str) -> str:
    """The trap kind of a host call's range outside linear memory (checked before the
    HOSTCALL): the debug sidecar reports it as wasm does, host_memory_out_of_bounds."""
    return f"{HOST_RANGE_TRAP} {name}: a range outside memory"


#: How every host-range trap kind begins (toolchain/debuginfo.py reads it).
HOST_RANGE_TRAP = "host call"


def unlowered(name: str) -> str | None:
    """What a call to `name` is, for the refusal, when it cannot be lowered (None when it
    can): an import from module "ghost" that is no row of the host table."""
    if name in RANGES:
        return None
    return f"a call to host function {name!r}"


def spill_words(name: str) -> int:
    """Spill slots a call to host function `name` needs (0: its arguments stay on the
    stack)."""
    n = len(HOST_FUNCTIONS[HOST_INDEX[name]].params) if name in HOST_INDEX else 0
    return n if n > STACK_PARAMS else 0


def host_call(name: str) -> HostCall:
    why = unlowered(name)
    if why is not None:
        raise CompileError(f"cannot lower {why}: not supported on ZVM")
    return HostCall(HOST_FUNCTIONS[HOST_INDEX[name]], HOST_INDEX[name])


def lower_host_call(call: HostCall, memory: MemoryOps) -> list[str]:
    """[p1 .. pn] (pn on top) -> [result] or []."""
    n = len(call.function.params)
    if n > STACK_PARAMS:
        return _lower_spilled(call, memory)
    out = list(_REVERSE[n])  # now p1 is on top: parameter i is stack item i + 1
    for ptr, length, unit in RANGES[call.function.name]:
        # the range's end on top (length first: DUP reaches only four items deep),
        # compared with the memory size
        out += _range_end(call, [f"DUP{length + 1}"] if length is not None else None, unit)
        out += [f"DUP{ptr + 2}", "ADD", *_outside(call, memory)]
    for ptr in sorted({r[0] for r in RANGES[call.function.name]}):
        base = [f"PUSH {memory.layout.mem_base}", "ADD"]
        out += base if ptr == 0 else [f"SWAP{ptr}", *base, f"SWAP{ptr}"]
    out.append(f"HOSTCALL {call.index}")
    return out


def _lower_spilled(call: HostCall, memory: MemoryOps) -> list[str]:
    """As lower_host_call, for a row of more than four parameters: each argument is
    stored in its spill slot (pn first, from the top), the ranges are checked from the
    slots, and the arguments are pushed back from the last to the first, pointers moved."""
    n = len(call.function.params)
    first = memory.layout.spill_base

    def load(i: int) -> list[str]:
        return [f"PUSH {first + WORD * i}", "MLOAD"]

    out = []
    for i in reversed(range(n)):
        out += [f"PUSH {first + WORD * i}", "MSTORE"]  # MSTORE pops the offset first
    for ptr, length, unit in RANGES[call.function.name]:
        out += _range_end(call, load(length) if length is not None else None, unit)
        out += [*load(ptr), "ADD", *_outside(call, memory)]
    pointers = {r[0] for r in RANGES[call.function.name]}
    for i in reversed(range(n)):
        out += load(i)
        if i in pointers:
            out += [f"PUSH {memory.layout.mem_base}", "ADD"]
    out.append(f"HOSTCALL {call.index}")
    return out


def _range_end(call: HostCall, length: list[str] | None, unit: int) -> list[str]:
    """Push a range's size in bytes: `length` pushes its length parameter (None: the
    range is `unit` bytes long), capped where the host reads at most so much, and no
    range at all where ABSENT means none."""
    if length is None:
        return [f"PUSH {unit}"]
    out = list(length)
    name = call.function.name
    if name in ABSENT_LENGTHS:  # length * (length != ABSENT)
        out += ["DUP1", f"PUSH {ABSENT}", "EQ", "ISZERO", "MUL"]
    cap = READ_CAPS.get(name)
    if cap is not None:
        out += [f"PUSH {cap}", *_MIN_WITH_CAP]
    if unit != 1:
        out += [f"PUSH {unit}", "MUL"]
    return out


def _outside(call: HostCall, memory: MemoryOps) -> list[str]:
    """[end] -> []: trap when the range's end is past the memory size."""
    return [*memory.current_size(), "LT", f"TRAP:{host_range_trap(call.function.name)}"]
