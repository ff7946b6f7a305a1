"""Gas figures from ZVM.md: base costs by the table, dynamic costs by the handlers."""

import pytest
from zvm_helpers import gas_of, run

from ghost_cli.exceptions import OutOfGasError
from ghost_cli.vm.zvm.opcodes import BY_NAME

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled


def mem(words: int) -> int:
    return 3 * words + words * words // 512


@pytest.mark.parametrize(("src", "gas"), [
    ("", 0),
    ("HALT", 0),
    ("NOP", 1),
    ("PUSH 1\nPOP", 3 + 2),
    ("PUSH 1\nPUSH 2\nADD", 3 + 3 + 3),
    ("PUSH 1\nPUSH 2\nMUL", 3 + 3 + 5),
    ("PUSH 1\nPUSH 2\nPUSH 3\nADDMOD", 9 + 8),
    ("PUSH 1\nPUSH 2\nSHL", 6 + 8),
    ("JUMPDEST", 1),
    ("PUSH @d\nJUMP\nd: JUMPDEST", 3 + 8 + 1),
    ("PUSH 0\nPUSH @d\nJUMPI\nd: JUMPDEST", 3 + 3 + 10 + 1),
    ("ADDRESS", 2), ("CALLDATASIZE", 2), ("PUSH 0\nCALLDATALOAD", 3 + 3),
    ("PUSH 0\nBLOCKHASH", 3 + 20), ("PUSH 0\nEXTCODESIZE", 3 + 100),
    ("PUSH 1\nPUSH 2\nTABLEHASH", 6 + 30),
    ("PUSH 1\nPUSH 2\nTSTORE\nPUSH 2\nTLOAD", 6 + 100 + 3 + 100),
])
def test_static_gas(src, gas):
    assert gas_of(src) == gas


def test_exp_charges_50_per_exponent_byte():
    assert gas_of("PUSH 0\nPUSH 2\nEXP") == 6 + 10
    assert gas_of("PUSH 255\nPUSH 2\nEXP") == 6 + 10 + 50
    assert gas_of("PUSH 256\nPUSH 2\nEXP") == 6 + 10 + 100
    assert gas_of("PUSH -1\nPUSH 2\nEXP") == 6 + 10 + 50 * 32


def test_memory_expansion_is_3w_plus_w2_over_512_on_growth_only():
    assert gas_of("PUSH 1\nPUSH 0\nMSTORE") == 6 + 3 + mem(1)
    assert gas_of("PUSH 1\nPUSH 0\nMSTORE\nPUSH 1\nPUSH 0\nMSTORE") == 2 * (6 + 3) + mem(1)
    assert gas_of("PUSH 1\nPUSH 1\nMSTORE") == 6 + 3 + mem(2)
    assert gas_of("PUSH 1\nPUSH 31\nMSTORE8") == 6 + 3 + mem(1)
    assert gas_of("PUSH 1\nPUSH 32\nMSTORE8") == 6 + 3 + mem(2)
    w = 1024 * 1024 // 32  # grow to 1 MiB: the quadratic term dominates
    assert gas_of(f"PUSH {1024 * 1024 - 32}\nMLOAD") == 3 + 3 + mem(w)
    # growth is charged as the difference from the current size
    assert gas_of("PUSH 0\nMLOAD\nPUSH 32\nMLOAD") == 2 * 6 + mem(2)


def test_zero_length_ranges_never_touch_memory():
    assert gas_of(f"PUSH 0\nPUSH {2**255}\nKECCAK256") == 6 + 30
    assert gas_of(f"PUSH 0\nPUSH {2**200}\nLOG0") == 6 + 375


def test_keccak_30_plus_6_per_word():
    assert gas_of("PUSH 64\nPUSH 0\nKECCAK256") == 6 + 30 + 6 * 2 + mem(2)
    assert gas_of("PUSH 33\nPUSH 0\nKECCAK256") == 6 + 30 + 6 * 2 + mem(2)


def test_other_hashes_per_word():
    assert gas_of("PUSH 32\nPUSH 0\nSHA256") == 6 + 60 + 12 + mem(1)
    assert gas_of("PUSH 32\nPUSH 0\nRIPEMD160") == 6 + 600 + 120 + mem(1)
    assert gas_of("PUSH 32\nPUSH 0\nBLAKE2B") == 6 + 30 + 6 + mem(1)


def test_copies_3_plus_3_per_word():
    assert gas_of("PUSH 64\nPUSH 0\nPUSH 0\nCALLDATACOPY") == 9 + 3 + 3 * 2 + mem(2)
    assert gas_of("PUSH 33\nPUSH 0\nPUSH 0\nCODECOPY") == 9 + 3 + 3 * 2 + mem(2)
    assert gas_of("PUSH 0\nPUSH 0\nPUSH 0\nCODECOPY") == 9 + 3


@pytest.mark.parametrize("n", range(5))
def test_log_375_plus_375_per_topic_plus_8_per_byte(n):
    pushes = "PUSH 0\n" * n
    assert BY_NAME[f"LOG{n}"].gas == 375 * (n + 1)
    assert gas_of(f"{pushes}PUSH 10\nPUSH 0\nLOG{n}") == 3 * (n + 2) + 375 * (n + 1) + 80 + mem(1)


def test_sload_cold_then_warm():
    assert gas_of("PUSH 1\nSLOAD") == 3 + 100 + 2100
    assert gas_of("PUSH 1\nSLOAD\nPUSH 1\nSLOAD") == 3 + 2200 + 3 + 200
    assert gas_of("PUSH 1\nSLOAD\nPUSH 2\nSLOAD") == 2 * (3 + 2200)


K = (1).to_bytes(32, "big")


def test_sstore_rules():
    # zero to non-zero
    assert gas_of("PUSH 5\nPUSH 1\nSSTORE") == 6 + 100 + 20000
    # unchanged (both zero, and both 5)
    assert gas_of("PUSH 0\nPUSH 1\nSSTORE") == 6 + 100 + 100
    five = {K: (5).to_bytes(32, "big")}
    assert gas_of("PUSH 5\nPUSH 1\nSSTORE", storage=five) == 6 + 100 + 100
    # non-zero to another non-zero: cold, then warm
    assert gas_of("PUSH 6\nPUSH 1\nSSTORE", storage=five) == 6 + 100 + 2200
    assert gas_of("PUSH 1\nSLOAD\nPOP\nPUSH 6\nPUSH 1\nSSTORE", storage=five) == \
        3 + 2200 + 2 + 6 + 100 + 100


def test_sstore_clear_refund_is_capped_at_a_fifth_of_gas_used():
    five = {K: (5).to_bytes(32, "big")}
    used = 6 + 100 + 2900
    r = run("PUSH 0\nPUSH 1\nSSTORE", storage=five)
    assert r.refund == used // 5 and r.gas_used == used - used // 5
    # With enough other work the full 15000 refund applies.
    busy = "".join(f"PUSH 1\nPUSH {k}\nSSTORE\n" for k in (2, 3, 4, 5))  # 4 new slots
    r = run(busy + "PUSH 0\nPUSH 1\nSSTORE", storage=five)
    spent = 4 * (6 + 100 + 20000) + used
    assert r.refund == 15000 and r.gas_used == spent - 15000


def test_out_of_gas_burns_the_limit():
    with pytest.raises(OutOfGasError) as info:
        run("PUSH 1\nPUSH 2\nADD", gas=8)
    assert info.value.gas_used == 8
    with pytest.raises(OutOfGasError):
        run("PUSH 1\nPUSH 1\nSSTORE", gas=20000)
    assert run("PUSH 1\nPUSH 2\nADD", gas=9).gas_used == 9


def test_every_instruction_that_goes_on_costs_at_least_the_floor():
    from ghost_cli.vm.zvm.opcodes import ENDS_EXECUTION, MIN_GAS, OPCODES

    assert MIN_GAS >= 1
    for op in OPCODES.values():
        if op.name not in ENDS_EXECUTION:
            assert op.gas >= MIN_GAS, op.name
    assert BY_NAME["NOP"].gas == 1
    assert gas_of("NOP\n" * 1000) == 1000  # a NOP sled is not free


def test_hostcall_charges_its_base_on_top_of_the_host_price():
    from ghost_cli.vm.gas import HOST_PRICES

    assert BY_NAME["HOSTCALL"].gas >= 1
    assert gas_of("HOSTCALL chain_id") == BY_NAME["HOSTCALL"].gas + HOST_PRICES["chain_id"].cost()
    # with gas for the host function but not for the base too, the call runs out of gas
    with pytest.raises(OutOfGasError):
        run("HOSTCALL chain_id", gas=HOST_PRICES["chain_id"].cost())
