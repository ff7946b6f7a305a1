"""wasmtime traps and errors, translated into ghost's typed errors at the boundary."""

from __future__ import annotations

from ctypes import byref

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._trap import Frame, FrameList

from ghost_cli.exceptions import (
    ExecutionError,
    MemoryLimitError,
    StackOverflowError,
    TimeoutError_,
    TrapError,
)
from ghost_cli.vm.types import Limits

from .frame import CallFrame

WASM_PAGE = 64 * 1024


def one_line(message: str) -> str:
    """wasmtime errors are multi-line ("...\\n\\nCaused by:\\n    reason"); keep the gist."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    if "Caused by:" in lines:
        at = lines.index("Caused by:")
        causes = [line.removeprefix("wasm trap: ") for line in lines[at + 1:]]
        head = lines[0]
        if head.startswith("error while executing"):  # a trap: the cause says it all
            return "; ".join(causes)
        return ": ".join([head, *causes])
    return lines[0]


def size_text(nbytes: int) -> str:
    if nbytes % (1024 * 1024) == 0:
        return f"{nbytes // (1024 * 1024)} MiB"
    if nbytes % 1024 == 0:
        return f"{nbytes // 1024} KiB"
    return f"{nbytes} bytes"


def memory_exhausted(frame: CallFrame) -> bool:
    """Whether the store's limiter has (or would have) refused the memory another page.

    With store limits, `memory.grow` past the limit returns -1 instead of trapping; the
    contract then typically traps on its own (Zig: `unreachable` after a failed
    allocation). The limiter is not observable from Python, so we infer it: a trap while
    memory sits within one page of the limit is reported as the memory limit.
    """
    if frame.memory is None:
        return False
    return frame.memory.data_len(frame.store) + WASM_PAGE > frame.limits.memory_bytes


#: Innermost frames of a trap's backtrace kept for symbolization (toolchain/debuginfo.py).
MAX_FRAMES = 64


def backtrace(trap: wasmtime.Trap | wasmtime.WasmtimeError) -> list[tuple[int, int | None]]:
    """(function index, byte offset in the module) of each frame, innermost first; the
    offset is None where wasmtime knows none (it says 2**64 - 1: a frame that overflowed
    the stack on entry). A host function's error comes back from wasmtime as a
    WasmtimeError with the same trace."""
    if isinstance(trap, wasmtime.Trap):
        frames = trap.frames or []
    else:
        listed = FrameList(trap)
        ffi.wasmtime_error_wasm_trace(trap.ptr(), byref(listed.vec))
        frames = [Frame._from_ptr(listed.vec.data[i], listed) for i in range(listed.vec.size)]
    return [(f.func_index, _known(f.module_offset)) for f in frames[:MAX_FRAMES]]


def _known(offset: int | None) -> int | None:
    return None if offset is None or offset >= _UNKNOWN_OFFSET else offset


#: wasmtime's offset for a frame without one (usize::MAX).
_UNKNOWN_OFFSET = (1 << 64) - 1


def recursed(trap: wasmtime.Trap) -> bool:
    """Whether the backtrace calls a function again inside itself.

    Zig keeps locals that need memory on a shadow stack in linear memory that grows down
    from its top; unbounded recursion takes it below address 0, where the next access
    traps as out of bounds. ReleaseSafe code checks its own indexes, so an out-of-bounds
    access under a recursive backtrace is the shadow stack running out."""
    seen: set[int] = set()
    for f in trap.frames or []:
        if f.func_index in seen:
            return True
        seen.add(f.func_index)
    return False


def translate_trap(trap: wasmtime.Trap, frame: CallFrame, limits: Limits) -> ExecutionError:
    """A trap burns the call's whole gas limit, like an exceptional halt in the EVM: it is
    the one deterministic answer, as wasmtime does not bring its fuel counter up to date
    at the instruction that traps. (A Zig panic never gets here: its host call stops the
    call, charged the gas used up to it.)"""
    code = trap.trap_code
    limit = frame.ctx.gas_limit
    if code is wasmtime.TrapCode.OUT_OF_FUEL:
        return frame.out_of_gas()
    if code is wasmtime.TrapCode.STACK_OVERFLOW:
        return StackOverflowError(
            f"stack overflow: the call went deeper than the {size_text(limits.wasm_stack_bytes)} "
            "wasm stack allows", gas_used=limit, frames=backtrace(trap))
    if code is wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS and recursed(trap):
        return StackOverflowError(
            "stack overflow: the recursion ran past the bottom of the contract's stack",
            gas_used=limit, frames=backtrace(trap))
    if code is wasmtime.TrapCode.INTERRUPT:
        return TimeoutError_(
            f"timed out: the call ran longer than the {limits.timeout_seconds:g}s wall-clock "
            "limit", gas_used=limit)
    if memory_exhausted(frame):
        return MemoryLimitError(
            f"memory limit of {size_text(limits.memory_bytes)} exceeded", gas_used=limit)
    details: dict[str, object] = {"frames": backtrace(trap), "logs": list(frame.logs.logs())}
    if code is not None:
        details["trap_code"] = code.name.lower()
    return TrapError(f"trap: {one_line(trap.message)}", gas_used=limit, **details)
