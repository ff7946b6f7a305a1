"""WebAssembly → ZVM lowering: `lower(wasm, abi)` turns a ghost contract built by Zig
into ZVM bytecode that behaves the same (results, storage, events), with the host ABI
reached through HOSTCALL. What ZVM cannot run (floats, SIMD, bulk memory, ...) is a
CompileError at build time naming the instruction and the function."""

from .module import lower, lower_with_debug

__all__ = ["lower", "lower_with_debug"]
