"""Instance slots: wasmtime's pooling allocator, and a gate so a call always finds a slot.

By default wasmtime maps a fresh linear memory for every instance and unmaps it when the
store goes. A contract call is one short-lived instance, so that is an mmap and a munmap
per call, and the munmap of a 16 MiB reservation flushes the whole TLB: the Python and
SQLite code that runs next pays for it in misses (a sandbox call measured ~80 µs faster
with slots). The pooling allocator reserves `CALL_SLOTS` instance slots once per engine
and reuses them, resetting only the pages a call touched.

A pool has a fixed number of slots and refuses an instantiation past it, so `SlotGate`
hands them out first: a call takes a slot before it creates its store and gives it back
after the store is closed, and a call past the limit waits for one. A wasm call is a leaf
(no host call runs another wasm call), so a thread never waits on a slot it holds.

Where the pool's address space cannot be reserved (a process under an address-space
rlimit), the engine falls back to wasmtime's default allocator: slower, never refused.
"""

from __future__ import annotations

import queue

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi

from ghost_cli.vm.types import Limits

#: Wasm calls one engine runs at once; more wait for a slot. A node runs a few executions
#: at once (its pool's workers); the sandbox one. Each slot reserves (does not commit)
#: the call's memory limit of address space.
CALL_SLOTS = 16

_POOL_SETTINGS = (
    # (setter, value from the limits and the slot count)
    ("total_core_instances_set", lambda limits, slots: slots),
    ("total_memories_set", lambda limits, slots: slots),
    ("total_tables_set", lambda limits, slots: slots * limits.max_tables),
    ("max_memories_per_module_set", lambda limits, slots: 1),
    ("max_tables_per_module_set", lambda limits, slots: limits.max_tables),
    ("table_elements_set", lambda limits, slots: limits.max_table_elements),
    ("max_memory_size_set", lambda limits, slots: limits.memory_bytes),
    # Nothing else: contracts have no GC heaps, components or async stacks, and each of
    # those pools would otherwise reserve address space (and memory mappings) of its own.
    ("total_gc_heaps_set", lambda limits, slots: 0),
    ("total_component_instances_set", lambda limits, slots: 0),
    ("total_stacks_set", lambda limits, slots: 0),
)


def _use_slots(config: wasmtime.Config, limits: Limits, slots: int = CALL_SLOTS) -> None:
    """Configure `config` for the pooling allocator: `slots` instances, each within
    `limits` (the store limits every call sets anyway)."""
    pool = _bindings.wasmtime_pooling_allocation_config_new()
    try:
        for setter, value in _POOL_SETTINGS:
            getattr(_bindings, f"wasmtime_pooling_allocation_config_{setter}")(
                pool, value(limits, slots))
        _bindings.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        _bindings.wasmtime_pooling_allocation_config_delete(pool)


def pooled_engine(config: wasmtime.Config, limits: Limits,
                  slots: int = CALL_SLOTS) -> wasmtime.Engine | None:
    """A wasmtime Engine over `config` with `slots` pooled instance slots, or None when
    the pool's address space cannot be reserved (wasmtime then returns no engine at all,
    which wasmtime-py would wrap as a null pointer and crash on at first use)."""
    _use_slots(config, limits, slots)
    raw = ffi.wasm_engine_new_with_config(config._consume())
    if not raw:
        return None
    engine = wasmtime.Engine.__new__(wasmtime.Engine)
    engine._set_ptr(raw)
    return engine


class SlotGate:
    """At most `slots` holders at once; the rest wait in `take`. A queue of tokens, in C:
    cheaper per call than threading.Semaphore, which is Python over a Condition."""

    def __init__(self, slots: int = CALL_SLOTS) -> None:
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(slots):
            self._tokens.put(None)

    def take(self) -> None:
        self._tokens.get()

    def give(self) -> None:
        self._tokens.put(None)
