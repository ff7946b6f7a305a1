"""The ZVM interpreter: a dispatcher over the opcode table, frames on an explicit stack.

The dispatcher charges each opcode's base gas and checks its stack bounds from the table
(ghost_cli.vm.zvm.opcodes), then calls the family handler, which charges dynamic gas.

Sub-calls do not recurse in Python: a CALL handler returns a `CallRequest`, the driver
pushes the callee's frame and resumes the caller when it ends, so 1024 nested calls cost
no Python stack. Each frame starts with a journal snapshot; a frame that reverts or
fails rolls back its storage, transient storage, warm slots, events, logs and refunds.

Failure and gas, as in the EVM: REVERT (and a panic, the host ABI's `panic`) hands back
the gas left; any other failure (out of gas, invalid opcode, bad jump, stack, memory
limit, static violation, other traps) burns the frame's gas. In a sub-frame a failure is
the callee's: the caller gets 0 and carries on.

Memory: an instruction checks the memory limit over every range it touches before it
charges any gas beyond its base, and builds nothing the size of a range before that
(Frame.expand, mread, expand_ranges), so a huge size fails at once, without allocating.

CREATE and CREATE2 are sub-frames too: the init code runs as the new contract, and when it
returns the driver deploys its RETURN data (charging the code deposit) before the creator
resumes with the new address.

Two paths run the same semantics. The step-by-step path (`_step`) executes one instruction
at a time through the dispatch table: it is the reference, it runs code that is not hot
yet, and it is the only path when a tracer is installed. The fast path (`_run_blocks`)
runs basic blocks compiled to Python functions (compiler.py) once an entry pc has been
reached HOT_AFTER times (at most MAX_BLOCKS per code); a compiled block hands any stretch
it cannot run exactly back to the step-by-step path, so errors, gas and pcs are the same
on both.

Tracing: `Interpreter(dispatch, tx, trace)` with `trace` a callable taking a TraceStep
calls it before every instruction (depth, pc, opcode name, gas left before the
instruction, stack top and size), in execution order, sub-frames included. A traced run
never uses compiled blocks, so it sees every instruction. `ZvmEngine.tracing` and
`ghost call --trace` are built on this hook.

Wall-clock backstop: gas bounds a call, but a huge gas limit could keep the interpreter
busy for long. Every CHECK_BLOCKS blocks (fast path) or CHECK_STEPS instructions (step by
step) the clock is read; past `Limits.timeout_seconds` the whole transaction stops with
TimeoutError_ (code "timeout", the wasm engine's backstop error), burning its gas limit.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ghost_cli.exceptions import (
    ExecutionError,
    InvalidModuleError,
    InvalidOpcodeError,
    MemoryLimitError,
    OutOfGasError,
    PanicError,
    RevertError,
    StackOverflowError,
    StackUnderflowError,
    TimeoutError_,
    TrapError,
)
from ghost_cli.vm.types import Limits, Outcome, StorageReader

from .compiler import BlockFn, compile_block
from .opcodes import BY_NAME, OPCODES, RESERVED, STACK_LIMIT, Opcode, jumpdests
from .state import Created, TxState

if TYPE_CHECKING:
    from ghost_cli.vm.host_calls import HostTracer

MAX_CALL_DEPTH = 1024
#: An entry pc is compiled to a block once it has been entered this many times: code that
#: runs a few times is not worth compiling. Compiling a 256-instruction block takes 0.1 to
#: 26 ms, 2 to 170 times stepping through it once (docs/zvm.md): code made to run many
#: blocks just HOT_AFTER times each spends most of its time compiling.
HOT_AFTER = 8
#: At most this many compiled blocks per code (about 2.5 KB each); beyond, it steps.
MAX_BLOCKS = 512
#: The wall clock is read every this many blocks on the fast path...
CHECK_BLOCKS = 32
#: ...and every this many instructions step by step.
CHECK_STEPS = 1024
_JUMPS = frozenset({BY_NAME["JUMP"].value, BY_NAME["JUMPI"].value})
WORD_MASK = (1 << 256) - 1
CODE_DEPOSIT_GAS = 200  # per byte of deployed code (ZVM.md: CREATE 32000 + 200 per byte)


# ---- what the interpreter is given ------------------------------------------------------


#: Loading a contract's code (reading, hashing, decoding, scanning it for jump targets)
#: is free up to EIP-170's contract size; past it each 32-byte word costs
#: CODE_LOAD_WORD_GAS (5 gas a byte): a cold load takes up to ~140 ns a byte, so a gas
#: of it buys at most ~17x the time of the interpreter's own arithmetic, inside the 20x
#: that host prices keep to (docs/zvm.md, "Gas"; docs/host-abi.md).
FREE_CODE_BYTES = 24_576
CODE_LOAD_WORD_GAS = 160


def code_load_gas(size: int) -> int:
    """What loading `size` bytes of contract code costs, on its first use in a transaction."""
    past = size - FREE_CODE_BYTES
    return 0 if past <= 0 else (past + 31) // 32 * CODE_LOAD_WORD_GAS


@dataclass(frozen=True)
class Code:
    """Runnable bytecode with its JUMPDEST analysis done once, and the blocks compiled from
    it so far (filled as they get hot; shared by every run of this Code, which the engine
    caches per code hash)."""

    code: bytes
    jumpdests: frozenset[int]
    blocks: dict[int, BlockFn] = field(default_factory=dict, compare=False, repr=False)
    entries: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, code: bytes) -> Code:
        return cls(bytes(code), jumpdests(code))


class Unknown(Enum):
    """The host cannot see other contracts (no resolver): distinct from 'no code here'."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


@dataclass(frozen=True)
class ForeignCode:
    """A contract of another engine (WebAssembly): the host runs it, not the interpreter."""

    raw: bytes


@dataclass(frozen=True)
class Deployable:
    """What a constructor's RETURN data becomes: the stored container and its code."""

    stored: bytes
    code: Code
    metadata: dict


class CallHost(Protocol):
    """The seam to the rest of the chain, provided by the engine. Everything it reports is
    committed state; what this transaction changed is in TxState, consulted first."""

    def code_at(self, address: bytes) -> Code | ForeignCode | None | Unknown:
        """The ZVM code at `address`; ForeignCode for a contract the host runs on another
        engine; None for an account without code; UNKNOWN when the host cannot look
        other contracts up (or has no way to run the code there)."""

    def stored_code(self, address: bytes) -> bytes | None | Unknown:
        """The bytes EXTCODESIZE/COPY/HASH see: the contract's code as stored."""

    def code_size(self, address: bytes) -> int:
        """How many bytes the ZVM contract stored at `address` takes (its whole ZVMC
        container): what loading it costs (code_load_gas). 0 for none, for another
        engine's contract, or when the host cannot look it up."""

    def storage_reader(self, address: bytes) -> StorageReader:
        """Committed storage of `address`."""

    def nonce(self, address: bytes) -> int | Unknown:
        """The committed nonce of `address`; UNKNOWN without a view of the chain."""

    def deployable(self, output: bytes) -> Deployable:
        """A constructor's RETURN data as a contract; InvalidModuleError if it cannot be."""

    def run_foreign(self, raw: bytes, data: bytes, caller: bytes, address: bytes, gas: int,
                    storage: StorageReader) -> Outcome:
        """Run ForeignCode with call data `data`; an ExecutionError when it fails."""


@dataclass(frozen=True)
class TxContext:
    """Per-transaction facts, the same in every frame."""

    origin: bytes
    gas_limit: int
    block_height: int
    block_time: int
    chain_id: int
    limits: Limits
    host: CallHost
    host_tracer: HostTracer | None = None  # vm/trace.py's recorder, while a trace is on
    #: EXTCODEHASH's keccak256 of each code it has hashed in this transaction, by the code
    #: bytes (the host hands out one bytes object per address): a loop over one big
    #: contract hashes it once, not once per 100-gas instruction.
    code_hashes: dict[bytes, int] = field(default_factory=dict, compare=False, repr=False)
    #: Contracts whose code this transaction has paid to load (code_load_gas): each pays
    #: once, whatever frames call or read it later (the host keeps it for the run).
    code_paid: set[bytes] = field(default_factory=set, compare=False, repr=False)


@dataclass(frozen=True)
class Message:
    code: Code
    address: bytes  # whose storage and identity the frame runs with
    caller: bytes
    data: bytes  # call data: selector ‖ arguments
    gas: int
    value: int = 0
    depth: int = 0
    static: bool = False
    code_address: bytes = b""  # where the code came from (differs under DELEGATECALL)


@dataclass(frozen=True)
class TraceStep:
    """One instruction about to run, as a tracer sees it (before its bounds and gas checks,
    so the step of an instruction that fails is reported too)."""

    depth: int  # call depth of the frame: 0 for the called contract
    pc: int
    opcode: str  # the opcode's name in the table; INVALID for a byte that is no opcode
    gas_left: int  # the frame's gas before this instruction's gas
    stack_top: int | None
    stack_size: int


#: The tracer hook: called with every TraceStep, in execution order. Installing one makes
#: the interpreter step (no compiled blocks), so it sees every instruction.
Tracer = Callable[[TraceStep], None]


@dataclass(frozen=True)
class CallRequest:
    """A handler asks the driver to run a sub-frame; the caller resumes when it ends."""

    message: Message
    ret_offset: int
    ret_size: int
    create: bytes | None = None  # CREATE/CREATE2: the address the init code's output gets


@dataclass(frozen=True)
class FrameResult:
    success: bool
    output: bytes  # RETURN data, or the REVERT data of a failed frame
    gas_left: int
    error: ExecutionError | None = None


STOP = object()  # a handler's "this frame halted normally"
#: The name a trace gives a byte that is no opcode (as the disassembler lists it).
INVALID = "INVALID"


# ---- one running frame ------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Frame:
    msg: Message
    tx: TxContext
    state: TxState
    code: bytes = b""
    gas: int = 0
    pc: int = 0
    stack: list[int] = field(default_factory=list)
    memory: bytearray = field(default_factory=bytearray)
    output: bytes = b""  # what the frame returns (RETURN / HOSTCALL set_return)
    returndata: bytes = b""  # what the last sub-call returned
    pending: CallRequest | None = None
    memory_budget: list[int] = field(default_factory=lambda: [0])  # bytes in use, all frames

    def __post_init__(self) -> None:
        self.code = self.msg.code.code
        self.gas = self.msg.gas

    # ---- gas ---------------------------------------------------------------------------

    def charge(self, amount: int) -> None:
        self.gas -= amount
        if self.gas < 0:
            had = self.gas + amount
            self.gas = 0
            raise self._out_of_gas(amount, had)

    def _out_of_gas(self, amount: int, had: int) -> OutOfGasError:
        pc = self.pc_of_op()
        op = OPCODES.get(self.code[pc]) if pc < len(self.code) else None
        name = op.name if op is not None else "the instruction"
        return OutOfGasError(f"out of gas at pc {pc}: {name} needs {amount} more gas, "
                             f"{had} left ({amount - had} short)")

    def pc_of_op(self) -> int:
        """The pc of the instruction running (its handler runs with pc past the opcode
        byte; HOSTCALL moves past its immediate only once its host function is done)."""
        return max(0, self.pc - 1)

    # ---- memory ------------------------------------------------------------------------

    def expand(self, offset: int, size: int) -> None:
        """Grow memory to cover [offset, offset+size), charging 3·w + w²/512 on growth."""
        if size == 0:
            return
        end = offset + size
        have = len(self.memory)
        if end <= have:
            return
        new = (end + 31) // 32 * 32
        limit = self.tx.limits.memory_bytes
        in_use = self.memory_budget[0]
        if in_use - have + new > limit:
            raise MemoryLimitError(
                f"memory limit of {limit} bytes exceeded: access to [{offset}, {end})")
        old_w, new_w = have // 32, new // 32
        self.charge(3 * (new_w - old_w) + new_w * new_w // 512 - old_w * old_w // 512)
        self.memory.extend(bytes(new - have))
        self.memory_budget[0] = in_use - have + new

    def expand_ranges(self, ranges: tuple[tuple[int, int], ...]) -> None:
        """Grow memory over several (offset, size) ranges as one access: the limit holds
        for all of them before any gas is charged. Growing to the furthest end at once
        costs what growing range by range would."""
        offset, size = max(ranges, key=lambda r: r[0] + r[1] if r[1] else -1)
        self.expand(offset, size)

    def mread(self, offset: int, size: int, gas: int = 0) -> bytes:
        """Memory [offset, offset+size): the memory limit and expansion first, then `gas`
        (what the instruction charges per word or byte of it), then the copy; so a huge
        size fails on the limit, before any gas or allocation (docs/zvm.md)."""
        if size == 0:
            return b""
        self.expand(offset, size)
        if gas:
            self.charge(gas)
        return bytes(self.memory[offset:offset + size])

    def mwrite(self, offset: int, data: bytes) -> None:
        if data:
            self.expand(offset, len(data))
            self.memory[offset:offset + len(data)] = data

    def release_memory(self) -> None:
        self.memory_budget[0] -= len(self.memory)

    # ---- other accounts: this transaction's changes first, then the host's view -------

    def code_at(self, address: bytes) -> Code | ForeignCode | None | Unknown:
        created = self.state.created.get(address)
        if created is not None:
            return created.code
        self._pay_code_load(address)
        return self.tx.host.code_at(address)

    def stored_code(self, address: bytes) -> bytes | None | Unknown:
        created = self.state.created.get(address)
        if created is not None:
            return created.code.code
        self._pay_code_load(address)
        return self.tx.host.stored_code(address)

    def _pay_code_load(self, address: bytes) -> None:
        """Before the host reads, hashes and analyses a contract's code the first time in
        this transaction: its price by size, charged before any of that work is done."""
        paid = self.tx.code_paid
        if address not in paid:
            self.charge(code_load_gas(self.tx.host.code_size(address)))
            paid.add(address)

    def nonce(self, address: bytes) -> int | Unknown:
        nonce = self.state.nonces.get(address)
        return nonce if nonce is not None else self.tx.host.nonce(address)

    # ---- call data seen by the host ABI ------------------------------------------------

    @property
    def arguments(self) -> bytes:
        """HOSTCALL input_* see the arguments: the call data after the 4-byte selector."""
        return self.msg.data[4:]


# ---- the dispatcher ---------------------------------------------------------------------


class _Entry(NamedTuple):
    """One dispatch slot. A plain tuple: the dispatcher unpacks it on every step."""

    gas: int  # base gas
    pops: int  # the smallest stack size the opcode may start with
    max_before: int  # the largest stack size the opcode may start with
    handler: Callable[[Frame], object]
    op: Opcode


def build_dispatch() -> tuple[_Entry | None, ...]:
    """Bind every opcode row to its family handler; parametric rows (arg set) name a
    factory that makes the handler for that arg (PUSHn, DUPn, SWAPn, LOGn)."""
    table: list[_Entry | None] = [None] * 256
    for value, op in OPCODES.items():
        module = importlib.import_module(f"{__package__}.handlers.{op.family}")
        handler = getattr(module, op.handler)
        if op.arg is not None:
            handler = handler(op.arg)
        table[value] = _Entry(op.gas, op.pops, STACK_LIMIT - op.pushes + op.pops, handler, op)
    return tuple(table)


def _invalid(byte: int, pc: int) -> InvalidOpcodeError:
    reason = RESERVED.get(byte)
    extra = f" ({reason})" if reason else ""
    return InvalidOpcodeError(f"invalid opcode 0x{byte:02X} at pc {pc}{extra}", pc=pc)


def _bounds_error(entry: _Entry, size: int, pc: int) -> ExecutionError:
    op = entry.op
    if size < op.pops:
        return StackUnderflowError(
            f"stack underflow at pc {pc}: {op.name} needs {op.pops} items, stack has {size}")
    return StackOverflowError(
        f"stack overflow at pc {pc}: {op.name} would grow the stack past {STACK_LIMIT} items")


class Interpreter:
    """Runs one transaction's message and its sub-calls. Cheap to create per call; the
    dispatch table is built once per engine and shared."""

    def __init__(self, dispatch: tuple[_Entry | None, ...], tx: TxContext,
                 trace: Tracer | None = None) -> None:
        self.dispatch = dispatch
        self.tx = tx
        self.state = TxState(tx.host.storage_reader)
        self.trace = trace
        self._memory_budget = [0]
        self._deadline = time.monotonic() + tx.limits.timeout_seconds
        self._blocks_left = CHECK_BLOCKS
        self._steps_left = CHECK_STEPS

    def new_frame(self, msg: Message) -> Frame:
        return Frame(msg, self.tx, self.state, memory_budget=self._memory_budget)

    # ---- driving frames ----------------------------------------------------------------

    def run(self, msg: Message) -> FrameResult:
        """Run `msg` and every sub-call it makes; the top frame's result."""
        frames = [self.new_frame(msg)]
        snaps = [self.state.snapshot()]
        while True:
            frame = frames[-1]
            try:
                signal = (self._step(frame, False) if self.trace is not None
                          else self._run_blocks(frame))
            except TimeoutError_:
                raise  # the whole transaction stops, not just this frame
            except RevertError as exc:
                result = FrameResult(False, frame.output, frame.gas, exc)
            except PanicError as exc:  # a Zig panic, like REVERT, keeps the gas left
                result = FrameResult(False, b"", frame.gas, exc)
            except ExecutionError as exc:
                result = FrameResult(False, b"", 0, exc)
            else:
                if isinstance(signal, CallRequest):
                    frame.pending = signal
                    frames.append(self.new_frame(signal.message))
                    snaps.append(self.state.snapshot())
                    continue
                result = FrameResult(True, frame.output, frame.gas)
            frame.release_memory()
            frames.pop()
            snap = snaps.pop()
            if result.success and frames:
                request = frames[-1].pending
                assert request is not None
                if request.create is not None:
                    result = self._deploy(request.create, frame.msg.caller, result)
            if not result.success:
                self.state.revert(snap)  # a failed deposit undoes the constructor too
            if not frames:
                return result
            self._resume(frames[-1], result)

    def _deploy(self, address: bytes, deployer: bytes, result: FrameResult) -> FrameResult:
        """Turn a constructor's RETURN data into the contract at `address`; a failure
        (code that cannot be deployed, gas short of the deposit) burns the frame's gas,
        as in the EVM."""
        output = result.output
        cost = CODE_DEPOSIT_GAS * len(output)
        try:
            if cost > result.gas_left:
                raise OutOfGasError(
                    f"out of gas: depositing {len(output)} bytes of code costs {cost}, "
                    f"{result.gas_left} left")
            deployable = self.tx.host.deployable(output)
        except InvalidModuleError as exc:
            return FrameResult(False, b"", 0, TrapError(f"cannot deploy: {exc.message}"))
        except ExecutionError as exc:
            return FrameResult(False, b"", 0, exc)
        self.state.create(Created(address, deployable.stored, deployable.code,
                                  deployable.metadata, deployer))
        return FrameResult(True, b"", result.gas_left - cost)

    @staticmethod
    def _resume(caller: Frame, result: FrameResult) -> None:
        request = caller.pending
        assert request is not None
        caller.pending = None
        caller.gas += result.gas_left
        caller.returndata = result.output
        if request.create is not None:
            # the new address, or 0; return data is the revert data of a failed constructor
            caller.stack.append(int.from_bytes(request.create, "big") if result.success else 0)
            return
        if request.ret_size and result.output:
            n = min(request.ret_size, len(result.output))
            caller.memory[request.ret_offset:request.ret_offset + n] = result.output[:n]
        caller.stack.append(1 if result.success else 0)

    # ---- running one frame ---------------------------------------------------------------

    def _check_clock(self) -> None:
        if time.monotonic() > self._deadline:
            raise TimeoutError_(
                f"timed out: the call ran longer than the {self.tx.limits.timeout_seconds:g}s "
                "wall-clock limit", gas_used=self.tx.gas_limit)

    def _run_blocks(self, frame: Frame) -> object:
        """The fast path: run compiled blocks from frame.pc until the frame halts (STOP) or
        asks for a sub-call; cold entries and a block's hand-backs run step by step."""
        code = frame.msg.code
        blocks = code.blocks
        stack = frame.stack
        pc = frame.pc
        left = self._blocks_left
        try:
            while True:
                left -= 1
                if not left:
                    left = CHECK_BLOCKS
                    self._check_clock()
                block = blocks.get(pc)
                if block is None:
                    block = self._hot_block(code, pc)
                    if block is None:
                        frame.pc = pc
                        signal = self._step(frame, True)
                        if signal is not None:
                            return signal
                        pc = frame.pc
                        continue
                result = block(frame, stack)
                if result.__class__ is not int:
                    return result  # STOP or a CallRequest; the block has set frame.pc
                if result >= 0:
                    pc = result
                    continue
                frame.pc = ~result  # the block cannot run whole here: step by step
                signal = self._step(frame, True)
                if signal is not None:
                    return signal
                pc = frame.pc
        finally:
            self._blocks_left = left

    def _hot_block(self, code: Code, pc: int) -> BlockFn | None:
        """The compiled block at `pc` once it is hot, else None (count this entry)."""
        seen = code.entries.get(pc, 0) + 1
        if seen < HOT_AFTER or len(code.blocks) >= MAX_BLOCKS:
            code.entries[pc] = seen
            return None
        block = compile_block(code.code, pc, code.jumpdests, self.dispatch, STOP)
        code.blocks[pc] = block
        return block

    def _step(self, frame: Frame, until_jump: bool) -> object:
        """Execute instructions one by one until the frame halts (STOP) or asks for a
        sub-call (the signal is returned), or, with `until_jump`, until a JUMP or JUMPI
        has run (None is returned, frame.pc is where to go on)."""
        code = frame.code
        end = len(code)
        stack = frame.stack
        dispatch = self.dispatch
        trace = self.trace
        left = self._steps_left
        try:
            while True:
                left -= 1
                if not left:
                    left = CHECK_STEPS
                    self._check_clock()
                pc = frame.pc
                if pc >= end:
                    return STOP  # end of code is a successful halt
                byte = code[pc]
                entry = dispatch[byte]
                if entry is None:
                    if trace is not None:  # the failing step is reported, as every other
                        trace(TraceStep(frame.msg.depth, pc, INVALID, frame.gas,
                                        stack[-1] if stack else None, len(stack)))
                    frame.pc = pc + 1
                    raise _invalid(byte, pc)
                cost, pops, max_before, handler, op = entry
                size = len(stack)
                if trace is not None:
                    trace(TraceStep(frame.msg.depth, pc, op.name, frame.gas,
                                    stack[-1] if stack else None, size))
                if size < pops or size > max_before:
                    raise _bounds_error(entry, size, pc)
                gas = frame.gas - cost
                frame.pc = pc + 1
                if gas < 0:
                    frame.gas = 0
                    raise OutOfGasError(f"out of gas at pc {pc}: {op.name} costs {cost}")
                frame.gas = gas
                signal = handler(frame)
                if signal is not None:
                    return signal
                if until_jump and byte in _JUMPS:
                    return None
        finally:
            self._steps_left = left
