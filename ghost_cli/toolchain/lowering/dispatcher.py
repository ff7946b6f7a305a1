"""The entry of lowered code: pick the exported body by the call's selector.

Call data is selector ‖ arguments; the selector of a function is keccak256 of its ABI
signature text, first 4 bytes. The body is called like any function, with a return
address that halts: its result has already been handed to the host by set_return. An
unknown selector reverts with "unknown function".
"""

from __future__ import annotations

from ...abi import Abi
from ...vm.zvm.container import selector

UNKNOWN = b"unknown function"


def dispatcher(abi: Abi, bodies: dict[str, str]) -> list[str]:
    """Assembly for the dispatcher; `bodies` maps function names to their labels."""
    out = ["PUSH 0", "CALLDATALOAD", "PUSH 224", "SHR"]
    for fn in abi.functions:
        out += ["DUP1", f"PUSH4 0x{selector(fn.signature).hex()}", "EQ",
                f"PUSH @entry_{fn.name}", "JUMPI"]
    word = int.from_bytes(UNKNOWN.ljust(32, b"\0"), "big")
    out += [f"PUSH32 {word}", "PUSH 0", "MSTORE", f"PUSH {len(UNKNOWN)}", "PUSH 0", "REVERT"]
    for fn in abi.functions:
        out += [f"entry_{fn.name}: JUMPDEST", "POP", "PUSH @halt", f"PUSH @{bodies[fn.name]}",
                "JUMP"]
    out += ["halt: JUMPDEST", "HALT"]
    return out
