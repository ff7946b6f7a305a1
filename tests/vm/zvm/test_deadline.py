"""The wall-clock backstop: a ZVM call with a huge gas limit still stops, with the wasm
engine's timeout error, burning its gas limit and changing nothing."""

import time

import pytest
from zvm_helpers import run, zvmc

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import TimeoutError_
from ghost_cli.vm.gas import MAX_TX_GAS
from ghost_cli.vm.types import Limits

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

HUGE = 10**15
# Writes a slot first, so a kept write would show; then spins forever.
SPIN = "PUSH 7\nPUSH 1\nSSTORE\nstart: JUMPDEST\n" + "NOP\n" * 1000 + "PUSH @start\nJUMP\n"
QUICK = Limits(timeout_seconds=0.2)


def _times_out(**kw) -> TimeoutError_:
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match=r"0\.2s wall-clock limit") as info:
        run(SPIN, gas=HUGE, limits=QUICK, **kw)
    assert time.monotonic() - started < 10  # liveness only: the loop alone would run for days
    return info.value


def test_a_nop_loop_with_huge_gas_stops_with_the_timeout_error():
    error = _times_out()
    assert error.code == "timeout"  # the code sandbox and node report for wasm's backstop
    assert error.gas_used == HUGE  # like any failure but REVERT, it burns the limit


def test_traced_runs_stop_too():
    steps = []
    _times_out(trace=steps.append)
    assert steps and steps[0].opcode == "PUSH1"


def test_a_sub_frame_that_spins_stops_the_whole_call():
    # With call data: spin. Without: call itself with data, then return the call's result.
    # A timeout is not the callee's failure (which would push 0 and carry on).
    src = f"""
        CALLDATASIZE
        PUSH @spin
        JUMPI
        PUSH 1
        PUSH 0
        MSTORE8
        PUSH 0
        PUSH 0
        PUSH 1
        PUSH 0
        PUSH 0
        ADDRESS
        PUSH {10**14}
        CALL
        PUSH 0
        MSTORE
        PUSH 32
        PUSH 0
        RETURN
        spin: JUMPDEST
        {SPIN}
    """
    with pytest.raises(TimeoutError_):
        run(src, gas=HUGE, limits=QUICK)


def test_short_calls_are_not_interrupted():
    assert run("PUSH 1\nPUSH 2\nADD", limits=QUICK).gas_used == 9


def test_the_sandbox_reports_it_and_keeps_state_unchanged(tmp_path):
    meta = {"abi": {"version": 1, "functions": [{"name": "spin", "inputs": [], "output": None}]}}
    blob = zvmc(SPIN, meta)
    with Sandbox(tmp_path / "state.db", limits=QUICK) as sandbox:
        address = sandbox.deploy(blob, name="spinner").address
        with pytest.raises(TimeoutError_) as info:
            sandbox.call("spinner", "spin", gas_limit=MAX_TX_GAS)  # the cap: still minutes of NOPs
        assert info.value.code == "timeout"
        assert sandbox.store.storage_get(address, (1).to_bytes(32, "big")) is None
