"""Host ABI v1 served to WebAssembly: every row of vm/host_table.py, defined once.

`HostFunctions.define(linker)` loops over HOST_FUNCTIONS and defines every row on the
engine's Linker, typed from the table. The rows themselves are written once for both
engines (vm/host_calls.py); here each call only gets a `WasmAccess`: the current
CallFrame (found on the engine's frame stack) and the live Caller, used only for the
duration of the call, for bounds-checked memory, fuel and the frame's buffered state.
"""

from __future__ import annotations

from collections.abc import Callable

import wasmtime

from ghost_cli.exceptions import GhostError
from ghost_cli.vm.host_calls import CALLS, call_traced
from ghost_cli.vm.host_table import HOST_FUNCTIONS, HOST_MODULE, HostFunction
from ghost_cli.vm.types import Event, Limits

from .frame import CallFrame, FrameStack

_U32 = 0xFFFF_FFFF
_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64}


def func_type(row: HostFunction) -> wasmtime.FuncType:
    return wasmtime.FuncType(
        [_VALTYPES[t]() for _, t in row.params], [_VALTYPES[t]() for t in row.results])


def _i64(value: int) -> int:
    """Context values are unsigned; wasm i64 results are passed signed."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _val_i32(value: int) -> wasmtime.Val:
    value &= 0xFFFF_FFFF
    return wasmtime.Val.i32(value - (1 << 32) if value >= 1 << 31 else value)


def _val_i64(value: int) -> wasmtime.Val:
    return wasmtime.Val.i64(_i64(value))


class WasmAccess:
    """vm/host_calls.py's view of one wasm host call: the frame's memory, fuel and state."""

    __slots__ = ("_caller", "_frame", "_span", "name")

    def __init__(self, frame: CallFrame, caller: wasmtime.Caller, name: str) -> None:
        self._frame, self._caller, self.name = frame, caller, name
        self._span: tuple[int, int] | None = None  # memory's address and size, this call

    def _memory(self) -> tuple[int, int]:
        span = self._span
        if span is None:  # asked once per host call (two ctypes calls), not per access
            span = self._span = self._frame.span(self._caller)
        return span

    def read(self, ptr: int, length: int) -> bytes:
        return self._frame.read(self._memory(), self.name, ptr, length)

    def reserve(self, ptr: int, length: int) -> None:
        self._frame.bounded(self._memory(), self.name, ptr, length)

    def write(self, ptr: int, data: bytes) -> None:
        self._frame.write(self._memory(), self.name, ptr, data)

    def charge(self, price: int) -> None:
        self._frame.charge(self.name, price)

    # ---- context and state: everything is buffered on the frame until the call succeeds

    @property
    def limits(self) -> Limits:
        return self._frame.limits

    @property
    def input(self) -> bytes:
        return self._frame.ctx.input

    @property
    def caller_address(self) -> bytes:
        return self._frame.ctx.caller

    @property
    def self_address(self) -> bytes:
        return self._frame.ctx.address

    @property
    def block_height(self) -> int:
        return self._frame.ctx.block_height

    @property
    def block_time(self) -> int:
        return self._frame.ctx.block_time

    @property
    def chain_id(self) -> int:
        return self._frame.ctx.chain_id

    def gas_left(self) -> int:
        return self._frame.gas_left()

    def require_writable(self) -> None:
        """The wasm engine has no static calls: every call may write."""

    def storage_get(self, key: bytes) -> bytes | None:
        return self._frame.storage_get(key)

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        self._frame.overlay[key] = value

    def emit(self, event: Event) -> None:
        self._frame.events.append(event)

    def log(self, message: str) -> None:
        self._frame.logs.add(message)

    def set_return(self, data: bytes) -> None:
        self._frame.return_data = data

    def set_revert(self, data: bytes) -> None:
        """The reason travels in the RevertError; a reverted wasm call returns no data."""

    def panic(self, message: str) -> None:
        """Kept for the trap that follows, which carries the backtrace (traps.py)."""
        self._frame.panic = message
        self._frame.panic_gas = self._frame.gas_used()


def _handler(row: HostFunction) -> Callable[..., object]:
    call = CALLS[row.name]
    name = row.name
    # Results go back as wasmtime.Val: wasmtime-py converts a plain int by building and
    # comparing three ValTypes, which was two thirds of a host call's wall time.
    wrap = {(): None, ("i32",): _val_i32, ("i64",): _val_i64}[row.results]

    def handler(frame: CallFrame, caller: wasmtime.Caller, *args: int) -> object:
        args = [a & _U32 for a in args]  # wasmtime hands i32s over signed: make them u32
        if frame.tracer is None:
            result = call(WasmAccess(frame, caller, name), *args)
        else:
            result = call_traced(frame.tracer, call, WasmAccess(frame, caller, name), *args)
        return result if wrap is None or result is None else wrap(result)

    handler.__name__ = name
    return handler


class HostFunctions:
    """The handlers. Holds no call state itself: that lives on the frame stack."""

    def __init__(self, frames: FrameStack) -> None:
        self._frames = frames

    def define(self, linker: wasmtime.Linker) -> None:
        for row in HOST_FUNCTIONS:
            linker.define_func(
                HOST_MODULE, row.name, func_type(row), self._bind(_handler(row)),
                access_caller=True)

    def _bind(self, handler: Callable[..., object]) -> Callable[..., object]:
        frames = self._frames

        def call(caller: wasmtime.Caller, *args: int) -> int | None:
            frame = frames.current()
            try:
                return handler(frame, caller, *args)
            except GhostError as exc:
                frame.error = exc  # the engine raises exactly this, subclass and all
                raise

        return call
