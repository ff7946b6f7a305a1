"""HOSTCALL (0xD0, ghost extension): Host ABI v1 served to ZVM bytecode.

The 1-byte immediate indexes HOST_FUNCTIONS (vm/host_table.py). The function's
parameters are popped first-parameter-first (the first is the top of the stack), each a
word holding an unsigned integer: pointers and lengths are byte offsets and lengths into
ZVM memory, and touching memory is charged as memory expansion. A result, if any, is
pushed as an unsigned integer: i32 as its 32-bit two's complement (-1 → 0xFFFFFFFF), i64
as 64-bit. The rows themselves are the very code the WebAssembly engine runs
(vm/host_calls.py: same checks, byte counting, limits and prices), given a `ZvmAccess`:
memory reads and writes expand (and charge) ZVM memory as any other access does, storage
goes through the journaled state, and input_* read the arguments (call data after the
selector).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from ghost_cli.exceptions import (
    InvalidOpcodeError,
    PanicError,
    StackOverflowError,
    StackUnderflowError,
    TruncatedImmediateError,
)
from ghost_cli.vm.host_calls import CALLS, call_traced
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.types import Event, Limits

from ..interpreter import Frame
from ..opcodes import STACK_LIMIT
from .storage import require_writable

#: How much of a panicking frame's memory (from address 0) is kept for its backtrace.
PANIC_MEMORY_BYTES = 256 * 1024
_RESULT_MASK = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF}


class ZvmAccess:
    """vm/host_calls.py's view of one HOSTCALL: the frame's memory, gas and state."""

    __slots__ = ("_f", "name")

    def __init__(self, f: Frame, name: str) -> None:
        self._f, self.name = f, name

    def read(self, ptr: int, length: int) -> bytes:
        return self._f.mread(ptr, length)

    def reserve(self, ptr: int, length: int) -> None:
        self._f.expand(ptr, length)

    def write(self, ptr: int, data: bytes) -> None:
        self._f.mwrite(ptr, data)

    def charge(self, price: int) -> None:
        self._f.charge(price)

    # ---- context and state -------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self._f.tx.limits

    @property
    def input(self) -> bytes:
        return self._f.arguments

    @property
    def caller_address(self) -> bytes:
        return self._f.msg.caller

    @property
    def self_address(self) -> bytes:
        return self._f.msg.address

    @property
    def block_height(self) -> int:
        return self._f.tx.block_height

    @property
    def block_time(self) -> int:
        return self._f.tx.block_time

    @property
    def chain_id(self) -> int:
        return self._f.tx.chain_id

    def gas_left(self) -> int:
        return self._f.gas

    def require_writable(self) -> None:
        require_writable(self._f, f"host call {self.name}")

    def storage_get(self, key: bytes) -> bytes | None:
        return self._f.state.get(self._f.msg.address, key)

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        self._f.state.set(self._f.msg.address, key, value)

    def emit(self, event: Event) -> None:
        self._f.state.events.append(event)

    def log(self, message: str) -> None:
        self._f.state.logs.append(message)

    def set_return(self, data: bytes) -> None:
        self._f.output = data

    def set_revert(self, data: bytes) -> None:
        self._f.output = data  # a reverted frame returns its reason as REVERT data

    def panic(self, message: str) -> None:
        """Stop here: the pc of this HOSTCALL locates the panic (toolchain/debuginfo.py)."""
        error = PanicError(f"panic: {message}", panic=message, pc=self._f.pc_of_op(),
                           logs=list(self._f.state.logs))
        # The frames of lowered code sit at the bottom of memory: kept (not sent anywhere)
        # so the backtrace can be read from their return addresses.
        error.zvm_memory = bytes(self._f.memory[:PANIC_MEMORY_BYTES])  # type: ignore[attr-defined]
        raise error


def _service(name: str) -> Callable[..., int | None]:
    call = CALLS[name]

    def service(f: Frame, *args: int) -> int | None:
        tracer = f.tx.host_tracer
        if tracer is None:
            return call(ZvmAccess(f, name), *args)
        return call_traced(tracer, call, ZvmAccess(f, name), *args)

    service.__name__ = name
    return service


_SERVICES: MappingProxyType[str, Callable[..., int | None]] = MappingProxyType(
    {name: _service(name) for name in CALLS})
#: (service, parameter count, result mask or None) by HOSTCALL index.
_BY_INDEX: tuple[tuple[Callable[..., int | None], int, int | None], ...] = tuple(
    (_SERVICES[row.name], len(row.params), _RESULT_MASK[row.results[0]] if row.results else None)
    for row in HOST_FUNCTIONS)


def hostcall(f: Frame) -> None:
    at = f.pc  # the immediate byte
    if at >= len(f.code):
        raise TruncatedImmediateError(
            f"truncated HOSTCALL at pc {at - 1}: its 1-byte host function index is missing")
    index = f.code[at]
    if index >= len(_BY_INDEX):
        raise InvalidOpcodeError(
            f"HOSTCALL at pc {at - 1}: no host function {index} "
            f"(Host ABI v1 has {len(_BY_INDEX)})")
    service, nparams, mask = _BY_INDEX[index]
    s = f.stack
    if len(s) < nparams:
        raise StackUnderflowError(
            f"stack underflow at pc {at - 1}: HOSTCALL {HOST_FUNCTIONS[index].name} needs "
            f"{nparams} items, stack has {len(s)}")
    if mask is not None and len(s) - nparams + 1 > STACK_LIMIT:
        raise StackOverflowError(
            f"stack overflow at pc {at - 1}: HOSTCALL would grow the stack past {STACK_LIMIT}")
    args = [s.pop() for _ in range(nparams)]
    # pc stays on the immediate while the service runs, so the errors it raises (out of
    # gas, static violation, panic) name this HOSTCALL's pc (Frame.pc_of_op)
    result = service(f, *args)
    f.pc = at + 1
    if mask is not None:
        s.append(result & mask)
