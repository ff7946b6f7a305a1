"""Running a probed module (toolchain/coverage_probes.py) on a WasmEngine, gas unchanged.

The probe function is defined on the engine's linker under a name of the module's own, so
each probed module counts into its own array. It gives back the fuel of the probe that
called it (PROBE_FUEL) straight away: wasmtime checks fuel only at function entries and
loop headers, never inside a host call, so every check sees the fuel it would have seen
without the probe.
"""

from __future__ import annotations

import wasmtime

from .engine import CompiledModule, WasmEngine, _signature


def probed_module(engine: WasmEngine, original: CompiledModule, code: bytes,
                  module: str, import_name: str, probe_fuel: int,
                  counts: list[int]) -> CompiledModule:
    """`code` (the probed copy of `original`) compiled and linked on `engine`; each probe
    it runs adds one to `counts[probe]`."""
    frames = engine.frames

    def probe(k: int) -> None:
        counts[k] += 1
        store = frames.current().store
        store.set_fuel(store.get_fuel() + probe_fuel)

    engine._linker.define_func(module, import_name,
                               wasmtime.FuncType([wasmtime.ValType.i32()], []), probe)
    compiled = wasmtime.Module(engine._engine, code)
    functions = {e.name: _signature(e.type) for e in compiled.exports
                 if isinstance(e.type, wasmtime.FuncType)}
    assert functions == original.functions  # the same contract, renumbered
    return CompiledModule(original.digest, compiled, engine._linker.instantiate_pre(compiled),
                          functions, "probed")

