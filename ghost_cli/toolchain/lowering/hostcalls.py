"""Calls to host functions (imports from module "ghost") as HOSTCALL.

HOSTCALL pops the function's parameters with the first one on top, the reverse of
wasm's order, so the arguments are reversed first. Pointers are wasm addresses: each
(pointer, length) range is checked against linear memory, as the WebAssembly host does,
then the pointer is moved by the memory's base to a ZVM address.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import CompileError
from ...vm.host_calls import MAX_PANIC_BYTES
from ...vm.host_table import HOST_FUNCTIONS, HostFunction
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
    # The other crypto rows take 5 to 8 parameters; ZVM reaches 4 stack items deep
    # (DUP1-4, SWAP1-4), so lowering them needs spill slots: not yet (docs/host-abi.md).
}

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
    """What a call to host function `name` is, for the refusal, when it cannot be lowered
    (None when it can): a build error has to say why a row the host has is refused."""
    if name in RANGES:
        return None
    if name in HOST_INDEX:
        n = len(HOST_FUNCTIONS[HOST_INDEX[name]].params)
        return (f"a call to host function {name!r} ({n} parameters; ZVM reaches "
                "4 stack items deep)")
    return f"a call to host function {name!r}"


def host_call(name: str) -> HostCall:
    why = unlowered(name)
    if why is not None:
        raise CompileError(f"cannot lower {why}: not supported on ZVM")
    return HostCall(HOST_FUNCTIONS[HOST_INDEX[name]], HOST_INDEX[name])


def lower_host_call(call: HostCall, memory: MemoryOps) -> list[str]:
    """[p1 .. pn] (pn on top) -> [result] or []."""
    n = len(call.function.params)
    out = list(_REVERSE[n])  # now p1 is on top: parameter i is stack item i + 1
    for ptr, length, unit in RANGES[call.function.name]:
        # the range's end on top (length first: DUP reaches only four items deep),
        # compared with the memory size
        if length is None:
            out.append(f"PUSH {unit}")
        else:
            out.append(f"DUP{length + 1}")
            cap = READ_CAPS.get(call.function.name)
            if cap is not None:
                out += [f"PUSH {cap}", *_MIN_WITH_CAP]
            if unit != 1:
                out += [f"PUSH {unit}", "MUL"]
        out += [f"DUP{ptr + 2}", "ADD", *memory.current_size(), "LT",
                f"TRAP:{host_range_trap(call.function.name)}"]
    for ptr in sorted({r[0] for r in RANGES[call.function.name]}):
        base = [f"PUSH {memory.layout.mem_base}", "ADD"]
        out += base if ptr == 0 else [f"SWAP{ptr}", *base, f"SWAP{ptr}"]
    out.append(f"HOSTCALL {call.index}")
    return out
