"""The ZVM engine: runs ZVMC contracts for the executor, like the WebAssembly engine.

`execute(code, function, ctx, storage)` decodes the container (cached by code hash),
builds the call data as selector(signature from the ghost ABI in the container) ‖
ctx.input, and runs the interpreter with gas = ctx.gas_limit. A success returns an
Outcome (writes of the called contract and of every other contract, the contracts
created, creators' new nonces, events, debug logs, return data, gas used after the
capped refund); a failure raises an ExecutionError subclass carrying gas_used.

Sub-calls reach other contracts through `ctx.world` (the executor's read-only view of
committed state) or, for tests, the engine's `resolver` (address → stored code and
storage reader, or None). With neither, a contract can call itself only: calls to other
contracts fail cleanly (push 0) and CREATE pushes 0. WebAssembly contracts are run by
`foreign` (the EngineSet wires in the wasm engine) when a ZVM contract calls one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ghost_cli.abi import Abi
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.exceptions import (
    ExecutionError,
    InvalidModuleError,
    NotFoundError,
    OutOfGasError,
    PanicError,
    RevertError,
)
from ghost_cli.formats import ZVMC
from ghost_cli.vm import coverage
from ghost_cli.vm.recording import current_tracer
from ghost_cli.vm.types import (
    CallContext,
    CreatedContract,
    Limits,
    Outcome,
    StorageReader,
    World,
)

from .container import (
    TARGET_ZVM_NATIVE,
    TARGETS,
    decode_zvmc,
    encode_zvmc,
    read_zvmc_metadata,
    selector,
    zvmc_abi,
)
from .interpreter import (
    UNKNOWN,
    Code,
    Deployable,
    ForeignCode,
    FrameResult,
    Interpreter,
    Message,
    Tracer,
    TxContext,
    Unknown,
    build_dispatch,
    code_load_gas,
)

__all__ = ["ContractResolver", "ForeignRunner", "LoadedContract", "ZvmEngine", "ZvmRun",
           "read_zvmc_metadata"]

#: Another contract's stored code and committed storage, or None when nothing is there.
ContractResolver = Callable[[bytes], "tuple[bytes, StorageReader] | None"]
#: Runs a contract of another engine: (code, ctx with call data = selector ‖ arguments,
#: storage) -> Outcome, or an ExecutionError.
ForeignRunner = Callable[[bytes, CallContext, StorageReader], Outcome]
#: Decoded contracts kept per engine: at most this many, and at most CACHE_BYTES of what
#: they hold in memory by estimate (`_held`). A 512 KiB contract of JUMPDESTs alone holds
#: about 33 MB of JUMPDEST analysis (a full cache of them, 8.5 GB), a compiled block a few
#: KB to 100 KB.
CACHE_SIZE = 256
CACHE_BYTES = 256 * 1024 * 1024


def _held(loaded: LoadedContract) -> int:
    """What a decoded contract holds in memory, by estimate: its code, about 72 bytes per
    JUMPDEST (an int in a frozenset) and per entry counter, 16 KiB per compiled block."""
    code = loaded.code
    return (len(code.code) + 72 * (len(code.jumpdests) + len(code.entries))
            + 16_384 * len(code.blocks))


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
        return self.abi.entry(function).signature


@dataclass(frozen=True)
class ZvmRun:
    """Everything a successful run did, every contract's writes included."""

    return_data: bytes
    gas_used: int
    writes: dict[bytes, dict[bytes, bytes | None]]  # address -> key -> value (None: deleted)
    events: tuple
    logs: tuple[str, ...]
    refund: int
    created: tuple[CreatedContract, ...] = ()
    nonces: dict[bytes, int] = field(default_factory=dict)  # creators' new nonces


class _Host:
    """CallHost for one execution: the running contract, others through the call's world
    (or the engine's resolver). Lookups are cached: committed state does not change
    during a run."""

    def __init__(self, engine: ZvmEngine, ctx: CallContext, contract: LoadedContract,
                 raw: bytes, storage: StorageReader) -> None:
        self._engine = engine
        self._ctx = ctx
        self._address = ctx.address
        self._world: World | None = ctx.world
        self._contract = contract
        self._raw = raw
        self._storage = storage
        self._found: dict[bytes, tuple[bytes, StorageReader] | None | Unknown] = {}
        # What code_at and stored_code made of each address's code, kept for the run: a
        # 100-gas CALL or EXTCODESIZE must not hash or copy a contract of up to
        # Limits.module_bytes again each time it names the same address.
        self._code: dict[bytes, Code | ForeignCode | None | Unknown] = {}
        self._stored: dict[bytes, bytes | None | Unknown] = {}

    def _lookup(self, address: bytes) -> tuple[bytes, StorageReader] | None | Unknown:
        if address == self._address:
            return self._raw, self._storage
        if address in self._found:
            return self._found[address]
        world = self._world
        found: tuple[bytes, StorageReader] | None | Unknown
        if world is not None:
            raw = world.code(address)
            found = None if raw is None else (
                bytes(raw), lambda key, w=world, a=address: w.storage(a, key))
        else:
            resolver = self._engine.resolver
            found = UNKNOWN if resolver is None else resolver(address)
        self._found[address] = found
        return found

    def code_at(self, address: bytes) -> Code | ForeignCode | None | Unknown:
        if address == self._address:
            return self._contract.code
        if address in self._code:
            return self._code[address]
        code = self._code[address] = self._code_at(address)
        return code

    def _code_at(self, address: bytes) -> Code | ForeignCode | None | Unknown:
        found = self._lookup(address)
        if found is None or found is UNKNOWN:
            return found
        raw = found[0]
        if not raw.startswith(ZVMC.magic):
            # another engine's contract: runnable only when there is that engine
            return UNKNOWN if self._engine.foreign is None else ForeignCode(raw)
        try:
            return self._engine.load(raw).code
        except InvalidModuleError:
            return UNKNOWN  # stored but not runnable here: calls to it fail cleanly

    def code_size(self, address: bytes) -> int:
        found = self._lookup(address)
        if found is None or found is UNKNOWN or not found[0].startswith(ZVMC.magic):
            return 0
        return len(found[0])

    def stored_code(self, address: bytes) -> bytes | None | Unknown:
        if address == self._address and self._ctx.constructing:
            return None  # the deploy records the code only after its constructor succeeds
        if address in self._stored:
            return self._stored[address]
        stored = self._stored[address] = self._stored_code(address)
        return stored

    def _stored_code(self, address: bytes) -> bytes | None | Unknown:
        found = self._lookup(address)
        if found is None or found is UNKNOWN:
            return found
        raw = found[0]
        if raw.startswith(ZVMC.magic):
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

    def nonce(self, address: bytes) -> int | Unknown:
        if self._world is not None:
            return self._world.nonce(address)
        # a resolver knows contracts but not accounts: every nonce starts at 0
        return 0 if self._engine.resolver is not None else UNKNOWN

    def deployable(self, output: bytes) -> Deployable:
        # A ZVMC container is deployed as it is, ABI included; any other bytes are ZVM
        # code (the EVM's rule), wrapped in a container with an empty ABI section.
        stored = output if output.startswith(ZVMC.magic) else encode_zvmc(output)
        loaded = self._engine.load(stored)
        return Deployable(stored, loaded.code, dict(loaded.metadata or {}))

    def run_foreign(self, raw: bytes, data: bytes, caller: bytes, address: bytes, gas: int,
                    storage: StorageReader) -> Outcome:
        foreign = self._engine.foreign
        assert foreign is not None  # code_at hands out ForeignCode only when there is one
        ctx = self._ctx
        sub = CallContext(caller, address, data, gas, ctx.block_height, ctx.block_time,
                          ctx.chain_id)
        return foreign(raw, sub, storage)


class ZvmEngine:
    def __init__(self, limits: Limits = Limits(),  # noqa: B008 - frozen
                 resolver: ContractResolver | None = None,
                 foreign: ForeignRunner | None = None) -> None:
        self.limits = limits
        self.resolver = resolver
        self.foreign = foreign
        self._dispatch = build_dispatch()
        self._cache: OrderedDict[bytes, LoadedContract] = OrderedDict()
        self._lock = threading.Lock()
        self._last: tuple[bytes, LoadedContract] | None = None
        self._local = threading.local()  # the tracer installed by `tracing`, per thread

    # ---- contracts ---------------------------------------------------------------------

    def validate(self, code: bytes) -> None:
        """Raise InvalidModuleError unless `code` is a ZVMC container this engine runs."""
        self.load(code)

    #: nothing to compile: checking a contract is loading it
    check = validate

    @staticmethod
    def read_metadata(code: bytes) -> dict[str, Any] | None:
        """The metadata section of a ZVMC container (ABI included), None when it has none."""
        return read_zvmc_metadata(code)

    def load(self, data: bytes) -> LoadedContract:
        """Decode and analyse a container once; later loads come from the cache."""
        last = self._last
        if last is not None and last[0] is data:  # the very bytes of the last call: no hash
            return last[1]
        data = bytes(data)
        if len(data) > self.limits.module_bytes:
            raise InvalidModuleError(
                f"contract is {len(data)} bytes, above the {self.limits.module_bytes}-byte limit")
        digest = keccak256(data)
        with self._lock:
            found = self._cache.get(digest)
            if found is not None:
                self._cache.move_to_end(digest)
                self._last = (data, found)
                return found
        container = decode_zvmc(data)
        if container.target != TARGET_ZVM_NATIVE:
            raise InvalidModuleError(
                f"ZVMC target {TARGETS[container.target]} is not runnable here; ghost runs "
                "zvm_native (0) code")
        metadata = read_zvmc_metadata(data)
        loaded = LoadedContract(Code.of(container.code), metadata, zvmc_abi(metadata))
        with self._lock:
            self._cache[digest] = loaded
            held = sum(_held(each) for each in self._cache.values())
            while len(self._cache) > CACHE_SIZE or (held > CACHE_BYTES and len(self._cache) > 1):
                held -= _held(self._cache.popitem(last=False)[1])
            self._last = (data, loaded)
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
        """Run `function`: the called contract's writes in `writes`, everything else the
        run did to other contracts in `other_writes`, `created` and `nonces`."""
        run = self.run(code, function, ctx, storage, trace)
        return Outcome(return_data=run.return_data, gas_used=run.gas_used,
                       writes=dict(run.writes.get(ctx.address, {})), events=run.events,
                       logs=run.logs,
                       other_writes={a: w for a, w in run.writes.items() if a != ctx.address},
                       created=run.created, nonces=run.nonces)

    def run(self, code: bytes, function: str, ctx: CallContext, storage: StorageReader,
            trace: Tracer | None = None) -> ZvmRun:
        loading = code_load_gas(len(code))  # paid before the code is read or analysed
        if loading > ctx.gas_limit:
            raise OutOfGasError.burnt(
                ctx.gas_limit, f"loading the contract's {len(code)} bytes of code costs "
                f"{loading}")
        contract = self.load(code)
        calldata = selector(contract.signature(function)) + ctx.input
        return self.run_message(contract, bytes(code), calldata, ctx, storage, trace,
                                loading=loading)

    def run_message(self, contract: LoadedContract, raw: bytes, calldata: bytes,
                    ctx: CallContext, storage: StorageReader,
                    trace: Tracer | None = None, *, loading: int = 0) -> ZvmRun:
        """Run `contract` with raw call data (no selector added); `loading`: the gas its
        code's load has cost (code_load_gas), counted in the run's gas used."""
        if trace is None:
            trace = getattr(self._local, "tracer", None)
        dispatch, recorder = self._dispatch, current_tracer()
        collector = coverage.active()
        if collector is not None:  # `ghost test --coverage`: count each pc run
            trace, dispatch = collector.zvm_hooks(contract.code, trace, dispatch)
        if recorder is not None:  # a call trace (vm/trace.py): sub-frames, host calls, steps
            trace, dispatch = recorder.zvm_steps(trace), recorder.zvm_dispatch(dispatch)
        tx = TxContext(origin=ctx.caller, gas_limit=ctx.gas_limit,
                       block_height=ctx.block_height, block_time=ctx.block_time,
                       chain_id=ctx.chain_id, limits=self.limits,
                       host=_Host(self, ctx, contract, raw, storage), host_tracer=recorder)
        tx.code_paid.add(ctx.address)
        interp = Interpreter(dispatch, tx, trace)
        msg = Message(contract.code, ctx.address, ctx.caller, calldata,
                      ctx.gas_limit - loading, code_address=ctx.address)
        result = interp.run(msg)
        if not result.success:
            raise _charged(result, ctx.gas_limit)
        used = ctx.gas_limit - result.gas_left
        refund = min(interp.state.refund, used // 5)
        state = interp.state
        # EIP-6780: a contract created and SELFDESTRUCTed in this transaction leaves
        # nothing behind, neither code, storage nor nonce.
        gone = state.destroyed & state.created.keys()
        created = tuple(CreatedContract(c.address, c.stored, c.metadata, c.deployer)
                        for a, c in state.created.items() if a not in gone)
        return ZvmRun(result.output, used - refund,
                      {a: dict(w) for a, w in state.overlay.items() if w and a not in gone},
                      tuple(state.events), tuple(state.logs), refund, created,
                      {a: n for a, n in state.nonces.items() if a not in gone})


def _charged(result: FrameResult, gas_limit: int) -> ExecutionError:
    error = result.error
    assert error is not None
    # REVERT and a Zig panic keep the gas they did not use; every other failure burns the
    # whole limit.
    kept = isinstance(error, (RevertError, PanicError))
    error.gas_used = gas_limit - result.gas_left if kept else gas_limit
    if isinstance(error, OutOfGasError):
        if error.limit is None:
            error.why = error.message  # where in the code it ran out
        error.burn(gas_limit)
    return error
