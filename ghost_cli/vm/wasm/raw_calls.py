"""wasmtime-py's instantiate, export lookup and call, done with the C API for what a
contract call needs.

`InstancePre.instantiate`, `Instance.exports` and `Func.__call__` each wrap their C call
in Python objects and a generator-based context manager (`enter_wasm`); `Func.__call__`
also asks the function's type and converts arguments and results through typed values. A
contract call instantiates once, looks up two exports (its memory and its entry point)
and calls a function of type () -> () that the engine checked when it loaded the module,
so it calls the C functions directly. Traps and host errors come back exactly as
wasmtime-py raises them (`_raise_failure` is `enter_wasm`'s exit path).
"""

from __future__ import annotations

from ctypes import POINTER, byref

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi
from wasmtime._func import maybe_raise_last_exn

from ghost_cli.exceptions import GhostError

_instantiate = _bindings._wasmtime_instance_pre_instantiate
_export_get = _bindings._wasmtime_instance_export_get
_func_call = _bindings._wasmtime_func_call
_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value
_FUNC = ffi.WASMTIME_EXTERN_FUNC.value


def _raise_failure(error: object, trap: object) -> None:
    """What leaving wasmtime-py's `enter_wasm` raises: a host error that trapped (kept in
    wasmtime-py's slot) first, else the trap or the error itself."""
    if error:
        failure = wasmtime.WasmtimeError._from_ptr(error)
    elif trap:
        failure = wasmtime.Trap._from_ptr(trap)
    else:
        return
    try:
        maybe_raise_last_exn()
    except GhostError as exc:  # the trap it became carries the wasm backtrace
        raise exc from failure
    raise failure


def instantiate(store: wasmtime.Store, pre: wasmtime.InstancePre) -> ffi.wasmtime_instance_t:
    """`pre.instantiate(store)`, as the raw instance."""
    instance = ffi.wasmtime_instance_t()
    trap = POINTER(ffi.wasm_trap_t)()
    error = _instantiate(pre.ptr(), store._context(), byref(instance), byref(trap))
    _raise_failure(error, trap)
    return instance


def _extern(store: wasmtime.Store, instance: ffi.wasmtime_instance_t, name: str,
            kind: int) -> ffi.wasmtime_extern_t | None:
    item = ffi.wasmtime_extern_t()
    raw = name.encode()
    found = _export_get(store._context(), byref(instance), raw, len(raw), byref(item))
    return item if found and item.kind == kind else None


def memory(store: wasmtime.Store, instance: ffi.wasmtime_instance_t,
           name: str) -> wasmtime.Memory | None:
    """The instance's memory export `name`, or None."""
    item = _extern(store, instance, name, _MEMORY)
    return None if item is None else wasmtime.Memory._from_raw(item.of.memory)


def call_entry(store: wasmtime.Store, instance: ffi.wasmtime_instance_t, name: str) -> None:
    """Call the instance's exported function `name`, of type () -> (): raises
    wasmtime.Trap, WasmtimeError or the host error that trapped, as `func(store)` would."""
    item = _extern(store, instance, name, _FUNC)
    if item is None:
        raise wasmtime.WasmtimeError(f"the instance exports no function {name!r}")
    trap = POINTER(ffi.wasm_trap_t)()
    error = _func_call(store._context(), byref(item.of.func), None, 0, None, 0, byref(trap))
    _raise_failure(error, trap)
