"""Helpers shared by the engine tests: WAT modules over the whole host ABI, call contexts,
and a dict-backed chain that applies a call's writes the way the executor does."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from ghost_cli.vm.host_table import HOST_FUNCTIONS, HostFunction
from ghost_cli.vm.types import CallContext, Outcome
from ghost_cli.vm.wasm import WasmEngine

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "templates" / "sdk" / "ghost.zig"

CALLER = bytes(range(1, 21))
ADDRESS = bytes(range(101, 121))

# The counter contract, written against the SDK as a project would import it.
COUNTER_ZIG = """\
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Add one to the counter and return the new value.
pub fn increment() u64 {
    const v = ghost.storage.get(u64, "count") + 1;
    ghost.storage.set(u64, "count", v);
    ghost.emit("Incremented", &.{ghost.topic(ghost.caller())}, "");
    return v;
}

pub fn add(n: u64) !u64 {
    const v = ghost.storage.get(u64, "count");
    const r = @addWithOverflow(v, n);
    if (r[1] != 0) return error.Overflow;
    ghost.storage.set(u64, "count", r[0]);
    return r[0];
}

pub fn get() u64 {
    return ghost.storage.get(u64, "count");
}

pub fn greet(name: []const u8) []const u8 {
    return name;
}
"""


def _import_line(row: HostFunction) -> str:
    params = " ".join(t for _, t in row.params)
    results = " ".join(row.results)
    sig = (f" (param {params})" if params else "") + (f" (result {results})" if results else "")
    return f'  (import "ghost" "{row.name}" (func ${row.name}{sig}))'


#: Every host function imported under its own name, for WAT modules to call.
HOST_IMPORTS = "\n".join(_import_line(row) for row in HOST_FUNCTIONS)


def wat_module(body: str, *, memory: str = '(memory (export "memory") 1)') -> bytes:
    """A binary module importing the whole host ABI, with one page of memory and `body`."""
    return wasmtime.wat2wasm(f"(module\n{HOST_IMPORTS}\n  {memory}\n{body}\n)")


def make_ctx(data: bytes = b"", gas: int = 1_000_000, **extra: int) -> CallContext:
    return CallContext(caller=CALLER, address=ADDRESS, input=data, gas_limit=gas, **extra)


class Chain:
    """What an executor does between calls: apply a successful call's writes to state."""

    def __init__(self, engine: WasmEngine, code: bytes) -> None:
        self.engine = engine
        self.code = code
        self.state: dict[bytes, bytes] = {}

    def call(self, function: str, data: bytes = b"", gas: int = 1_000_000) -> Outcome:
        outcome = self.engine.execute(self.code, function, make_ctx(data, gas), self.state.get)
        for key, value in outcome.writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        return outcome
