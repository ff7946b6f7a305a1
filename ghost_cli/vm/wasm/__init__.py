"""The WebAssembly engine: wasmtime, sandboxed by fuel, store limits and a wall-clock
backstop, serving host ABI v1 (vm/host_table.py)."""

from .engine import CompiledModule, WasmEngine

__all__ = ["CompiledModule", "WasmEngine"]
