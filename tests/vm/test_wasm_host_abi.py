"""The host ABI as served to WebAssembly: storage overlay, events, context, limits, prices."""

from __future__ import annotations

import pytest
from wasm_helpers import ADDRESS, CALLER, make_ctx, wat_module

from ghost_cli.exceptions import OutOfGasError, TrapError
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.types import Limits
from ghost_cli.vm.wasm import WasmEngine

# Copies the call data to address 0 and returns it: an echo to probe set_return.
ECHO = """
  (func (export "echo")
    (call $input_copy (i32.const 0) (i32.const 0) (call $input_size))
    (call $set_return (i32.const 0) (call $input_size)))"""


def test_echo_returns_the_call_data(engine: WasmEngine) -> None:
    assert engine.execute(wat_module(ECHO), "echo", make_ctx(b"hello"), {}.get).return_data == (
        b"hello")


def test_reading_past_the_call_data_traps(engine: WasmEngine) -> None:
    code = wat_module("""
      (func (export "f") (call $input_copy (i32.const 0) (i32.const 2) (i32.const 4)))""")
    with pytest.raises(TrapError, match="past the end of the call data \\(5 bytes\\)"):
        engine.execute(code, "f", make_ctx(b"hello"), {}.get)


OVERLAY = """
  (data (i32.const 0) "k1k2new")
  ;; write k1 := "new", delete k2, then report what the contract now sees:
  ;; [len(k1) as read back][k1 value][has(k2)][has(k3)] at address 100.
  (func (export "f")
    (call $storage_write (i32.const 0) (i32.const 2) (i32.const 4) (i32.const 3))
    (call $storage_delete (i32.const 2) (i32.const 2))
    (i32.store8 (i32.const 100)
      (call $storage_read (i32.const 0) (i32.const 2) (i32.const 101) (i32.const 8)))
    (i32.store8 (i32.const 104) (call $storage_has (i32.const 2) (i32.const 2)))
    (i32.store8 (i32.const 105)
      (call $storage_read (i32.const 2) (i32.const 2) (i32.const 101) (i32.const 0)))
    (call $set_return (i32.const 100) (i32.const 6)))"""


def test_reads_see_this_calls_pending_writes(engine: WasmEngine) -> None:
    state = {b"k1": b"old", b"k2": b"gone soon"}
    outcome = engine.execute(wat_module(OVERLAY), "f", make_ctx(), state.get)
    assert outcome.return_data == b"\x03new\x00\xff"  # len 3, "new", has(k2)=0, read(k2)=-1
    assert outcome.writes == {b"k1": b"new", b"k2": None}
    assert state == {b"k1": b"old", b"k2": b"gone soon"}  # the engine writes nothing


def test_storage_read_copies_at_most_out_cap(engine: WasmEngine) -> None:
    code = wat_module("""
      (data (i32.const 0) "key")
      (func (export "f")
        (i32.store8 (i32.const 50)
          (call $storage_read (i32.const 0) (i32.const 3) (i32.const 51) (i32.const 2)))
        (call $set_return (i32.const 50) (i32.const 5)))""")
    outcome = engine.execute(code, "f", make_ctx(), {b"key": b"abcd"}.get)
    assert outcome.return_data == b"\x04ab\x00\x00"


EVENTS = """
  (data (i32.const 0) "Transfer")
  (data (i32.const 64) "payload")
  (data (i32.const 128) "first log")
  (func (export "f")
    (call $debug_log (i32.const 128) (i32.const 9))
    (call $emit_event (i32.const 0) (i32.const 2) (i32.const 64) (i32.const 7))
    (call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)))
  (func (export "five_topics")
    (call $emit_event (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0)))"""


def test_events_and_logs_in_order(engine: WasmEngine) -> None:
    outcome = engine.execute(wat_module(EVENTS), "f", make_ctx(), {}.get)
    first, second = outcome.events
    assert first.name == "Transfer" and second.name == "Transfer"
    assert first.topics == (b"Transfer".ljust(32, b"\0"), bytes(32))
    assert first.data == b"payload" and second.data == b""
    assert first.address == ADDRESS
    assert outcome.logs == ("first log",)


def test_at_most_four_topics(engine: WasmEngine) -> None:
    with pytest.raises(TrapError, match="5 topics, at most 4"):
        engine.execute(wat_module(EVENTS), "five_topics", make_ctx(), {}.get)


CONTEXT = """
  (func (export "f")
    (call $caller (i32.const 0))
    (call $self_address (i32.const 20))
    (i64.store (i32.const 40) (call $block_height))
    (i64.store (i32.const 48) (call $block_time))
    (i64.store (i32.const 56) (call $chain_id))
    (call $set_return (i32.const 0) (i32.const 64)))
  (func (export "gas")
    (i64.store (i32.const 0) (call $gas_left))
    (call $set_return (i32.const 0) (i32.const 8)))"""


def test_context_functions(engine: WasmEngine) -> None:
    ctx = make_ctx(block_height=7, block_time=1_700_000_000, chain_id=2**64 - 1)
    data = engine.execute(wat_module(CONTEXT), "f", ctx, {}.get).return_data
    assert data[:20] == CALLER and data[20:40] == ADDRESS
    assert int.from_bytes(data[40:48], "little") == 7
    assert int.from_bytes(data[48:56], "little") == 1_700_000_000
    assert int.from_bytes(data[56:64], "little") == 2**64 - 1


def test_gas_left_is_after_its_own_price(engine: WasmEngine) -> None:
    outcome = engine.execute(wat_module(CONTEXT), "gas", make_ctx(gas=100_000), {}.get)
    left = int.from_bytes(outcome.return_data, "little")
    # Only set_return (8 bytes) and a few instructions run after gas_left returns.
    after = outcome.gas_used - (100_000 - left)
    assert HOST_PRICES["set_return"].cost(8) <= after < HOST_PRICES["set_return"].cost(8) + 10


@pytest.mark.parametrize(("body", "message"), [
    ("(call $storage_write (i32.const 0) (i32.const 20) (i32.const 0) (i32.const 1))",
     "storage_write: key of 20 bytes exceeds the 16-byte limit"),
    ("(call $storage_write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 40))",
     "storage_write: value of 40 bytes exceeds the 32-byte limit"),
    ("(call $set_return (i32.const 0) (i32.const 100))",
     "set_return: return data of 100 bytes exceeds the 64-byte limit"),
    ("(call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 50))",
     "emit_event: event data of 50 bytes exceeds the 48-byte limit"),
])
def test_size_limits(body: str, message: str) -> None:
    tight = WasmEngine(Limits(
        max_key_bytes=16, max_value_bytes=32, max_return_bytes=64, max_event_data_bytes=48))
    with pytest.raises(TrapError, match=message):
        tight.execute(wat_module(f'(func (export "f") {body})'), "f", make_ctx(), {}.get)


# The same instructions, calling a host function with lengths taken from the call data.
PRICED = """
  (func $len (result i32)
    (call $input_copy (i32.const 0) (i32.const 0) (i32.const 4))
    (i32.load (i32.const 0)))
  (func (export "write")
    (call $storage_write (i32.const 8) (i32.const 0) (i32.const 8) (call $len)))
  (func (export "emit")
    (call $emit_event (i32.const 8) (i32.const 0) (i32.const 8) (call $len)))"""


def _gas(engine: WasmEngine, function: str, n: int, gas: int = 1_000_000) -> int:
    ctx = make_ctx(n.to_bytes(4, "little"), gas=gas)
    return engine.execute(wat_module(PRICED), function, ctx, {}.get).gas_used


def test_host_prices_are_charged_exactly_by_the_schedule(engine: WasmEngine) -> None:
    write, emit = HOST_PRICES["storage_write"], HOST_PRICES["emit_event"]
    # Only the bytes differ: the difference is the per-byte price.
    assert _gas(engine, "write", 40) - _gas(engine, "write", 8) == write.per_byte * 32
    assert _gas(engine, "emit", 40) - _gas(engine, "emit", 8) == emit.per_byte * 32
    # Same wasm, different host function: the difference is the schedule's difference.
    assert _gas(engine, "write", 10) - _gas(engine, "emit", 10) == write.cost(10) - emit.cost(10)


def test_a_host_call_that_cannot_pay_is_out_of_gas_and_has_no_effect(engine: WasmEngine) -> None:
    needed = _gas(engine, "write", 8)
    with pytest.raises(OutOfGasError) as info:
        _gas(engine, "write", 8, gas=needed - 1)
    assert info.value.gas_used == needed - 1
    assert info.value.message == f"out of gas: used {needed - 1} of limit {needed - 1}"


def test_a_start_function_runs_inside_the_call(engine: WasmEngine) -> None:
    code = wat_module("""
      (data (i32.const 0) "booted")
      (func $init (call $storage_write (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 6)))
      (start $init)
      (func (export "f") (call $set_return (i32.const 0) (i32.const 6)))""")
    outcome = engine.execute(code, "f", make_ctx(), {}.get)
    assert outcome.return_data == b"booted"
    assert outcome.writes == {b"boot": b"booted"}
