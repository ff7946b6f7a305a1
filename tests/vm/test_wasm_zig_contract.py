"""A real contract, compiled by Zig against the SDK, run through the engine."""

from __future__ import annotations

import pytest
from wasm_helpers import ADDRESS, CALLER, Chain, make_ctx

from ghost_cli.exceptions import NotFoundError, OutOfGasError, RevertError

pytestmark = pytest.mark.slow


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def test_exports_are_the_contract_functions(counter: Chain) -> None:
    assert sorted(counter.engine.exports(counter.code)) == ["add", "get", "greet", "increment"]


def test_increment_and_get_keep_state_across_calls(counter: Chain) -> None:
    assert counter.call("get").return_data == u64(0)
    first = counter.call("increment")
    assert first.return_data == u64(1)
    assert first.writes == {b"count": u64(1)}
    assert counter.call("increment").return_data == u64(2)
    got = counter.call("get")
    assert got.return_data == u64(2)
    assert got.writes == {}
    assert counter.state == {b"count": u64(2)}


def test_increment_emits_an_event_naming_the_caller(counter: Chain) -> None:
    outcome = counter.call("increment")
    (event,) = outcome.events
    assert event.name == "Incremented"
    assert event.address == ADDRESS
    assert event.topics[1] == CALLER + bytes(12)
    assert event.data == b""


def test_call_data_is_decoded(counter: Chain) -> None:
    assert counter.call("add", u64(40)).return_data == u64(40)
    assert counter.call("add", u64(2)).return_data == u64(42)
    assert counter.call("greet", (5).to_bytes(4, "little") + b"ghost").return_data == (
        (5).to_bytes(4, "little") + b"ghost")


def test_error_union_reverts_with_its_name_and_keeps_no_writes(counter: Chain) -> None:
    counter.call("add", u64(7))
    with pytest.raises(RevertError) as info:
        counter.call("add", u64(2**64 - 1))
    assert info.value.reason == "Overflow"
    assert 0 < info.value.gas_used < 1_000_000
    assert counter.state == {b"count": u64(7)}


def test_malformed_call_data_reverts_in_the_sdk(counter: Chain) -> None:
    with pytest.raises(RevertError, match="call data too short"):
        counter.call("add", b"\x01")


def test_gas_is_deterministic(counter: Chain) -> None:
    counter.call("increment")
    snapshot = dict(counter.state)
    first = counter.engine.execute(counter.code, "increment", make_ctx(), snapshot.get)
    second = counter.engine.execute(counter.code, "increment", make_ctx(), snapshot.get)
    assert first.gas_used == second.gas_used
    assert first == second


def test_too_little_gas_is_out_of_gas_and_nothing_is_kept(counter: Chain) -> None:
    needed = counter.engine.execute(counter.code, "increment", make_ctx(), {}.get).gas_used
    with pytest.raises(OutOfGasError) as info:
        counter.call("increment", gas=needed - 1)
    assert info.value.gas_used == needed - 1
    assert counter.state == {}
    assert counter.call("increment", gas=needed).gas_used == needed


def test_unknown_function_is_not_found(counter: Chain) -> None:
    with pytest.raises(NotFoundError, match="no function 'decrement'"):
        counter.call("decrement")
