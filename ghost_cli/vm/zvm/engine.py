"""The ZVM engine: runs ZVMC contracts for the executor, like the WebAssembly engine.

`execute(code, function, ctx, storage)` decodes the container (cached by code hash),
builds the call data as selector(signature from the ghost ABI in the container) ‖
ctx.input, and runs the interpreter with gas = ctx.gas_limit. A success returns an
Outcome (writes of the called contract, events, debug logs, return data, gas used after
the capped refund); a failure raises an ExecutionError subclass carrying gas_used.

Sub-calls reach other contracts through `resolver` (address → stored code and storage
reader, or None). The executor does not pass one yet, so in the sandbox a contract can
call itself but calls to other contracts fail cleanly (push 0).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ghost_cli.abi import Abi
from ghost_cli.chain.hashing import keccak256
from ghost_cli.exceptions import (
    ExecutionError,
    InvalidModuleError,
    NotFoundError,
    OutOfGasError,
    RevertError,
)
from ghost_cli.vm.types import CallContext, Limits, Outcome, StorageReader

from .container import MAGIC, TARGET_ZVM_NATIVE, TARGETS, decode_zvmc, read_zvmc_metadata, selector
from .interpreter import (
    UNKNOWN,
    Code,
    FrameResult,
    Interpreter,
    Message,
    Tracer,
    TxContext,
    Unknown,
    build_dispatch,
)

__all__ = ["ContractResolver", "LoadedContract", "ZvmEngine", "ZvmRun", "read_zvmc_metadata"]

#: Another contract's stored code and committed storage, or None when nothing is there.
ContractResolver = Callable[[bytes], "tuple[bytes, StorageReader] | None"]
#: Decoded contracts kept per engine.
CACHE_SIZE = 256


@dataclass(frozen=True)
class LoadedContract:
    code: Code
    metadata: dict[str, Any] | None
    abi: Abi | None

    def signature(self, function: str) -> str:
        """The signature to select: from the ABI, or `function` itself if it is one."""
        if "(" in function:
            return function
        if self.abi is None:
            raise NotFoundError(
                f"the contract has no ABI, so function '{function}' has no signature; "
                "call it by signature, e.g. 'name(u64)'", function=function)
        return self.abi.function(function).signature


@dataclass(frozen=True)
class ZvmRun:
    """Everything a successful run did, every contract's writes included."""

    return_data: bytes
    gas_used: int
    writes: dict[bytes, dict[bytes, bytes | None]]  # address -> key -> value (None: deleted)
    events: tuple
    logs: tuple[str, ...]
    refund: int


class _Host:
    """CallHost for one execution: the running contract, others through the resolver."""

    def __init__(self, engine: ZvmEngine, address: bytes, contract: LoadedContract,
                 raw: bytes, storage: StorageReader) -> None:
        self._engine = engine
        self._address = address
        self._contract = contract
        self._raw = raw
        self._storage = storage

    def _lookup(self, address: bytes) -> tuple[bytes, StorageReader] | None | Unknown:
        if address == self._address:
            return self._raw, self._storage
        resolver = self._engine.resolver
        return UNKNOWN if resolver is None else resolver(address)

    def code_at(self, address: bytes) -> Code | None | Unknown:
        if address == self._address:
            return self._contract.code
        found = self._lookup(address)
        if found is None or found is UNKNOWN:
            return found
        try:
            return self._engine.load(found[0]).code
        except InvalidModuleError:
            return None  # WebAssembly or corrupt: no ZVM code to run there

    def stored_code(self, address: bytes) -> bytes | None | Unknown:
        found = self._lookup(address)
        if found is None or found is UNKNOWN:
            return found
        raw = found[0]
        if raw.startswith(MAGIC):
            try:
                return decode_zvmc(raw).code
            except InvalidModuleError:
                return raw
        return raw

    def storage_reader(self, address: bytes) -> StorageReader:
        found = self._lookup(address)
        if found is None or found is UNKNOWN:
            return lambda key: None
        return found[1]


class ZvmEngine:
    def __init__(self, limits: Limits = Limits(),  # noqa: B008 - frozen
                 resolver: ContractResolver | None = None) -> None:
        self.limits = limits
        self.resolver = resolver
        self._dispatch = build_dispatch()
        self._cache: OrderedDict[bytes, LoadedContract] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()  # the tracer installed by `tracing`, per thread

    # ---- contracts ---------------------------------------------------------------------

    def validate(self, code: bytes) -> None:
        """Raise InvalidModuleError unless `code` is a ZVMC container this engine runs."""
        self.load(code)

    def load(self, data: bytes) -> LoadedContract:
        """Decode and analyse a container once; later loads come from the cache."""
        data = bytes(data)
        if len(data) > self.limits.module_bytes:
            raise InvalidModuleError(
                f"contract is {len(data)} bytes, above the {self.limits.module_bytes}-byte limit")
        digest = keccak256(data)
        with self._lock:
            found = self._cache.get(digest)
            if found is not None:
                self._cache.move_to_end(digest)
                return found
        container = decode_zvmc(data)
        if container.target != TARGET_ZVM_NATIVE:
            raise InvalidModuleError(
                f"ZVMC target {TARGETS[container.target]} is not runnable here; ghost runs "
                "zvm_native (0) code")
        metadata = read_zvmc_metadata(data)
        abi = None
        if metadata is not None and "abi" in metadata:
            try:
                abi = Abi.from_json(metadata["abi"])
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InvalidModuleError(f"invalid ghost ABI in the ZVMC container: {exc}") \
                    from exc
        loaded = LoadedContract(Code.of(container.code), metadata, abi)
        with self._lock:
            self._cache[digest] = loaded
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return loaded

    # ---- execution ---------------------------------------------------------------------

    @contextmanager
    def tracing(self, tracer: Tracer) -> Iterator[None]:
        """Trace every call this thread makes through the engine (for `ghost call --trace`)."""
        previous = getattr(self._local, "tracer", None)
        self._local.tracer = tracer
        try:
            yield
        finally:
            self._local.tracer = previous

    def execute(self, code: bytes, function: str, ctx: CallContext, storage: StorageReader,
                trace: Tracer | None = None) -> Outcome:
        """Run `function`; only the called contract's writes can leave in an Outcome."""
        run = self.run(code, function, ctx, storage, trace)
        foreign = [a for a, w in run.writes.items() if w and a != ctx.address]
        if foreign:
            raise ExecutionError(
                f"a sub-call changed the storage of {len(foreign)} other contract(s), which "
                "the executor cannot record yet", gas_used=run.gas_used)
        return Outcome(return_data=run.return_data, gas_used=run.gas_used,
                       writes=dict(run.writes.get(ctx.address, {})), events=run.events,
                       logs=run.logs)

    def run(self, code: bytes, function: str, ctx: CallContext, storage: StorageReader,
            trace: Tracer | None = None) -> ZvmRun:
        contract = self.load(code)
        calldata = selector(contract.signature(function)) + ctx.input
        return self.run_message(contract, bytes(code), calldata, ctx, storage, trace)

    def run_message(self, contract: LoadedContract, raw: bytes, calldata: bytes,
                    ctx: CallContext, storage: StorageReader,
                    trace: Tracer | None = None) -> ZvmRun:
        """Run `contract` with raw call data (no selector added)."""
        if trace is None:
            trace = getattr(self._local, "tracer", None)
        tx = TxContext(origin=ctx.caller, gas_limit=ctx.gas_limit,
                       block_height=ctx.block_height, block_time=ctx.block_time,
                       chain_id=ctx.chain_id, limits=self.limits,
                       host=_Host(self, ctx.address, contract, raw, storage))
        interp = Interpreter(self._dispatch, tx, trace)
        msg = Message(contract.code, ctx.address, ctx.caller, calldata, ctx.gas_limit,
                      code_address=ctx.address)
        result = interp.run(msg)
        if not result.success:
            raise _charged(result, ctx.gas_limit)
        used = ctx.gas_limit - result.gas_left
        refund = min(interp.state.refund, used // 5)
        state = interp.state
        return ZvmRun(result.output, used - refund,
                      {a: dict(w) for a, w in state.overlay.items() if w},
                      tuple(state.events), tuple(state.logs), refund)


def _charged(result: FrameResult, gas_limit: int) -> ExecutionError:
    error = result.error
    assert error is not None
    # REVERT keeps the gas it did not use; every other failure burns the whole limit.
    error.gas_used = gas_limit - result.gas_left if isinstance(error, RevertError) else gas_limit
    if isinstance(error, OutOfGasError):
        error.message = f"out of gas: used {gas_limit} of limit {gas_limit} ({error.message})"
        error.args = (error.message,)
    return error
