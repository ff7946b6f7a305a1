"""The state of one running call, and bounds-checked access to its linear memory.

A `CallFrame` lives exactly as long as one `WasmEngine.execute`; host handlers find it on
the engine's frame stack. Everything the call does (storage writes, events, logs, return
data) is buffered here and only leaves through the `Outcome` of a successful run.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import wasmtime
from wasmtime import _bindings

from ghost_cli.exceptions import ExecutionError, GhostError, HostMemoryError, OutOfGasError
from ghost_cli.vm.gas import FREE_MEMORY_PAGES, MEMORY_PAGE
from ghost_cli.vm.log_limit import LogBuffer
from ghost_cli.vm.types import CallContext, Event, Limits, StorageReader

if TYPE_CHECKING:
    from ghost_cli.vm.host_calls import HostTracer

_U32 = 0xFFFF_FFFF
# The C functions behind Store.get_fuel/set_fuel and Memory.data_len, called on the
# call's context directly: a contract call asks for its fuel at every host call, and each
# wasmtime-py wrapper adds two Python calls and a fresh c_uint64 to a C call.
_get_fuel = _bindings._wasmtime_context_get_fuel
_set_fuel = _bindings._wasmtime_context_set_fuel
_data_size = _bindings._wasmtime_memory_data_size
#: Fuel the store holds beyond the call's gas limit; see CallFrame.start.
FUEL_RESERVE = 1


def u32(value: int) -> int:
    """wasmtime hands i32 arguments over signed; pointers and lengths are unsigned."""
    return value & _U32


class FrameStack(threading.local):
    """The calls running on this thread, innermost last. Thread-local so that two threads
    sharing one engine never see each other's call."""

    def __init__(self) -> None:
        self.frames: list[CallFrame] = []

    def current(self) -> CallFrame:
        return self.frames[-1]


@dataclass(eq=False)
class CallFrame:
    ctx: CallContext
    storage: StorageReader
    store: wasmtime.Store
    limits: Limits
    memory: wasmtime.Memory | None = None
    initial_pages: int = 0  # linear memory's size when instantiated: growth is charged
    overlay: dict[bytes, bytes | None] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    logs: LogBuffer = field(default_factory=LogBuffer)  # capped: gas.MAX_LOG_BYTES
    return_data: bytes = b""
    # The error a host handler raised, kept here as well because wasmtime-py hands it back
    # through a process-wide slot that another thread's call could, in principle, take.
    error: GhostError | None = None
    tracer: HostTracer | None = None  # vm/trace.py's recorder, while a trace is on
    # The raw wasmtime caller of the host call running now, for the one case that needs
    # it: a start function calling the host before the engine has bound `memory`.
    caller: object = None
    # Linear memory's address and size at the last host call: only memory.grow moves it,
    # and a grow changes the size, so an unchanged size means an unchanged address.
    memory_span: tuple[int, int] | None = None
    # The store's context while the call runs (start() to the engine's `finally`), and
    # where get_fuel writes the fuel left.
    _context: object = field(default=None, init=False, repr=False)
    _fuel: ctypes.c_uint64 = field(default_factory=ctypes.c_uint64, init=False, repr=False)
    _fuel_ref: object = field(default=None, init=False, repr=False)

    # ---- gas ---------------------------------------------------------------------------
    # wasmtime checks fuel only at function entries and loop headers, so straight-line code
    # can run a little past zero and still return normally, and get_fuel() then reads 0.
    # The store therefore holds FUEL_RESERVE more than the call's limit: any run that
    # leaves less than the reserve went over its limit, exactly, whatever the overshoot.

    def start(self) -> None:
        self._context = self.store._context()
        self._fuel_ref = ctypes.byref(self._fuel)
        self._set(self.ctx.gas_limit + FUEL_RESERVE)

    def _live_context(self) -> object:
        context = self._context
        if context is None:
            raise ValueError("the call's store is closed")
        return context

    def _get(self) -> int:
        error = _get_fuel(self._live_context(), self._fuel_ref)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        return self._fuel.value

    def _set(self, fuel: int) -> None:
        error = _set_fuel(self._live_context(), fuel)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)

    def gas_left(self) -> int:
        """Gas left under the call's limit; negative once it has been overdrawn."""
        return self._get() - FUEL_RESERVE

    def gas_used(self) -> int:
        return min(self.ctx.gas_limit, self.ctx.gas_limit - self.gas_left())

    def out_of_gas(self) -> OutOfGasError:
        return OutOfGasError.burnt(self.ctx.gas_limit)

    def charge_initial_memory(self) -> None:
        """Pay, before the call runs, for the pages its memory starts with beyond
        FREE_MEMORY_PAGES (MEMORY_PAGE each): a module starting with 16 MiB could touch
        them all on every call for free."""
        extra = self.initial_pages - FREE_MEMORY_PAGES
        if extra > 0:
            self.charge("memory", extra * MEMORY_PAGE)

    def _grown_price(self) -> int:
        if self.memory is None:
            return 0
        return max(0, self.memory.size(self.store) - self.initial_pages) * MEMORY_PAGE

    def charge_memory_grown(self) -> None:
        """Pay, as the call returns, for the pages it grew its memory by (MEMORY_PAGE)."""
        price = self._grown_price()
        if price:
            self.charge("memory.grow", price)

    def charge_failed_growth(self, error: ExecutionError) -> None:
        """A call that failed pays for the pages it grew too, up to its gas limit: growing
        16 MiB, touching it and reverting was otherwise charged 55,000 gas."""
        if error.gas_used < self.ctx.gas_limit:
            error.gas_used = min(self.ctx.gas_limit, error.gas_used + self._grown_price())

    def charge(self, function: str, price: int) -> None:
        """Take a host-call price out of the store's fuel, so wasm and host gas are one pool."""
        fuel = self._get()
        if price > fuel - FUEL_RESERVE:
            self._set(0)
            error = self.out_of_gas()
            error.details["host_call"] = function
            self.error = error  # the engine raises the call's own error, not wasmtime's
            raise error
        self._set(fuel - price)

    # ---- storage, seen through this call's pending writes -------------------------------

    def storage_get(self, key: bytes) -> bytes | None:
        if key in self.overlay:
            return self.overlay[key]
        value = self.storage(key)
        return None if value is None else bytes(value)

    # ---- linear memory -----------------------------------------------------------------

    def _memory(self) -> wasmtime.Memory:
        if self.memory is None:  # a start function may call the host before we bound it
            caller = wasmtime.Caller(self.caller)
            try:
                found = caller.get("memory")
            finally:
                caller._invalidate()
            if not isinstance(found, wasmtime.Memory):
                raise HostMemoryError("the module has no memory named 'memory'")
            self.memory = found
        return self.memory

    def span(self) -> tuple[int, int]:
        """Where linear memory is now and its size. Valid for one host call: only wasm
        code (memory.grow) moves or grows it, and none runs during a host call."""
        memory = self._memory()
        size = _data_size(self._live_context(), ctypes.byref(memory._memory))
        span = self.memory_span
        if span is None or span[1] != size:
            base = ctypes.cast(memory.data_ptr(self.store), ctypes.c_void_p).value or 0
            span = self.memory_span = (base, size)
        return span

    @staticmethod
    def bounded(span: tuple[int, int], function: str, ptr: int, length: int) -> int:
        """The address of [ptr, ptr+length), once it is known to lie inside memory."""
        base, size = span
        if ptr + length > size:
            raise HostMemoryError(
                f"host call {function}: pointer {ptr:#x} + len {length} outside memory "
                f"({size} bytes)")
        return base + ptr

    def read(self, span: tuple[int, int], function: str, ptr: int, length: int) -> bytes:
        address = self.bounded(span, function, ptr, length)
        return ctypes.string_at(address, length) if length else b""

    def write(self, span: tuple[int, int], function: str, ptr: int, data: bytes) -> None:
        address = self.bounded(span, function, ptr, len(data))
        if data:
            ctypes.memmove(address, data, len(data))
