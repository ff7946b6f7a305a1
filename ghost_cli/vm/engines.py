"""One engine registry: each code format (ghost_cli/formats.py: target name, magic bytes,
file suffix) has one row naming the engine that runs it. WebAssembly (`\\0asm`) runs on
wasmtime, ZVMC (`ZVMC`) on the ZVM interpreter; `EngineSet` picks the engine for a piece of
code by its first four bytes, so the executor sees one engine.

A ZVM contract may CALL a WebAssembly one: the ZVM engine is given `by_selector(wasm)`,
which picks the exported function from the call data's selector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..abi import Abi
from ..exceptions import InvalidModuleError, RevertError
from ..formats import WASM, ZVMC, CodeFormat
from .recording import current_tracer
from .types import CallContext, Limits, Outcome, StorageReader


class Engine(Protocol):
    """What the executor, the node and the sandbox ask of an engine (`EngineSet` is one)."""

    def validate(self, code: bytes) -> None:
        """InvalidModuleError unless `code` runs here; may compile and cache it."""

    def check(self, code: bytes) -> None:
        """What `validate` checks short of compiling: what a deploy passes before it pays
        for a compile (an engine that does not compile checks what `validate` does)."""

    def execute(
        self, code: bytes, function: str, ctx: CallContext, storage: StorageReader
    ) -> Outcome:
        """Run `function`; state changes come back in the Outcome, never written."""

    def read_metadata(self, code: bytes) -> dict[str, Any] | None:
        """The ghost metadata (ABI included) built into `code`, None when it has none."""


@runtime_checkable
class StepTracing(Protocol):
    """An engine that can report every step it runs (`ghost call --trace`); only the ZVM
    interpreter can, wasmtime runs natively."""

    def tracing(self, tracer: Callable[[Any], None]) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class EngineKind:
    """A registry row: the code format and how to build the engine that runs it (imported
    only when built: wasmtime is heavy)."""

    format: CodeFormat
    build: Callable[[Limits, Path | None, EngineSet], Engine]
    #: the metadata reader, usable without building the engine
    read_metadata: Callable[[bytes], dict[str, Any] | None]


def _read_wasm_metadata(code: bytes) -> dict[str, Any] | None:
    from .wasm_module import read_metadata

    return read_metadata(code)


def _read_zvmc_metadata(code: bytes) -> dict[str, Any] | None:
    from .zvm.container import read_zvmc_metadata

    return read_zvmc_metadata(code)


def _build_wasm(limits: Limits, cache_dir: Path | None, engines: EngineSet) -> Engine:
    from .wasm.engine import WasmEngine

    return WasmEngine(limits, cache_dir=cache_dir)


def _build_zvm(limits: Limits, cache_dir: Path | None, engines: EngineSet) -> Engine:
    from .zvm.engine import ZvmEngine

    return ZvmEngine(limits, foreign=by_selector(engines.engine_of(WASM)))


class EngineRegistry:
    """The rows, looked up by magic bytes, target name or file suffix."""

    def __init__(self, kinds: tuple[EngineKind, ...]) -> None:
        self.kinds = kinds
        self._by_magic = {k.format.magic: k for k in kinds}
        self._by_target = {k.format.target: k for k in kinds}
        self._by_suffix = {k.format.suffix: k for k in kinds}

    def __iter__(self) -> Iterator[EngineKind]:
        return iter(self.kinds)

    def by_magic(self, code: bytes) -> EngineKind | None:
        """The row for code starting with its magic bytes (None for code of no known kind)."""
        return self._by_magic.get(bytes(code[:4]))

    def by_target(self, target: str) -> EngineKind | None:
        return self._by_target.get(target)

    def by_suffix(self, suffix: str) -> EngineKind | None:
        return self._by_suffix.get(suffix)

    def build(self, limits: Limits, cache_dir: Path | None) -> EngineSet:
        """One engine per row, each built when code of its format first needs it: a process
        that runs only wasm contracts never imports the ZVM interpreter."""
        engines = EngineSet({})
        for kind in self.kinds:
            engines.engines[kind.format.magic] = _Lazy(partial(kind.build, limits, cache_dir,
                                                               engines))
        return engines


#: Every engine ghost ships, one row per format in ghost_cli/formats.py.
ENGINES = EngineRegistry((
    EngineKind(WASM, _build_wasm, _read_wasm_metadata),
    EngineKind(ZVMC, _build_zvm, _read_zvmc_metadata),
))


@dataclass(frozen=True)
class _Lazy:
    """An engine not built yet: EngineSet builds it on first use."""

    make: Callable[[], Engine]


class EngineSet:
    """One engine per code format, chosen by the first four bytes; an Engine itself."""

    def __init__(self, engines: dict[bytes, Engine | _Lazy]) -> None:
        self.engines = engines

    def engine_of(self, fmt: CodeFormat) -> Engine:
        """The engine for code of format `fmt` (built now if it was not yet)."""
        engine = self.engines[fmt.magic]
        if isinstance(engine, _Lazy):
            engine = self.engines[fmt.magic] = engine.make()
        return engine

    def engine_for(self, code: bytes) -> Engine:
        """The engine that runs `code`; InvalidModuleError for code of no known kind."""
        kind = ENGINES.by_magic(code)
        engine = None if kind is None or kind.format.magic not in self.engines \
            else self.engine_of(kind.format)
        if engine is None:
            kinds = " or ".join(repr(m) for m in self.engines)
            raise InvalidModuleError(
                f"not a contract this node runs: code starts {bytes(code[:4])!r}, "
                f"expected {kinds}"
            )
        return engine

    def validate(self, code: bytes) -> None:
        self.engine_for(code).validate(code)

    def check(self, code: bytes) -> None:
        self.engine_for(code).check(code)

    def read_metadata(self, code: bytes) -> dict[str, Any] | None:
        return self.engine_for(code).read_metadata(code)

    def execute(
        self, code: bytes, function: str, ctx: CallContext, storage: StorageReader
    ) -> Outcome:
        engine = self.engine_for(code)
        recorder = current_tracer()
        if recorder is None:
            return engine.execute(code, function, ctx, storage)
        return recorder.run_frame(_engine_name(code), ctx, function, "call",
                                  lambda: engine.execute(code, function, ctx, storage))


def _engine_name(code: bytes) -> str:
    kind = ENGINES.by_magic(code)
    return kind.format.target if kind is not None else WASM.target


def by_selector(engine: Engine) -> Callable[[bytes, CallContext, StorageReader], Outcome]:
    """Run a contract of `engine` from call data `selector ‖ arguments`, as a ZVM contract
    calls: the function is the one in the contract's ABI whose signature hashes to the
    selector, and it sees the arguments only (what `input_*` gives a wasm contract)."""
    from .zvm.container import selector

    def run(code: bytes, ctx: CallContext, storage: StorageReader) -> Outcome:
        metadata = engine.read_metadata(code) or {}
        wanted = ctx.input[:4]
        for fn in Abi.from_json(metadata.get("abi") or {}).functions:
            if selector(fn.signature) == wanted:
                sub = replace(ctx, input=ctx.input[4:])
                recorder = current_tracer()
                if recorder is None:
                    return engine.execute(code, fn.name, sub, storage)
                name = fn.name
                return recorder.run_frame(
                    _engine_name(code), sub, name, "CALL",
                    lambda: engine.execute(code, name, sub, storage))  # noqa: B023 - runs now
        # what a ZVM dispatcher does with a selector it does not know
        raise RevertError(f"unknown function: selector 0x{wanted.hex()}")

    return run


def read_module_metadata(code: bytes) -> dict[str, Any] | None:
    """A built module's ghost metadata (ABI included), by its magic, without an engine."""
    kind = ENGINES.by_magic(code)
    return None if kind is None else kind.read_metadata(code)


def default_engines(limits: Limits, cache_dir: Path | None) -> EngineSet:
    """The engines ghost ships, imported lazily (wasmtime is heavy)."""
    return ENGINES.build(limits, cache_dir)
