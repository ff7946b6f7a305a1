"""Two wasmtime-py conveniences, done with the C API for what a contract call needs.

`Instance.exports` wraps every export of an instance to find one, and `Func.__call__`
asks the function's type and converts arguments and results through typed values. A
contract call looks up two exports (its memory and its entry point) and calls a function
of type () -> () that the engine checked when it loaded the module, so it asks for those
two by name and calls the entry with no values at all. Traps and host errors come back
exactly as wasmtime-py raises them (`enter_wasm`).
"""

from __future__ import annotations

from ctypes import byref

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._extern import wrap_extern
from wasmtime._func import enter_wasm


def export(store: wasmtime.Store, instance: wasmtime.Instance, name: str) -> object:
    """The instance's export `name` (a Func, Memory, ...), or None."""
    item = ffi.wasmtime_extern_t()
    raw = name.encode()
    found = ffi.wasmtime_instance_export_get(
        store._context(), byref(instance._instance), raw, len(raw), byref(item))
    return wrap_extern(item) if found else None


def call_entry(store: wasmtime.Store, func: wasmtime.Func) -> None:
    """Call `func`, of type () -> (): raises wasmtime.Trap, WasmtimeError or the host
    error that trapped, as `func(store)` would."""
    with enter_wasm(store) as trap:
        error = ffi.wasmtime_func_call(
            store._context(), byref(func._func), None, 0, None, 0, trap)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
