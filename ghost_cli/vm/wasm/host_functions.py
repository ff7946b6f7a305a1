"""Host ABI v1 served to WebAssembly: one small handler per row of vm/host_table.py.

`HostFunctions.define(linker)` loops over HOST_FUNCTIONS and defines every row once on
the engine's Linker, typed from the table. Each handler receives the current CallFrame
(found on the engine's frame stack) and the live Caller, which it uses only for the
duration of the call.

Every handler follows one order: bounds- and limit-check its arguments, charge its price,
then act, so a call that cannot pay has no effect. The bytes `n` priced by
`HOST_PRICES[name].cost(n)` are:

    storage_read    key + the value bytes copied out (at most out_cap)
    storage_write   key + value          storage_delete, storage_has   key
    input_copy      bytes copied         set_return, revert, debug_log  message/data
    emit_event      32 * topics + data   everything else               0

The crypto and state-proof rows are written once for both engines in vm/host_calls.py;
here they only get a `WasmAccess`, the frame's bounds-checked memory and fuel.
"""

from __future__ import annotations

from collections.abc import Callable

import wasmtime

from ghost_cli.exceptions import GhostError, RevertError, TrapError
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.host_calls import CALLS
from ghost_cli.vm.host_table import HOST_FUNCTIONS, HOST_MODULE, HostFunction
from ghost_cli.vm.types import Event

from .frame import CallFrame, FrameStack, u32

MAX_TOPICS = 4
TOPIC_BYTES = 32
ADDRESS_BYTES = 20

_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64}


def func_type(row: HostFunction) -> wasmtime.FuncType:
    return wasmtime.FuncType(
        [_VALTYPES[t]() for _, t in row.params], [_VALTYPES[t]() for t in row.results])


def _i64(value: int) -> int:
    """Context values are unsigned; wasm i64 results are passed signed."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _over(function: str, what: str, size: int, limit: int) -> TrapError:
    return TrapError(f"host call {function}: {what} of {size} bytes exceeds the {limit}-byte limit")


class WasmAccess:
    """vm/host_calls.py's view of one wasm host call: the frame's memory and fuel."""

    __slots__ = ("_caller", "_frame", "name")

    def __init__(self, frame: CallFrame, caller: wasmtime.Caller, name: str) -> None:
        self._frame, self._caller, self.name = frame, caller, name

    def read(self, ptr: int, length: int) -> bytes:
        return self._frame.read(self._caller, self.name, ptr, length)

    def reserve(self, ptr: int, length: int) -> None:
        self._frame.check(self._caller, self.name, ptr, length)

    def write(self, ptr: int, data: bytes) -> None:
        self._frame.write(self._caller, self.name, ptr, data)

    def charge(self, price: int) -> None:
        self._frame.charge(self.name, price)


def _shared(name: str) -> Callable[..., int | None]:
    call = CALLS[name]

    def handler(frame: CallFrame, caller: wasmtime.Caller, *args: int) -> int | None:
        return call(WasmAccess(frame, caller, name), *(u32(a) for a in args))

    handler.__name__ = name
    return handler


class HostFunctions:
    """The handlers. Holds no call state itself: that lives on the frame stack."""

    def __init__(self, frames: FrameStack) -> None:
        self._frames = frames

    def define(self, linker: wasmtime.Linker) -> None:
        for row in HOST_FUNCTIONS:
            handler = _shared(row.name) if row.name in CALLS else getattr(self, row.name)
            linker.define_func(
                HOST_MODULE, row.name, func_type(row), self._bind(handler), access_caller=True)

    def _bind(self, handler: Callable[..., int | None]) -> Callable[..., int | None]:
        frames = self._frames

        def call(caller: wasmtime.Caller, *args: int) -> int | None:
            frame = frames.current()
            try:
                return handler(frame, caller, *args)
            except GhostError as exc:
                frame.error = exc  # the engine raises exactly this, subclass and all
                raise

        return call

    # ---- storage -----------------------------------------------------------------------

    def _key(self, frame: CallFrame, caller: wasmtime.Caller, fn: str, ptr: int, n: int) -> bytes:
        n = u32(n)
        if n > frame.limits.max_key_bytes:
            raise _over(fn, "key", n, frame.limits.max_key_bytes)
        return frame.read(caller, fn, u32(ptr), n)

    def storage_read(self, frame: CallFrame, caller: wasmtime.Caller,
                     key_ptr: int, key_len: int, out_ptr: int, out_cap: int) -> int:
        key = self._key(frame, caller, "storage_read", key_ptr, key_len)
        out_ptr, out_cap = u32(out_ptr), u32(out_cap)
        frame.check(caller, "storage_read", out_ptr, out_cap)
        value = frame.storage_get(key)
        copied = b"" if value is None else value[:out_cap]
        frame.charge("storage_read", HOST_PRICES["storage_read"].cost(len(key) + len(copied)))
        if value is None:
            return -1
        frame.write(caller, "storage_read", out_ptr, copied)
        return len(value)

    def storage_write(self, frame: CallFrame, caller: wasmtime.Caller,
                      key_ptr: int, key_len: int, val_ptr: int, val_len: int) -> None:
        key = self._key(frame, caller, "storage_write", key_ptr, key_len)
        val_len = u32(val_len)
        if val_len > frame.limits.max_value_bytes:
            raise _over("storage_write", "value", val_len, frame.limits.max_value_bytes)
        value = frame.read(caller, "storage_write", u32(val_ptr), val_len)
        frame.charge("storage_write", HOST_PRICES["storage_write"].cost(len(key) + len(value)))
        frame.overlay[key] = value

    def storage_delete(self, frame: CallFrame, caller: wasmtime.Caller,
                       key_ptr: int, key_len: int) -> None:
        key = self._key(frame, caller, "storage_delete", key_ptr, key_len)
        frame.charge("storage_delete", HOST_PRICES["storage_delete"].cost(len(key)))
        frame.overlay[key] = None

    def storage_has(self, frame: CallFrame, caller: wasmtime.Caller,
                    key_ptr: int, key_len: int) -> int:
        key = self._key(frame, caller, "storage_has", key_ptr, key_len)
        frame.charge("storage_has", HOST_PRICES["storage_has"].cost(len(key)))
        return 0 if frame.storage_get(key) is None else 1

    # ---- call data and result ----------------------------------------------------------

    def input_size(self, frame: CallFrame, caller: wasmtime.Caller) -> int:
        frame.charge("input_size", HOST_PRICES["input_size"].cost())
        return len(frame.ctx.input)

    def input_copy(self, frame: CallFrame, caller: wasmtime.Caller,
                   out_ptr: int, offset: int, length: int) -> None:
        out_ptr, offset, length = u32(out_ptr), u32(offset), u32(length)
        size = len(frame.ctx.input)
        if offset + length > size:
            raise TrapError(
                f"host call input_copy: offset {offset} + len {length} past the end of the "
                f"call data ({size} bytes)")
        frame.check(caller, "input_copy", out_ptr, length)
        frame.charge("input_copy", HOST_PRICES["input_copy"].cost(length))
        frame.write(caller, "input_copy", out_ptr, frame.ctx.input[offset:offset + length])

    def set_return(self, frame: CallFrame, caller: wasmtime.Caller, ptr: int, length: int) -> None:
        length = u32(length)
        if length > frame.limits.max_return_bytes:
            raise _over("set_return", "return data", length, frame.limits.max_return_bytes)
        data = frame.read(caller, "set_return", u32(ptr), length)
        frame.charge("set_return", HOST_PRICES["set_return"].cost(length))
        frame.return_data = data

    def revert(self, frame: CallFrame, caller: wasmtime.Caller, msg_ptr: int, msg_len: int) -> None:
        msg_len = u32(msg_len)
        if msg_len > frame.limits.max_return_bytes:
            raise _over("revert", "reason", msg_len, frame.limits.max_return_bytes)
        msg = frame.read(caller, "revert", u32(msg_ptr), msg_len)
        frame.charge("revert", HOST_PRICES["revert"].cost(msg_len))
        raise RevertError(msg.decode("utf-8", errors="replace"))

    # ---- events and logs ---------------------------------------------------------------

    def emit_event(self, frame: CallFrame, caller: wasmtime.Caller,
                   topics_ptr: int, topic_count: int, data_ptr: int, data_len: int) -> None:
        topic_count, data_len = u32(topic_count), u32(data_len)
        if topic_count > MAX_TOPICS:
            raise TrapError(
                f"host call emit_event: {topic_count} topics, at most {MAX_TOPICS} allowed")
        if data_len > frame.limits.max_event_data_bytes:
            raise _over("emit_event", "event data", data_len, frame.limits.max_event_data_bytes)
        raw = frame.read(caller, "emit_event", u32(topics_ptr), topic_count * TOPIC_BYTES)
        data = frame.read(caller, "emit_event", u32(data_ptr), data_len)
        frame.charge("emit_event", HOST_PRICES["emit_event"].cost(len(raw) + data_len))
        topics = tuple(raw[i:i + TOPIC_BYTES] for i in range(0, len(raw), TOPIC_BYTES))
        frame.events.append(Event(frame.ctx.address, topics, data))

    def debug_log(self, frame: CallFrame, caller: wasmtime.Caller,
                  msg_ptr: int, msg_len: int) -> None:
        msg_len = u32(msg_len)
        msg = frame.read(caller, "debug_log", u32(msg_ptr), msg_len)
        frame.charge("debug_log", HOST_PRICES["debug_log"].cost(msg_len))
        frame.logs.append(msg.decode("utf-8", errors="replace"))

    # ---- context -----------------------------------------------------------------------

    def _address(self, frame: CallFrame, caller: wasmtime.Caller, fn: str, out_ptr: int,
                 address: bytes) -> None:
        frame.check(caller, fn, u32(out_ptr), ADDRESS_BYTES)
        frame.charge(fn, HOST_PRICES[fn].cost())
        frame.write(caller, fn, u32(out_ptr), address[:ADDRESS_BYTES].ljust(ADDRESS_BYTES, b"\0"))

    def caller(self, frame: CallFrame, caller: wasmtime.Caller, out_ptr: int) -> None:
        self._address(frame, caller, "caller", out_ptr, frame.ctx.caller)

    def self_address(self, frame: CallFrame, caller: wasmtime.Caller, out_ptr: int) -> None:
        self._address(frame, caller, "self_address", out_ptr, frame.ctx.address)

    def block_height(self, frame: CallFrame, caller: wasmtime.Caller) -> int:
        frame.charge("block_height", HOST_PRICES["block_height"].cost())
        return _i64(frame.ctx.block_height)

    def block_time(self, frame: CallFrame, caller: wasmtime.Caller) -> int:
        frame.charge("block_time", HOST_PRICES["block_time"].cost())
        return _i64(frame.ctx.block_time)

    def chain_id(self, frame: CallFrame, caller: wasmtime.Caller) -> int:
        frame.charge("chain_id", HOST_PRICES["chain_id"].cost())
        return _i64(frame.ctx.chain_id)

    def gas_left(self, frame: CallFrame, caller: wasmtime.Caller) -> int:
        frame.charge("gas_left", HOST_PRICES["gas_left"].cost())
        return max(0, frame.gas_left())
