"""Host ABI v1 served to WebAssembly: every row of vm/host_table.py, defined once.

`HostFunctions.define(linker)` loops over HOST_FUNCTIONS and defines every row on the
engine's Linker, typed from the table. The rows themselves are written once for both
engines (vm/host_calls.py); here each call only gets a `WasmAccess`: the current
CallFrame (found on the engine's frame stack), for bounds-checked memory, fuel and the
frame's buffered state.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import wasmtime
import wasmtime._func as wasmtime_func
from wasmtime import _ffi as ffi

from ghost_cli.exceptions import GhostError, PanicError
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


def _i32(value: int) -> int:
    value &= _U32
    return value - (1 << 32) if value >= 1 << 31 else value


_RESULTS = ((), ("i32",), ("i64",))
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()  # a null pointer


class WasmAccess:
    """vm/host_calls.py's view of one wasm host call: the frame's memory, fuel and state."""

    __slots__ = ("_frame", "_span", "name")

    def __init__(self, frame: CallFrame, name: str) -> None:
        self._frame, self.name = frame, name
        self._span: tuple[int, int] | None = None  # memory's address and size, this call

    def _memory(self) -> tuple[int, int]:
        span = self._span
        if span is None:  # asked once per host call (two ctypes calls), not per access
            span = self._span = self._frame.span()
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
        """Stop the call here, as ZVM's HOSTCALL panic does: a contract that went on after
        it could return normally, or spin to its gas limit and pay only for the panic.
        The engine adds the backtrace (engine.py) and the gas used (its price included)."""
        raise PanicError(f"panic: {message}", panic=message, logs=list(self._frame.logs.logs()))


def _raise_trap(exc: BaseException) -> int:
    """Hand `exc` to wasmtime-py the way its own host trampoline does: the call that
    entered wasm re-raises it from this process-wide slot when the trap comes out."""
    wasmtime_func.LAST_EXCEPTION = exc
    return ctypes.cast(wasmtime.Trap("python exception")._consume(), ctypes.c_void_p).value


class HostFunctions:
    """The handlers. Holds no call state itself: that lives on the frame stack.

    Every row is defined through wasmtime's "unchecked" host-function API: wasmtime hands
    the callback its raw argument slots and takes the result in the first one. wasmtime-py's
    own `define_func` builds a Caller and a Val per argument and converts the result back
    through typed Vals, about half of a host call's cost; every argument here is an i32
    and every result one i32 or i64 (checked against the table), so the raw slots say it
    all. The callbacks must live as long as the linker: they are kept here."""

    def __init__(self, frames: FrameStack) -> None:
        self._frames = frames
        self._callbacks: list[object] = []

    def define(self, linker: wasmtime.Linker) -> None:
        for row in HOST_FUNCTIONS:
            callback = ffi.wasmtime_func_unchecked_callback_t(self._raw(row))
            self._callbacks.append(callback)
            module, name = HOST_MODULE.encode(), row.name.encode()
            ty = func_type(row)  # held: a temporary would be freed before the call
            error = ffi.wasmtime_linker_define_func_unchecked(
                linker.ptr(), ctypes.create_string_buffer(module), len(module),
                ctypes.create_string_buffer(name), len(name), ty.ptr(),
                callback, None, _NO_FINALIZER)
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)

    def _raw(self, row: HostFunction) -> Callable[..., int]:
        frames = self._frames
        call, name = CALLS[row.name], row.name
        slots = range(len(row.params))
        if any(kind != "i32" for _, kind in row.params) or row.results not in _RESULTS:
            raise TypeError(f"host function {row.name}: types the raw path does not handle")
        result = row.results[0] if row.results else None

        def callback(_env: object, caller: object, raw: object, _size: int) -> int:
            try:
                frame = frames.frames[-1]  # frames.current(), without the call
                frame.caller = caller  # valid for this host call only
                args = [raw[i].i32 & _U32 for i in slots]  # type: ignore[index]
                try:
                    if frame.tracer is None:
                        value = call(WasmAccess(frame, name), *args)
                    else:
                        value = call_traced(frame.tracer, call, WasmAccess(frame, name), *args)
                except GhostError as exc:
                    frame.error = exc  # the engine raises exactly this, subclass and all
                    raise
                if result == "i32":
                    raw[0].i32 = _i32(value)  # type: ignore[index, arg-type]
                elif result == "i64":
                    raw[0].i64 = _i64(value)  # type: ignore[index, arg-type]
                return 0
            except BaseException as exc:  # noqa: BLE001 - every error goes back through wasm
                return _raise_trap(exc)

        callback.__name__ = row.name
        return callback
