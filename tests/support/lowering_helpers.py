"""Run one WAT function on wasmtime and, lowered, on the ZVM interpreter, over many
inputs at once: `run` copies the call data (cases of `nargs` u64 arguments), calls $f on
each case and returns the u64 results, so one call checks a whole batch."""

from __future__ import annotations

from dataclasses import dataclass

import wasmtime

from ghost_cli.abi import Abi, Function
from ghost_cli.exceptions import ExecutionError, RevertError
from ghost_cli.toolchain.lowering import lower
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm import encode_zvmc, metadata_json

ABI = Abi((Function("run", (), None),))
INPUT = 1024  # where the cases are copied
OUTPUT = 32768  # where the results go
MAX_CASES = 1500


def harness(func: str, nargs: int, extra: str = "", memory: str = "1") -> str:
    """A module around `func` (which must be `(func $f (param i64 ...) (result i64) ...)`)."""
    args = " ".join(f"(i64.load offset={8 * j} (local.get $p))" for j in range(nargs))
    return f"""
(module
  (import "ghost" "input_size" (func $input_size (result i32)))
  (import "ghost" "input_copy" (func $input_copy (param i32 i32 i32)))
  (import "ghost" "set_return" (func $set_return (param i32 i32)))
  (memory (export "memory") {memory})
  {extra}
  {func}
  (func (export "run") (local $n i32) (local $k i32) (local $p i32)
    (local.set $n (i32.div_u (call $input_size) (i32.const {8 * nargs})))
    (call $input_copy (i32.const {INPUT}) (i32.const 0) (call $input_size))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $p (i32.add (i32.const {INPUT})
                               (i32.mul (local.get $k) (i32.const {8 * nargs}))))
        (i64.store (i32.add (i32.const {OUTPUT}) (i32.shl (local.get $k) (i32.const 3)))
                   (call $f {args}))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (call $set_return (i32.const {OUTPUT}) (i32.shl (local.get $n) (i32.const 3)))))
"""


@dataclass(frozen=True)
class Pair:
    """The same module as WebAssembly and as ZVMC."""

    wasm: bytes
    zvmc: bytes


def build(wat: str, abi: Abi = ABI) -> Pair:
    wasm = wasmtime.wat2wasm(wat)
    code = lower(wasm, abi)
    return Pair(wasm, encode_zvmc(code, metadata_json({"abi": abi.to_json()})))


def ctx(data: bytes) -> CallContext:
    return CallContext(caller=bytes(range(1, 21)), address=bytes(range(101, 121)), input=data,
                       gas_limit=50_000_000, block_height=7, block_time=1_700_000_000,
                       chain_id=1337)


def outcome(engine, code: bytes, data: bytes, function: str = "run") -> tuple:
    """("ok", return data) | ("revert", reason) | ("trap",): engine-neutral."""
    try:
        result = engine.execute(code, function, ctx(data), lambda key: None)
    except RevertError as exc:
        return ("revert", exc.reason)
    except ExecutionError:
        return ("trap",)
    return ("ok", result.return_data)


def encode(cases: list[tuple[int, ...]]) -> bytes:
    return b"".join(v.to_bytes(8, "little") for case in cases for v in case)


def compare(engines, pair: Pair, cases: list[tuple[int, ...]]) -> None:
    """Every case gives the same result (or both trap) on the two engines."""
    wasm_engine, zvm_engine = engines
    for start in range(0, len(cases), MAX_CASES):
        batch = cases[start:start + MAX_CASES]
        data = encode(batch)
        expected = outcome(wasm_engine, pair.wasm, data)
        got = outcome(zvm_engine, pair.zvmc, data)
        if expected == got and expected[0] == "ok":
            continue
        if expected[0] == got[0] == "ok":
            for case, want, have in zip(batch, _words(expected[1]), _words(got[1]), strict=True):
                assert have == want, f"case {case}: zvm {have:#x}, wasm {want:#x}"
        # a trap hides the other cases of its batch: look at each one
        assert len(batch) <= 64, f"a batch of {len(batch)} cases failed as a whole: {expected}"
        for case in batch:  # find the case that differs
            one = encode([case])
            assert outcome(zvm_engine, pair.zvmc, one) == outcome(wasm_engine, pair.wasm, one), \
                f"case {case}"
        if expected != got:
            raise AssertionError(f"batch differs but no single case does: {expected} != {got}")


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]
