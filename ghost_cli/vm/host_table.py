"""Host ABI v1 as data: every service a contract can ask of the host.

One row per function. The WebAssembly engine exposes each row as an import from the
module named `ghost`; the ZVM engine maps the rows that have an opcode to it. Gas for a
call is `gas.base + gas.per_byte * bytes moved` (see vm/gas.py). docs/host-abi.md is
written from this table; a test keeps the two in step.

Pointers (`ptr`) are byte offsets into the contract's linear memory; every pointer and
length is bounds-checked before the host touches memory.
"""

from __future__ import annotations

from dataclasses import dataclass

HOST_MODULE = "ghost"
ABI_VERSION = 1


@dataclass(frozen=True)
class HostFunction:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, wasm type)
    results: tuple[str, ...]  # wasm types
    doc: str
    zvm_opcode: int | None = None  # the ZVM opcode serving the same purpose, if any


def _p(*pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.split(":")[0], p.split(":")[1]) for p in pairs)


HOST_FUNCTIONS: tuple[HostFunction, ...] = (
    HostFunction(
        "storage_read", _p("key_ptr:i32", "key_len:i32", "out_ptr:i32", "out_cap:i32"), ("i32",),
        "Copy up to out_cap bytes of the value stored under key to out; return the value's full "
        "length, or -1 when the key is absent.", 0x90),
    HostFunction(
        "storage_write", _p("key_ptr:i32", "key_len:i32", "val_ptr:i32", "val_len:i32"), (),
        "Store val under key, replacing any earlier value.", 0x91),
    HostFunction(
        "storage_delete", _p("key_ptr:i32", "key_len:i32"), (),
        "Remove key; removing an absent key is not an error."),
    HostFunction(
        "storage_has", _p("key_ptr:i32", "key_len:i32"), ("i32",),
        "1 when key is present, else 0."),
    HostFunction(
        "input_size", (), ("i32",),
        "Length of the call data.", 0xB6),
    HostFunction(
        "input_copy", _p("out_ptr:i32", "offset:i32", "len:i32"), (),
        "Copy len bytes of call data starting at offset to out; reading past the end is an "
        "error.", 0xB7),
    HostFunction(
        "set_return", _p("ptr:i32", "len:i32"), (),
        "Set the call's return data (the last call wins).", 0xA8),
    HostFunction(
        "revert", _p("msg_ptr:i32", "msg_len:i32"), (),
        "Abort the call with a UTF-8 reason; every state change and event is undone. Does not "
        "return.", 0xA9),
    HostFunction(
        "emit_event", _p("topics_ptr:i32", "topic_count:i32", "data_ptr:i32", "data_len:i32"), (),
        "Emit an event with topic_count 32-byte topics (at most 4; the SDK puts the event name "
        "in topic 0) and data. Kept only if the call succeeds.", 0xF8),
    HostFunction(
        "caller", _p("out_ptr:i32"), (),
        "Write the 20-byte address of the account that made this call.", 0xB3),
    HostFunction(
        "self_address", _p("out_ptr:i32"), (),
        "Write the contract's own 20-byte address.", 0xB0),
    HostFunction(
        "block_height", (), ("i64",),
        "Height of the block this call executes in.", 0xC3),
    HostFunction(
        "block_time", (), ("i64",),
        "Timestamp of that block, Unix seconds.", 0xC2),
    HostFunction(
        "chain_id", (), ("i64",),
        "The chain id of the network.", 0xC7),
    HostFunction(
        "gas_left", (), ("i64",),
        "Gas remaining for this call, after this function's own price."),
    HostFunction(
        "debug_log", _p("msg_ptr:i32", "msg_len:i32"), (),
        "Record a debug message in the receipt's logs (never affects state)."),
)

BY_NAME: dict[str, HostFunction] = {f.name: f for f in HOST_FUNCTIONS}
