"""Pick the engine for a piece of code by its magic bytes: WebAssembly (`\\0asm`) runs on
wasmtime, ZVMC (`ZVMC`) on the ZVM interpreter. The executor sees one engine.

A ZVM contract may CALL a WebAssembly one: the ZVM engine is given `by_selector(wasm)`,
which picks the exported function from the call data's selector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..abi import Abi
from ..exceptions import InvalidModuleError, RevertError
from .trace import current_tracer
from .types import CallContext, Outcome, StorageReader

WASM_MAGIC = b"\0asm"
ZVMC_MAGIC = b"ZVMC"


class Engine(Protocol):
    def validate(self, code: bytes) -> None: ...

    def execute(
        self, code: bytes, function: str, ctx: CallContext, storage: StorageReader
    ) -> Outcome: ...


@dataclass(frozen=True)
class Backend:
    engine: Engine
    read_metadata: Callable[[bytes], dict[str, Any] | None]


class EngineSet:
    """One engine per code format, chosen by the first four bytes. A format's backend may
    be given as a factory, made on first use: a process that runs only wasm contracts
    never imports the ZVM interpreter."""

    def __init__(self, backends: dict[bytes, Backend | Callable[[], Backend]]) -> None:
        self._backends = dict(backends)

    @property
    def backends(self) -> dict[bytes, Backend]:
        for magic in self._backends:
            self._made(magic)
        return self._backends  # type: ignore[return-value]

    def _made(self, magic: bytes) -> Backend | None:
        backend = self._backends.get(magic)
        if backend is not None and not isinstance(backend, Backend):
            backend = self._backends[magic] = backend()
        return backend

    def _backend(self, code: bytes) -> Backend:
        backend = self._made(bytes(code[:4]))
        if backend is None:
            kinds = " or ".join(repr(m) for m in self._backends)
            raise InvalidModuleError(
                f"not a contract this node runs: code starts {bytes(code[:4])!r}, "
                f"expected {kinds}"
            )
        return backend

    def engine_for(self, code: bytes) -> Engine:
        """The engine that runs `code`; InvalidModuleError for code of no known kind."""
        return self._backend(code).engine

    def validate(self, code: bytes) -> None:
        self._backend(code).engine.validate(code)

    def check(self, code: bytes) -> None:
        """What `validate` checks short of compiling (an engine that does not compile
        validates)."""
        engine = self._backend(code).engine
        getattr(engine, "check", engine.validate)(code)

    def read_metadata(self, code: bytes) -> dict[str, Any] | None:
        return self._backend(code).read_metadata(code)

    def execute(
        self, code: bytes, function: str, ctx: CallContext, storage: StorageReader
    ) -> Outcome:
        engine = self._backend(code).engine
        recorder = current_tracer()
        if recorder is None:
            return engine.execute(code, function, ctx, storage)
        return recorder.run_frame(_engine_name(code), ctx, function, "call",
                                  lambda: engine.execute(code, function, ctx, storage))


def _engine_name(code: bytes) -> str:
    return "zvm" if bytes(code[:4]) == ZVMC_MAGIC else "wasm"


def by_selector(backend: Backend) -> Callable[[bytes, CallContext, StorageReader], Outcome]:
    """Run a contract of `backend` from call data `selector ‖ arguments`, as a ZVM contract
    calls: the function is the one in the contract's ABI whose signature hashes to the
    selector, and it sees the arguments only (what `input_*` gives a wasm contract)."""
    from .zvm.container import selector

    def run(code: bytes, ctx: CallContext, storage: StorageReader) -> Outcome:
        metadata = backend.read_metadata(code) or {}
        wanted = ctx.input[:4]
        for fn in Abi.from_json(metadata.get("abi") or {}).functions:
            if selector(fn.signature) == wanted:
                sub = replace(ctx, input=ctx.input[4:])
                recorder = current_tracer()
                if recorder is None:
                    return backend.engine.execute(code, fn.name, sub, storage)
                name = fn.name
                return recorder.run_frame(
                    _engine_name(code), sub, name, "CALL",
                    lambda: backend.engine.execute(code, name, sub, storage))  # noqa: B023 - runs now
        # what a ZVM dispatcher does with a selector it does not know
        raise RevertError(f"unknown function: selector 0x{wanted.hex()}")

    return run


def read_module_metadata(code: bytes) -> dict[str, Any] | None:
    """A built module's ghost metadata (ABI included), by its magic, without an engine."""
    from .wasm_module import read_metadata
    from .zvm.container import read_zvmc_metadata

    if bytes(code[:4]) == ZVMC_MAGIC:
        return read_zvmc_metadata(code)
    if bytes(code[:4]) == WASM_MAGIC:
        return read_metadata(code)
    return None


def default_engines(limits, cache_dir) -> EngineSet:
    """The engines ghost ships, imported lazily (wasmtime is heavy)."""
    from .wasm.engine import WasmEngine
    from .wasm_module import read_metadata

    wasm = Backend(WasmEngine(limits, cache_dir=cache_dir), read_metadata)

    def zvm() -> Backend:
        from .zvm.engine import ZvmEngine, read_zvmc_metadata

        return Backend(ZvmEngine(limits, foreign=by_selector(wasm)), read_zvmc_metadata)

    return EngineSet({WASM_MAGIC: wasm, ZVMC_MAGIC: zvm})
