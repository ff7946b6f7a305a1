"""Loading code is priced by its size (docs/zvm.md, "Gas"): past EIP-170's 24 KiB each
32-byte word of a contract's stored container costs 160 gas, the first time a transaction
runs it, calls it or reads its code, before the engine reads, hashes or scans it."""

import pytest
from zvm_helpers import CALLER, zvmc

from ghost_cli.exceptions import OutOfGasError
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm import assemble
from ghost_cli.vm.zvm.engine import ZvmEngine
from ghost_cli.vm.zvm.interpreter import FREE_CODE_BYTES, code_load_gas

A = bytes.fromhex("aa" * 20)
B = bytes.fromhex("bb" * 20)
RETURN_7 = assemble("PUSH 7\nPUSH 0\nMSTORE\nPUSH 32\nPUSH 0\nRETURN")
BIG = RETURN_7 + bytes(200_000)  # the same behaviour, with 200 KB of HALTs behind it


def test_the_price_is_by_word_past_the_free_size():
    assert code_load_gas(0) == code_load_gas(FREE_CODE_BYTES) == 0
    assert code_load_gas(FREE_CODE_BYTES + 1) == 160
    assert code_load_gas(FREE_CODE_BYTES + 64) == 320
    assert code_load_gas(FREE_CODE_BYTES + 65) == 480


def _calls(target: bytes, times: int, op: str = "STATICCALL") -> str:
    one = f"PUSH 32\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 0x{target.hex()}\nPUSH 100000\n{op}\nPOP\n"
    return one * times + "HALT"


def _gas_calling(callee: bytes, src: str) -> int:
    code = {A: zvmc(src), B: zvmc(callee)}
    engine = ZvmEngine(resolver=lambda a: (code[a], {}.get) if a in code else None)
    ctx = CallContext(CALLER, A, b"", 10_000_000)
    return engine.run_message(engine.load(code[A]), code[A], b"", ctx, {}.get).gas_used


@pytest.mark.parametrize("src", [
    _calls(B, 1), _calls(B, 3),
    f"PUSH 0x{B.hex()}\nEXTCODESIZE\nPOP\n" + _calls(B, 2),
    f"PUSH 0x{B.hex()}\nEXTCODEHASH\nPOP\nPUSH 0x{B.hex()}\nEXTCODESIZE\nPOP\nHALT",
])
def test_a_big_callee_is_paid_for_once_per_transaction(src):
    extra = _gas_calling(BIG, src) - _gas_calling(RETURN_7, src)
    assert extra == code_load_gas(len(zvmc(BIG))) > 0


def _top(code: bytes, gas: int, engine: ZvmEngine):
    ctx = CallContext(CALLER, A, b"", gas)
    return engine.run(code, "f()", ctx, {}.get)


def test_the_called_contract_pays_for_its_own_load_before_it_is_loaded():
    small, big = zvmc(RETURN_7), zvmc(BIG)
    price = code_load_gas(len(big))
    engine = ZvmEngine()
    assert _top(big, 10_000_000, engine).gas_used - _top(small, 10_000_000, engine).gas_used \
        == price
    cold = ZvmEngine()
    with pytest.raises(OutOfGasError, match="loading the contract") as short:
        _top(big, price - 1, cold)
    assert short.value.gas_used == price - 1
    assert cold.load(small) and len(cold._cache) == 1  # the big one was never analysed
