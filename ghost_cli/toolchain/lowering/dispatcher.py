"""The entry of lowered code: pick the exported body by the call's selector.

Call data is selector ‖ arguments; the selector of a function is keccak256 of its ABI
signature text, first 4 bytes. The body is called like any function, with a return
address that halts: its result has already been handed to the host by set_return. An
unknown selector reverts with "unknown function".

The constructor (`Abi.constructor`) has an entry too, guarded: it runs only while
EXTCODESIZE of the contract's own address is 0, which is true only inside its deploy
transaction (the executor records the code after the constructor succeeds and marks the
run `CallContext.constructing`). Any later call of it, from a transaction or another
contract, reverts with "constructor already ran".
"""

from __future__ import annotations

from ...abi import Abi
from ...vm.zvm.container import selector

UNKNOWN = b"unknown function"
CONSTRUCTED = b"constructor already ran"


def entries(abi: Abi) -> tuple:
    """Every function lowered code can run: the callable ones and the constructor."""
    return (*abi.functions, *((abi.constructor,) if abi.constructor is not None else ()))


def _revert(message: bytes) -> list[str]:
    word = int.from_bytes(message.ljust(32, b"\0"), "big")
    return [f"PUSH32 {word}", "PUSH 0", "MSTORE", f"PUSH {len(message)}", "PUSH 0", "REVERT"]


def dispatcher(abi: Abi, bodies: dict[str, str]) -> list[str]:
    """Assembly for the dispatcher; `bodies` maps function names to their labels."""
    out = ["PUSH 0", "CALLDATALOAD", "PUSH 224", "SHR"]
    for fn in entries(abi):
        out += ["DUP1", f"PUSH4 0x{selector(fn.signature).hex()}", "EQ",
                f"PUSH @entry_{fn.name}", "JUMPI"]
    out += _revert(UNKNOWN)
    for fn in entries(abi):
        out += [f"entry_{fn.name}: JUMPDEST"]
        if fn is abi.constructor:
            out += ["ADDRESS", "EXTCODESIZE", "ISZERO", "PUSH @construct", "JUMPI",
                    *_revert(CONSTRUCTED), "construct: JUMPDEST"]
        out += ["POP", "PUSH @halt", f"PUSH @{bodies[fn.name]}", "JUMP"]
    out += ["halt: JUMPDEST", "HALT"]
    return out
