"""Hostile and broken modules: every way out of the sandbox ends in a typed error."""

from __future__ import annotations

import time

import pytest
from wasm_helpers import make_ctx, wat_module

from ghost_cli.exceptions import (
    ExecutionError,
    HostMemoryError,
    InvalidModuleError,
    MemoryLimitError,
    OutOfGasError,
    PanicError,
    RevertError,
    StackOverflowError,
    StateError,
    TimeoutError_,
    TrapError,
)
from ghost_cli.vm.types import Limits
from ghost_cli.vm.wasm import WasmEngine

SPIN = '(func (export "spin") (loop $l (br $l)))'


def test_infinite_loop_runs_out_of_gas(engine: WasmEngine) -> None:
    with pytest.raises(OutOfGasError) as info:
        engine.execute(wat_module(SPIN), "spin", make_ctx(gas=50_000), {}.get)
    assert info.value.gas_used == 50_000
    assert info.value.message == "out of gas: used 50000 of limit 50000"


# Straight-line code between wasmtime's fuel checks, inside a loop, around a host call.
WORK = """
  (func (export "straight") (local i32)
    (local.set 0 (i32.const 1))
    {adds})
  (func (export "looped") (local i32)
    (loop $l
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const 300)))))
  (func (export "hosted") (local i32)
    {adds}
    (drop (call $block_height))
    {adds})""".format(adds="(local.set 0 (i32.add (local.get 0) (i32.const 1)))" * 40)


@pytest.mark.parametrize("function", ["straight", "looped", "hosted"])
def test_the_gas_used_is_exactly_the_least_limit_that_succeeds(
        engine: WasmEngine, function: str) -> None:
    code = wat_module(WORK)
    used = engine.execute(code, function, make_ctx(gas=1_000_000), {}.get).gas_used
    assert used > 100
    assert engine.execute(code, function, make_ctx(gas=used), {}.get).gas_used == used
    for short in (used - 1, used - 2, used // 2):
        with pytest.raises(OutOfGasError) as info:
            engine.execute(code, function, make_ctx(gas=short), {}.get)
        assert info.value.gas_used == short


def test_zero_gas_runs_nothing(engine: WasmEngine) -> None:
    with pytest.raises(OutOfGasError) as info:
        engine.execute(wat_module(SPIN), "spin", make_ctx(gas=0), {}.get)
    assert info.value.gas_used == 0


def test_memory_bomb_hits_the_memory_limit(engine: WasmEngine) -> None:
    # Grow a page at a time; when the host refuses, trap the way Zig does after a failed
    # allocation.
    bomb = wat_module("""
      (func (export "bomb")
        (loop $l
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $l)))""")
    with pytest.raises(MemoryLimitError) as info:
        engine.execute(bomb, "bomb", make_ctx(gas=10_000_000), {}.get)
    assert info.value.message == "memory limit of 16 MiB exceeded"
    assert info.value.gas_used == 10_000_000  # a trap burns the whole limit


def test_deep_recursion_overflows_the_stack(engine: WasmEngine) -> None:
    deep = wat_module('(func $down (export "down") (call $down))')
    with pytest.raises(StackOverflowError, match="stack overflow") as info:
        engine.execute(deep, "down", make_ctx(gas=100_000_000), {}.get)
    assert info.value.gas_used == 100_000_000
    # the frame that overflowed on entry has no offset: None, not wasmtime's 2**64 - 1
    (first, offset), *callers = info.value.details["frames"]
    assert offset is None and callers and all(o is not None for _, o in callers)


def test_wall_clock_backstop_stops_a_loop_with_huge_gas() -> None:
    quick = WasmEngine(Limits(timeout_seconds=0.2))
    code = wat_module(SPIN)
    quick.validate(code)  # compile outside the timed part
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match="0.2s wall-clock") as info:
        quick.execute(code, "spin", make_ctx(gas=10**15), {}.get)
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 2.0
    assert info.value.gas_used == 10**15
    # The engine stays usable: a short call afterwards is not interrupted.
    ok = wat_module('(func (export "ok"))')
    assert quick.execute(ok, "ok", make_ctx(), {}.get).return_data == b""
    quick.close()


def test_pointer_outside_memory_is_a_host_memory_error(engine: WasmEngine) -> None:
    code = wat_module("""
      (func (export "poke")
        (call $storage_write (i32.const 0) (i32.const 4) (i32.const 0xfffc) (i32.const 8)))""")
    with pytest.raises(HostMemoryError) as info:
        engine.execute(code, "poke", make_ctx(), {}.get)
    assert info.value.message == (
        "host call storage_write: pointer 0xfffc + len 8 outside memory (65536 bytes)")


def test_negative_length_is_huge_and_out_of_bounds(engine: WasmEngine) -> None:
    code = wat_module("""
      (func (export "poke") (call $debug_log (i32.const 16) (i32.const -1)))""")
    with pytest.raises(HostMemoryError, match="pointer 0x10 \\+ len 4294967295"):
        engine.execute(code, "poke", make_ctx(), {}.get)


def test_revert_keeps_nothing(engine: WasmEngine) -> None:
    code = wat_module("""
      (data (i32.const 0) "keyvalueno, and caf\\c3\\a9 \\ff")
      (func (export "write_then_revert")
        (call $storage_write (i32.const 0) (i32.const 3) (i32.const 3) (i32.const 5))
        (call $debug_log (i32.const 0) (i32.const 3))
        (call $revert (i32.const 8) (i32.const 15)))""")
    state = {b"key": b"before"}
    with pytest.raises(RevertError) as info:
        engine.execute(code, "write_then_revert", make_ctx(), state.get)
    # Invalid UTF-8 in the reason is replaced, never an error of its own.
    assert info.value.reason == "no, and café \ufffd"
    assert info.value.gas_used > 0
    assert state == {b"key": b"before"}


@pytest.mark.parametrize(("body", "fragment"), [
    ("unreachable", "unreachable"),
    ("(drop (i32.div_u (i32.const 1) (i32.const 0)))", "integer divide by zero"),
    ("(drop (i32.load (i32.const 0x7ffffff0)))", "out of bounds memory access"),
])
def test_other_traps_carry_wasmtime_message(engine: WasmEngine, body: str, fragment: str) -> None:
    code = wat_module(f'(func (export "f") {body})')
    with pytest.raises(TrapError) as info:
        engine.execute(code, "f", make_ctx(), {}.get)
    assert fragment in info.value.message
    assert "\n" not in info.value.message
    assert info.value.gas_used == 1_000_000


def test_host_error_subclass_is_preserved(engine: WasmEngine) -> None:
    class Exploded(ExecutionError):
        code = "exploded"

    boom = Exploded("storage exploded")

    def storage(key: bytes) -> bytes | None:
        raise boom

    code = wat_module("""
      (func (export "read")
        (drop (call $storage_has (i32.const 0) (i32.const 4))))""")
    with pytest.raises(Exploded) as info:
        engine.execute(code, "read", make_ctx(), storage)
    assert info.value is boom
    assert info.value.gas_used > 0


def test_state_errors_from_the_reader_pass_through(engine: WasmEngine) -> None:
    def storage(key: bytes) -> bytes | None:
        raise StateError("database is locked")

    code = wat_module("""
      (func (export "read")
        (drop (call $storage_read (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0))))""")
    with pytest.raises(StateError, match="database is locked"):
        engine.execute(code, "read", make_ctx(), storage)


def test_instantiation_beyond_the_table_limit_is_refused() -> None:
    small = WasmEngine(Limits(max_table_elements=10))
    code = wat_module('(table 100 funcref) (func (export "f"))')
    # Refused when compiled, before any call: no instance slot of the engine fits it.
    with pytest.raises(InvalidModuleError, match="table index 0 has a minimum element size "
                       "of 100 which exceeds the limit of 10"):
        small.execute(code, "f", make_ctx(), {}.get)


def test_a_module_too_big_for_an_instance_slot_is_refused_at_deploy() -> None:
    # 70,000 mutable globals: over a megabyte of instance state for one call, refused by
    # the globals limit before wasmtime sees it (which would say it does not fit a slot).
    engine = WasmEngine()
    code = wat_module("".join(f"(global (mut i64) (i64.const {i}))" for i in range(70_000))
                      + '(func (export "f"))')
    with pytest.raises(InvalidModuleError, match="^invalid WebAssembly module: it defines "
                       "70000 globals, at most 1024 allowed"):
        engine.validate(code)


# A panic's message, then code that should never run: a normal return, or a spin.
AFTER_PANIC = """
  (data (i32.const 0) "oops")
  (func (export "returns") (call $panic (i32.const 0) (i32.const 4)))
  (func (export "spins") (call $panic (i32.const 0) (i32.const 4))
    (call $debug_log (i32.const 0) (i32.const 4)) (loop $l (br $l)))"""


@pytest.mark.parametrize("function", ["returns", "spins"])
def test_a_panic_stops_the_call_at_once(engine: WasmEngine, function: str) -> None:
    """As HOSTCALL panic does on ZVM: a contract cannot panic and then return normally,
    nor spin to its gas limit (or the backstop) and pay only for the panic."""
    with pytest.raises(PanicError) as info:
        engine.execute(wat_module(AFTER_PANIC), function, make_ctx(gas=10_000_000), {}.get)
    assert info.value.details["panic"] == "oops"
    assert info.value.details["logs"] == []  # nothing after the panic ran
    assert info.value.gas_used < 20_000  # the host call's price, not the limit
    assert info.value.details["frames"]  # located like a trap's


def test_memory_a_call_grows_is_paid_per_page(engine: WasmEngine) -> None:
    """docs/host-abi.md, "Pricing": MEMORY_PAGE per page grown, charged as the call
    returns; the pages a module starts with beyond FREE_MEMORY_PAGES cost the same,
    charged before it runs."""
    from ghost_cli.vm.gas import FREE_MEMORY_PAGES, MEMORY_PAGE

    grow = '(func (export "grow") (drop (memory.grow (i32.const {n}))))'
    used = [engine.execute(wat_module(grow.format(n=n)), "grow", make_ctx(gas=10**7),
                           {}.get).gas_used for n in (0, 1, 10)]
    # (plus wasmtime's own fuel for memory.grow: 1 a page)
    assert used[1] - used[0] == MEMORY_PAGE + 1 and used[2] - used[0] == 10 * MEMORY_PAGE + 10

    def starting_with(pages: int) -> int:
        module = wat_module(grow.format(n=0), memory=f'(memory (export "memory") {pages})')
        return engine.execute(module, "grow", make_ctx(gas=10**7), {}.get).gas_used

    assert starting_with(FREE_MEMORY_PAGES) == used[0]
    assert starting_with(40) == used[0] + (40 - FREE_MEMORY_PAGES) * MEMORY_PAGE
    assert starting_with(256) == used[0] + (256 - FREE_MEMORY_PAGES) * MEMORY_PAGE
    with pytest.raises(OutOfGasError) as info:  # the limit does not cover its memory
        engine.execute(wat_module(grow.format(n=0), memory='(memory (export "memory") 256)'),
                       "grow", make_ctx(gas=1_000_000), {}.get)
    assert info.value.gas_used == 1_000_000
    with pytest.raises(OutOfGasError) as info:  # it could not pay for what it grew
        engine.execute(wat_module(grow.format(n=10)), "grow",
                       make_ctx(gas=used[2] - 1), {}.get)
    assert info.value.gas_used == used[2] - 1


@pytest.mark.parametrize("fail", [
    "(call $revert (i32.const 0) (i32.const 0))",
    "(call $panic (i32.const 0) (i32.const 0))",
    "(call $set_return (i32.const -1) (i32.const 8))",  # out of bounds: HostMemoryError
])  # (a wasm trap such as `unreachable` is charged the whole limit already)
def test_a_call_that_fails_pays_for_the_memory_it_grew(engine: WasmEngine, fail: str) -> None:
    """Growing 16 MiB, touching it and failing was charged as if nothing had grown."""
    from ghost_cli.vm.gas import MEMORY_PAGE

    body = ('(func (export "f") (local $p i32) (drop (memory.grow (i32.const {n})))'
            " (loop (i32.store8 (local.get $p) (i32.const 1))"
            " (local.set $p (i32.add (local.get $p) (i32.const 4096)))"
            " (br_if 0 (i32.lt_u (local.get $p) (i32.const {end})))) " + fail + ")")

    def failed(n: int) -> int:
        with pytest.raises(ExecutionError) as info:
            engine.execute(wat_module(body.format(n=n, end=(n + 1) * 65536)), "f",
                           make_ctx(gas=10**7), {}.get)
        return info.value.gas_used

    small, big = failed(1), failed(255)
    assert 254 * MEMORY_PAGE < big - small < 10**7 - small  # the pages, under the limit
