"""Points docs/zvm.md settles where ZVM.md and the EVM leave room: SSTORE priced by the
current value, transient storage per transaction, GASLIMIT in sub-calls, what a panic and
a call with value cost."""

import pytest
from zvm_helpers import CALLER, RETURN_TOP, run, zvmc

from ghost_cli.exceptions import PanicError
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm.engine import ZvmEngine

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

A = bytes.fromhex("aa" * 20)
B = bytes.fromhex("bb" * 20)
K = (1).to_bytes(32, "big")


def _engine(contracts: dict[bytes, str]) -> tuple[ZvmEngine, dict[bytes, bytes]]:
    code = {address: zvmc(src) for address, src in contracts.items()}
    return ZvmEngine(resolver=lambda a: (code[a], {}.get) if a in code else None), code


def _run(contracts: dict[bytes, str], gas: int = 1_000_000, engine=None):
    built, code = _engine(contracts)
    engine = engine or built
    ctx = CallContext(CALLER, A, b"", gas)
    return engine.run_message(engine.load(code[A]), code[A], b"", ctx, {}.get)


def call(target: bytes, value: int = 0, ret_size: int = 32) -> str:
    return (f"PUSH {ret_size}\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH {value}\n"
            f"PUSH 0x{target.hex()}\nPUSH 100000\nCALL\n")


def test_sstore_is_priced_by_the_current_value_and_keeps_its_refunds():
    busy = "".join(f"PUSH 1\nPUSH {k}\nSSTORE\n" for k in (2, 3, 4, 5))  # room for refunds
    spent_busy = 4 * (6 + 100 + 20000)
    # 0 -> 7 -> 0: 20000, then 2900 with a 15000 refund (no "original value" discount)
    r = run(busy + "PUSH 7\nPUSH 1\nSSTORE\nPUSH 0\nPUSH 1\nSSTORE")
    assert r.refund == 15000
    assert r.gas_used == spent_busy + (6 + 100 + 20000) + (6 + 100 + 2900) - 15000
    # 5 -> 0 -> 5: the refund earned by clearing stays
    five = {K: (5).to_bytes(32, "big")}
    r = run(busy + "PUSH 0\nPUSH 1\nSSTORE\nPUSH 5\nPUSH 1\nSSTORE", storage=five)
    assert r.refund == 15000
    assert r.gas_used == spent_busy + (6 + 100 + 2900) + (6 + 100 + 20000) - 15000


def test_transient_storage_lives_for_one_execute_shared_by_its_frames():
    # A counts in its transient slot 0 and calls itself once (with call data: the inner
    # frame), so both frames share A's transient storage; B's is its own.
    a = ("PUSH 0\nTLOAD\nPUSH 1\nADD\nPUSH 0\nTSTORE\n"
         "CALLDATASIZE\nPUSH @inner\nJUMPI\n"
         "PUSH 0\nPUSH 0\nPUSH 1\nPUSH 0\nPUSH 0\nADDRESS\nPUSH 100000\nCALL\nPOP\n"
         + call(B) + "POP\nPUSH 0\nMLOAD\nPUSH 0\nTLOAD\nADD" + RETURN_TOP
         + "inner: JUMPDEST\nHALT")
    b = "PUSH 0\nTLOAD" + RETURN_TOP  # B reads its own slot 0
    engine, _ = _engine({A: a, B: b})
    for _ in range(2):  # each execute starts empty: the same answer twice
        r = _run({A: a, B: b}, engine=engine)
        assert int.from_bytes(r.return_data, "big") == 0 + 2  # B saw 0, A counted 2


def test_gaslimit_is_the_transaction_s_in_every_frame():
    a = call(B) + "POP\nPUSH 0\nMLOAD" + RETURN_TOP
    r = _run({A: a, B: "GASLIMIT" + RETURN_TOP}, gas=777_777)
    assert int.from_bytes(r.return_data, "big") == 777_777  # not the 100000 B was given


def test_a_panicking_callee_returns_its_gas_other_failures_burn_it():
    a = call(B, ret_size=0) + "RETURNDATASIZE" + RETURN_TOP
    panics = _run({A: a, B: "PUSH 0\nPUSH 0\nHOSTCALL panic"})
    burns = _run({A: a, B: ".byte 0xFE"})
    assert panics.return_data == burns.return_data == bytes(32)  # 0: no return data
    panic_gas = 6 + 1 + HOST_PRICES["panic"].cost(0)  # B's pushes and HOSTCALL panic
    assert burns.gas_used - panics.gas_used == 100_000 - panic_gas  # B's gas, but its use
    with pytest.raises(PanicError) as info:  # at the top level: the gas used up to it
        run("PUSH 0\nPUSH 0\nHOSTCALL panic", gas=10**6)
    assert info.value.gas_used == panic_gas


def test_a_call_with_value_pushes_0_runs_nothing_and_costs_its_surcharge():
    a = call(B, value=1) + RETURN_TOP
    r = _run({A: a, B: "PUSH 1\nPUSH 1\nSSTORE"})
    assert int.from_bytes(r.return_data, "big") == 0 and not r.writes.get(B)
    # 7 pushes, CALL, its surcharge, a word of memory for the return range, RETURN_TOP
    assert r.gas_used == 7 * 3 + 100 + 9000 + 3 + 4 * 3
