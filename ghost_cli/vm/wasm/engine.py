"""The sandboxed WebAssembly engine: wasmtime with fuel, limits and the ghost host ABI.

One long-lived wasmtime Engine and one Linker (host functions defined once) per
`WasmEngine`; modules are compiled once and cached (memory and, given `cache_dir`, disk);
every `execute` gets a fresh Store with fuel = the call's gas limit and the store limits
from `Limits`, its instance in one of the engine's pooled slots (slots.py). Nothing a
call does leaves the engine except through its `Outcome`.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from ghost_cli.exceptions import (
    ExecutionError,
    GhostError,
    InvalidModuleError,
    MemoryLimitError,
    NotFoundError,
    PanicError,
    TrapError,
)
from ghost_cli.formats import WASM
from ghost_cli.vm import coverage
from ghost_cli.vm.host_table import BY_NAME, HOST_MODULE
from ghost_cli.vm.recording import current_tracer
from ghost_cli.vm.types import CallContext, Limits, Outcome, StorageReader

from . import raw_calls
from .backstop import EpochTicker
from .cache import DiskCache, MemoryCache
from .checks import (
    ENTRY_SIGNATURE,
    MEMORY_EXPORT,
    check_import,
    check_memory_min,
    invalid_module,
    precheck,
)
from .frame import CallFrame, FrameStack
from .host_functions import HostFunctions, func_type
from .slots import CALL_SLOTS, SlotGate, pooled_engine
from .traps import WASM_PAGE, backtrace, one_line, size_text, translate_trap

#: Codes remembered as having passed `check` (a few deploys' worth).
PASSED_CHECKS = 64
#: The settings key of flags handed to Cranelift by name (`Config.cranelift_flag_set`).
_CRANELIFT_FLAGS = "cranelift_flags"

# Proposals that are off: nondeterministic (threads, relaxed SIMD), unmeterable (bulk
# memory: memory.copy/fill of 16 MiB costs one unit of fuel), costly to compile beyond
# what a deploy pays (multi-value: values carried as block parameters; 1,000 blocks of
# 1,000 parameters, a 12 KB module, took 24 s, and loops of them ran the machine out of
# memory; SIMD: its float lanes canonicalized at about 4 µs a byte), or not needed by
# contracts and widening the attack surface (the rest). `ghost build` (Zig -mcpu=mvp)
# emits none of them. (Reference types stay on: wasmtime makes no engine without them;
# their table instructions are counted by the deploy checks instead.)
_DISABLED_FEATURES = (
    "wasm_bulk_memory", "wasm_threads", "wasm_relaxed_simd", "wasm_memory64", "wasm_multi_value",
    "wasm_simd", "wasm_tail_call",
    "wasm_multi_memory", "wasm_gc",
    "wasm_function_references", "wasm_exceptions", "wasm_stack_switching",
    "wasm_component_model", "wasm_custom_page_sizes", "wasm_wide_arithmetic",
)


def _signature(ty: wasmtime.FuncType) -> str:
    params = ", ".join(str(t) for t in ty.params)
    results = ", ".join(str(t) for t in ty.results)
    return f"({params}) -> ({results})" if len(ty.results) != 1 else f"({params}) -> {results}"


@dataclass(frozen=True, eq=False)
class CompiledModule:
    digest: str  # sha256 of the code
    module: wasmtime.Module
    pre: wasmtime.InstancePre  # imports already resolved against the linker
    functions: dict[str, str]  # exported function name -> signature, e.g. "() -> ()"
    origin: str  # "compiled" or "disk": where this engine got the machine code from


class WasmEngine:
    def __init__(
        self, limits: Limits = Limits(), cache_dir: Path | None = None,  # noqa: B008 - frozen
        slots: int = CALL_SLOTS,
    ) -> None:
        """`slots`: calls that run at once (slots.py); more wait for one."""
        self.limits = limits
        self._settings = self._config_settings(limits)
        engine = pooled_engine(self._config(), limits, slots)
        #: whether calls run in pooled slots; False where the pool's address space could
        #: not be reserved (an address-space rlimit): then every call maps its own memory
        self.pooled = engine is not None
        self._engine = engine or wasmtime.Engine(self._config())
        self._slots = SlotGate(slots)
        # Per-thread stack of running calls; host handlers find their call here.
        self.frames = FrameStack()
        self._linker = wasmtime.Linker(self._engine)
        self._host = HostFunctions(self.frames)  # keeps the callbacks the linker calls
        self._host.define(self._linker)
        self._modules: MemoryCache[CompiledModule] = MemoryCache()
        self._passed: MemoryCache[bool] = MemoryCache(PASSED_CHECKS)  # by code SHA-256
        self._hashed: tuple[bytes, str] | None = None  # the last code hashed, its digest
        # The bytes object of the last load and its module: the sandbox hands the same
        # (cached) bytes to every call of a contract, so a warm call hashes nothing.
        self._last: tuple[bytes, CompiledModule] | None = None
        self._disk = (
            DiskCache(Path(cache_dir), self._cache_tag()) if cache_dir is not None else None)
        self._ticker = EpochTicker(self._engine, limits.timeout_seconds)
        self._finalizer = weakref.finalize(self, self._ticker.close)

    def _config(self) -> wasmtime.Config:
        config = wasmtime.Config()
        for name, value in self._settings.items():
            if name == _CRANELIFT_FLAGS:
                for flag, setting in value:  # type: ignore[attr-defined]
                    config.cranelift_flag_set(flag, setting)
            else:
                setattr(config, name, value)
        return config

    @staticmethod
    def _config_settings(limits: Limits) -> dict[str, object]:
        settings: dict[str, object] = {
            "consume_fuel": True,
            "epoch_interruption": True,
            "max_wasm_stack": limits.wasm_stack_bytes,
            "cranelift_nan_canonicalization": True,  # the same NaN bits on every machine
            "wasm_relaxed_simd_deterministic": True,
            "shared_memory": False,
            # Reserve just the memory a call may have instead of wasmtime's default 4 GiB +
            # guard: each call maps and unmaps it, and that halves the per-call overhead.
            # Bounds checks become explicit; contracts spend their time in host calls.
            "memory_reservation": limits.memory_bytes,
            "memory_guard_size": WASM_PAGE,
            # Cranelift's default register allocator took time growing with the square of
            # the values live at once in a function: 40,000 `i32.clz`s left on the operand
            # stack, a 240 KB module, took 59 s to compile; 20,000 loads at reused offsets
            # 42 s. The single-pass allocator compiles each in 0.1-0.6 s; compiled code runs
            # about a third slower (a 32 KiB SHA-256 inside a contract: 0.7 ms, not 0.5),
            # still at over 6,000 gas per µs, far above what gas assumes.
            _CRANELIFT_FLAGS: (("regalloc_algorithm", "single_pass"),),
            # Nor does it optimize: its rewrite rules took time growing faster than the
            # code on chains of one operation (170,000 `i32.rotl`s by a variable amount,
            # 510 KB, 15 s and 1.6 GB; 40,000 `i32.add`s of constants 1.2 s). Unoptimized,
            # those compile in 0.01-0.04 s, and contract code ran as fast (most of a call
            # is host calls; a 32 KiB SHA-256 inside a contract, 6,200 gas per µs).
            "cranelift_opt_level": "none",
        }
        settings.update(dict.fromkeys(_DISABLED_FEATURES, False))
        return settings

    def _cache_tag(self) -> str:
        """Serialized code is only valid for the same wasmtime and the same settings. The
        wasmtime is its native library as installed (size and modification time): asking
        the package metadata for its version costs a one-shot command ~10 ms."""
        settings = repr(sorted(self._settings.items())).encode()
        try:
            from wasmtime import _ffi

            st = os.stat(_ffi.filename)
            library = f"{st.st_size:x}.{st.st_mtime_ns:x}"
        except (ImportError, AttributeError, OSError):
            import importlib.metadata

            library = importlib.metadata.version("wasmtime")
        return f"wasmtime{library}-{hashlib.sha256(settings).hexdigest()[:12]}"

    def close(self) -> None:
        """Stop the backstop thread. Optional: it also stops when the engine is collected."""
        self._finalizer()

    # ---- modules -----------------------------------------------------------------------

    def validate(self, code: bytes) -> None:
        """Raise InvalidModuleError or UnknownImportError unless `code` can run here.

        Everything that can be checked without compiling is, first (`check`):
        size, structure, imports, memory and tables, and that every function in the ghost
        metadata's ABI is an export a call can reach; then wasmtime validates the code
        without compiling it. Only a module that passes all of it is compiled and cached."""
        self.check(code)
        self.load(code)

    def check(self, code: bytes) -> None:
        """`validate` without the compile: what a deploy must pass before it is compiled.
        A deploy is checked before its gas, again by `validate` before its compile, and
        on a node once more ahead of the writer; a large module's checks decode its
        bodies (tens of milliseconds), so code that passed lately passes at once."""
        self._check_size(code)
        digest = self._digest(code)
        if self._passed.get(digest):
            return
        precheck(code, self.limits)
        try:
            wasmtime.Module.validate(self._engine, code)
        except wasmtime.WasmtimeError as exc:
            raise invalid_module(exc) from exc
        self._passed.put(digest, True)

    @staticmethod
    def read_metadata(code: bytes) -> dict[str, object] | None:
        """The ghost metadata custom section (ABI included), None when there is none."""
        from ghost_cli.vm.wasm_module import read_metadata

        return read_metadata(code)

    def _check_size(self, code: bytes) -> None:
        if len(code) > self.limits.module_bytes:
            raise InvalidModuleError(
                f"module is {len(code)} bytes, above the {self.limits.module_bytes}-byte limit")

    def exports(self, code: bytes) -> list[str]:
        """The contract functions `code` exports: exported functions of type () -> ()."""
        compiled = self.load(code)
        return [name for name, sig in compiled.functions.items() if sig == ENTRY_SIGNATURE]

    def load(self, code: bytes) -> CompiledModule:
        """Check and compile `code`, or fetch it from the memory or disk cache."""
        last = self._last
        if last is not None and last[0] is code:  # the very bytes of the last call: no hash
            return last[1]
        self._check_size(code)
        digest = self._digest(code)
        compiled = self._modules.get(digest)
        if compiled is not None:
            self._remember(code, compiled)
            return compiled
        module = self._disk.load(self._engine, digest) if self._disk else None
        from_disk = module is not None
        if module is None:
            module = self._compile(code)
        compiled = self._check(digest, module, "disk" if from_disk else "compiled")
        # The compiled size is what the module holds in memory: the caches count it.
        payload = bytes(module.serialize())
        if self._disk and not from_disk:
            self._disk.store(digest, payload)
        self._modules.put(digest, compiled, len(payload))
        self._remember(code, compiled)
        return compiled

    def _digest(self, code: bytes) -> str:
        """SHA-256 of `code`, once for the same bytes object: a deploy is checked, checked
        again and loaded, each by its digest."""
        hashed = self._hashed
        if hashed is not None and hashed[0] is code:
            return hashed[1]
        digest = hashlib.sha256(code).hexdigest()
        if type(code) is bytes:  # immutable: the same object is always the same code
            self._hashed = (code, digest)
        return digest

    def _remember(self, code: bytes, compiled: CompiledModule) -> None:
        if type(code) is bytes:  # immutable: the same object is always the same code
            self._last = (code, compiled)

    def _compile(self, code: bytes) -> wasmtime.Module:
        # wasmtime.Module also accepts WAT text; contracts are binaries only.
        if not code.startswith(WASM.magic):
            raise InvalidModuleError(
                "invalid WebAssembly module: not a WebAssembly binary (no \\0asm header)")
        try:
            return wasmtime.Module(self._engine, code)
        except wasmtime.WasmtimeError as exc:
            raise invalid_module(exc) from exc

    def _check(self, digest: str, module: wasmtime.Module, origin: str) -> CompiledModule:
        for imp in module.imports:
            self._check_import(imp)
        functions: dict[str, str] = {}
        memory: wasmtime.MemoryType | None = None
        for exp in module.exports:
            if isinstance(exp.type, wasmtime.FuncType):
                functions[exp.name] = _signature(exp.type)
            elif exp.name == MEMORY_EXPORT and isinstance(exp.type, wasmtime.MemoryType):
                memory = exp.type
        if memory is None:
            raise InvalidModuleError(
                f"invalid WebAssembly module: it must export its memory as '{MEMORY_EXPORT}'")
        check_memory_min(memory.limits.min, self.limits)
        try:
            pre = self._linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as exc:
            raise InvalidModuleError(f"cannot link module: {one_line(str(exc))}") from exc
        return CompiledModule(digest, module, pre, functions, origin)

    @staticmethod
    def _check_import(imp: wasmtime.ImportType) -> None:
        row = BY_NAME.get(imp.name or "") if imp.module == HOST_MODULE else None
        got = _signature(imp.type) if isinstance(imp.type, wasmtime.FuncType) else None
        want = _signature(func_type(row)) if row is not None else None
        check_import(f"{imp.module}.{imp.name}", row is not None,
                     isinstance(imp.type, wasmtime.FuncType), got, want)

    # ---- execution ---------------------------------------------------------------------

    def execute(self, code: bytes, function: str, ctx: CallContext,
                storage: StorageReader) -> Outcome:
        """Run exported `function` of `code` once. Failures raise an ExecutionError
        subclass carrying `gas_used`; nothing the call did is kept."""
        compiled = self.load(code)
        signature = compiled.functions.get(function)
        if signature is None:
            raise NotFoundError(f"the contract has no function '{function}'", function=function)
        if signature != ENTRY_SIGNATURE:
            raise InvalidModuleError(
                f"export '{function}' has type {signature}; contract functions take and "
                f"return nothing ({ENTRY_SIGNATURE})")
        collector = coverage.active()
        if collector is not None:  # `ghost test --coverage`: a probed copy, the same gas
            compiled = collector.wasm_module(self, code, compiled)

        limits = self.limits
        self._slots.take()
        store = None
        try:
            store = wasmtime.Store(self._engine)
            store.set_limits(
                memory_size=limits.memory_bytes, table_elements=limits.max_table_elements,
                instances=1, tables=limits.max_tables, memories=1)
            store.set_epoch_deadline(self._ticker.deadline_ticks)
            frame = CallFrame(ctx, storage, store, limits, tracer=current_tracer())
            stack = self.frames.frames
            stack.append(frame)
            try:
                frame.start()
                try:
                    with self._ticker:
                        self._run(compiled, function, frame)
                except ExecutionError as error:
                    frame.charge_failed_growth(error)
                    raise
                frame.charge_memory_grown()
                if frame.gas_left() < 0:  # overdrawn between two of wasmtime's fuel checks
                    raise frame.out_of_gas()
                return Outcome(
                    return_data=frame.return_data, gas_used=frame.gas_used(),
                    writes=dict(frame.overlay), events=tuple(frame.events),
                    logs=frame.logs.logs())
            finally:
                stack.pop()
                # Release the call's memory now, not at the next garbage collection: the
                # error on its way out refers back to this frame through its traceback.
                frame.error = frame.memory = frame.caller = frame._context = None
        finally:
            if store is not None:
                store.close()  # frees the instance's slot ...
            self._slots.give()  # ... so the next call may take it

    def _run(self, compiled: CompiledModule, function: str, frame: CallFrame) -> None:
        store = frame.store
        try:
            instance = raw_calls.instantiate(store, compiled.pre)
            frame.memory = raw_calls.memory(store, instance, MEMORY_EXPORT)
            frame.initial_pages = frame.memory.size(store) if frame.memory else 0
            frame.charge_initial_memory()
            raw_calls.call_entry(store, instance, function)
        except wasmtime.Trap as trap:
            if frame.error is not None:
                raise self._charged(frame.error, frame) from None
            raise translate_trap(trap, frame, self.limits) from trap
        except wasmtime.WasmtimeError as exc:
            if frame.error is not None:
                raise self._charged(frame.error, frame) from None
            # Instantiation refused by the store's limits (the static checks catch most).
            message = one_line(str(exc))
            if "memory" in message:
                raise MemoryLimitError(
                    f"memory limit of {size_text(self.limits.memory_bytes)} exceeded: {message}",
                    gas_used=0) from exc
            raise InvalidModuleError(f"cannot instantiate module: {message}") from exc
        except GhostError as exc:
            # A host handler's error, re-raised by wasmtime-py: keep it exactly.
            if frame.error is None:
                # wasmtime-py hands host errors back through one process-wide slot; this
                # one belongs to a call on another thread, and our own trap went with it.
                raise TrapError(
                    "trap: the call trapped, but a concurrent call's error took its place",
                    gas_used=frame.ctx.gas_limit) from exc
            trap = exc.__cause__  # raw_calls chains what wasmtime handed back
            if isinstance(frame.error, PanicError) and isinstance(
                    trap, wasmtime.Trap | wasmtime.WasmtimeError):
                frame.error.details["frames"] = backtrace(trap)  # to locate it
            raise self._charged(frame.error, frame) from None

    @staticmethod
    def _charged(error: GhostError, frame: CallFrame) -> GhostError:
        if not isinstance(error, ExecutionError):
            return error  # e.g. StateError from the storage reader: not the contract's fault
        if frame.gas_left() < 0:
            # The code before this host call had already overdrawn its gas.
            return frame.out_of_gas()
        error.gas_used = frame.gas_used()  # includes the failing host call's own price
        return error
