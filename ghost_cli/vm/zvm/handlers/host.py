"""HOSTCALL (0xD0, ghost extension): Host ABI v1 served to ZVM bytecode.

The 1-byte immediate indexes HOST_FUNCTIONS (vm/host_table.py). The function's
parameters are popped first-parameter-first (the first is the top of the stack), each a
word holding an unsigned integer: pointers and lengths are byte offsets and lengths into
ZVM memory, and touching memory is charged as memory expansion. A result, if any, is
pushed as an unsigned integer: i32 as its 32-bit two's complement (-1 → 0xFFFFFFFF), i64
as 64-bit. Prices, byte counting and limits are the WebAssembly engine's
(vm/wasm/host_functions.py), so one contract costs the same on both engines:

    storage_read    key + the value bytes copied out (at most out_cap)
    storage_write   key + value          storage_delete, storage_has   key
    input_copy      bytes copied         set_return, revert, debug_log  message/data
    emit_event      32 * topics + data   everything else               0

Every service checks its limits, expands memory, pays its price, then acts, so a call that
cannot pay has no effect. input_* read the arguments (call data after the selector).

The crypto and state-proof rows are the very code the WebAssembly engine runs
(vm/host_calls.py), given a `ZvmAccess`: memory reads and writes expand (and charge) ZVM
memory as any other access does.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from ghost_cli.exceptions import (
    InvalidOpcodeError,
    RevertError,
    StackOverflowError,
    StackUnderflowError,
    TrapError,
    TruncatedImmediateError,
)
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.host_calls import CALLS
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.types import Event

from ..interpreter import Frame
from ..opcodes import STACK_LIMIT
from .storage import require_writable

MAX_TOPICS = 4
TOPIC_BYTES = 32
ADDRESS_BYTES = 20
_RESULT_MASK = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF}


def _over(function: str, what: str, size: int, limit: int) -> TrapError:
    return TrapError(f"host call {function}: {what} of {size} bytes exceeds the {limit}-byte limit")


def _key(f: Frame, fn: str, ptr: int, n: int) -> bytes:
    if n > f.tx.limits.max_key_bytes:
        raise _over(fn, "key", n, f.tx.limits.max_key_bytes)
    return f.mread(ptr, n)


# ---- storage ----------------------------------------------------------------------------


def storage_read(f: Frame, key_ptr: int, key_len: int, out_ptr: int, out_cap: int) -> int:
    key = _key(f, "storage_read", key_ptr, key_len)
    f.expand(out_ptr, out_cap)
    value = f.state.get(f.msg.address, key)
    copied = b"" if value is None else value[:out_cap]
    f.charge(HOST_PRICES["storage_read"].cost(len(key) + len(copied)))
    if value is None:
        return -1
    f.mwrite(out_ptr, copied)
    return len(value)


def storage_write(f: Frame, key_ptr: int, key_len: int, val_ptr: int, val_len: int) -> None:
    require_writable(f, "host call storage_write")
    key = _key(f, "storage_write", key_ptr, key_len)
    if val_len > f.tx.limits.max_value_bytes:
        raise _over("storage_write", "value", val_len, f.tx.limits.max_value_bytes)
    value = f.mread(val_ptr, val_len)
    f.charge(HOST_PRICES["storage_write"].cost(len(key) + len(value)))
    f.state.set(f.msg.address, key, value)


def storage_delete(f: Frame, key_ptr: int, key_len: int) -> None:
    require_writable(f, "host call storage_delete")
    key = _key(f, "storage_delete", key_ptr, key_len)
    f.charge(HOST_PRICES["storage_delete"].cost(len(key)))
    f.state.set(f.msg.address, key, None)


def storage_has(f: Frame, key_ptr: int, key_len: int) -> int:
    key = _key(f, "storage_has", key_ptr, key_len)
    f.charge(HOST_PRICES["storage_has"].cost(len(key)))
    return 0 if f.state.get(f.msg.address, key) is None else 1


# ---- call data and result ---------------------------------------------------------------


def input_size(f: Frame) -> int:
    f.charge(HOST_PRICES["input_size"].cost())
    return len(f.arguments)


def input_copy(f: Frame, out_ptr: int, offset: int, length: int) -> None:
    args = f.arguments
    if offset + length > len(args):
        raise TrapError(
            f"host call input_copy: offset {offset} + len {length} past the end of the "
            f"call data ({len(args)} bytes)")
    f.expand(out_ptr, length)
    f.charge(HOST_PRICES["input_copy"].cost(length))
    f.mwrite(out_ptr, args[offset:offset + length])


def set_return(f: Frame, ptr: int, length: int) -> None:
    if length > f.tx.limits.max_return_bytes:
        raise _over("set_return", "return data", length, f.tx.limits.max_return_bytes)
    data = f.mread(ptr, length)
    f.charge(HOST_PRICES["set_return"].cost(length))
    f.output = data


def revert(f: Frame, msg_ptr: int, msg_len: int) -> None:
    if msg_len > f.tx.limits.max_return_bytes:
        raise _over("revert", "reason", msg_len, f.tx.limits.max_return_bytes)
    msg = f.mread(msg_ptr, msg_len)
    f.charge(HOST_PRICES["revert"].cost(msg_len))
    f.output = msg
    raise RevertError(msg.decode("utf-8", errors="replace"))


# ---- events and logs --------------------------------------------------------------------


def emit_event(f: Frame, topics_ptr: int, topic_count: int, data_ptr: int,
               data_len: int) -> None:
    require_writable(f, "host call emit_event")
    if topic_count > MAX_TOPICS:
        raise TrapError(
            f"host call emit_event: {topic_count} topics, at most {MAX_TOPICS} allowed")
    if data_len > f.tx.limits.max_event_data_bytes:
        raise _over("emit_event", "event data", data_len, f.tx.limits.max_event_data_bytes)
    raw = f.mread(topics_ptr, topic_count * TOPIC_BYTES)
    data = f.mread(data_ptr, data_len)
    f.charge(HOST_PRICES["emit_event"].cost(len(raw) + data_len))
    topics = tuple(raw[i:i + TOPIC_BYTES] for i in range(0, len(raw), TOPIC_BYTES))
    f.state.events.append(Event(f.msg.address, topics, data))


def debug_log(f: Frame, msg_ptr: int, msg_len: int) -> None:
    msg = f.mread(msg_ptr, msg_len)
    f.charge(HOST_PRICES["debug_log"].cost(msg_len))
    f.state.logs.append(msg.decode("utf-8", errors="replace"))


# ---- context ----------------------------------------------------------------------------


def _address(f: Frame, fn: str, out_ptr: int, address: bytes) -> None:
    f.expand(out_ptr, ADDRESS_BYTES)
    f.charge(HOST_PRICES[fn].cost())
    f.mwrite(out_ptr, address[:ADDRESS_BYTES].ljust(ADDRESS_BYTES, b"\0"))


def caller(f: Frame, out_ptr: int) -> None:
    _address(f, "caller", out_ptr, f.msg.caller)


def self_address(f: Frame, out_ptr: int) -> None:
    _address(f, "self_address", out_ptr, f.msg.address)


def block_height(f: Frame) -> int:
    f.charge(HOST_PRICES["block_height"].cost())
    return f.tx.block_height


def block_time(f: Frame) -> int:
    f.charge(HOST_PRICES["block_time"].cost())
    return f.tx.block_time


def chain_id(f: Frame) -> int:
    f.charge(HOST_PRICES["chain_id"].cost())
    return f.tx.chain_id


def gas_left(f: Frame) -> int:
    f.charge(HOST_PRICES["gas_left"].cost())
    return max(0, f.gas)


class ZvmAccess:
    """vm/host_calls.py's view of one HOSTCALL: the frame's memory and gas."""

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


def _shared(name: str) -> Callable[..., int | None]:
    call = CALLS[name]

    def service(f: Frame, *args: int) -> int | None:
        return call(ZvmAccess(f, name), *args)

    service.__name__ = name
    return service


_SERVICES: MappingProxyType[str, Callable[..., int | None]] = MappingProxyType({
    "storage_read": storage_read, "storage_write": storage_write,
    "storage_delete": storage_delete, "storage_has": storage_has,
    "input_size": input_size, "input_copy": input_copy, "set_return": set_return,
    "revert": revert, "emit_event": emit_event, "caller": caller,
    "self_address": self_address, "block_height": block_height, "block_time": block_time,
    "chain_id": chain_id, "gas_left": gas_left, "debug_log": debug_log,
    **{name: _shared(name) for name in CALLS},
})
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
    f.pc = at + 1
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
    result = service(f, *args)
    if mask is not None:
        s.append(result & mask)
