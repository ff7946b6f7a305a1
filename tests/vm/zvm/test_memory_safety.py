"""Memory a contract asks for is bounded before anything is charged or built: every
instruction that touches memory checks `Limits.memory_bytes` after its base gas and before
its dynamic gas (docs/zvm.md), and allocates nothing the size of the request first."""

import time
import tracemalloc

import pytest
from zvm_helpers import gas_of, run, top

from ghost_cli.exceptions import MemoryLimitError, OutOfGasError, PanicError, TrapError
from ghost_cli.vm.gas import MAX_TX_GAS
from ghost_cli.vm.types import Limits

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

SMALL = Limits(memory_bytes=4096)
OVER = 8192  # bytes: twice SMALL's limit


def mem(words: int) -> int:
    return 3 * words + words * words // 512


def pushes(*values: int) -> str:
    """Push `values` so the first is on top."""
    return "".join(f"PUSH {v}\n" for v in reversed(values))


# (program, the gas of its pushes and the instruction's base gas)
OVER_LIMIT = {
    "KECCAK256": (pushes(0, OVER) + "KECCAK256", 6 + 30),
    "SHA256": (pushes(0, OVER) + "SHA256", 6 + 60),
    "RIPEMD160": (pushes(0, OVER) + "RIPEMD160", 6 + 600),
    "BLAKE2B": (pushes(0, OVER) + "BLAKE2B", 6 + 30),
    "CALLDATACOPY": (pushes(0, 0, OVER) + "CALLDATACOPY", 9 + 3),
    "CODECOPY": (pushes(0, 0, OVER) + "CODECOPY", 9 + 3),
    "EXTCODECOPY": (pushes(0, 0, 0, OVER) + "EXTCODECOPY", 12 + 3),
    "LOG0": (pushes(0, OVER) + "LOG0", 6 + 375),
    "LOG2": (pushes(0, OVER, 1, 2) + "LOG2", 12 + 1125),
    "MSTORE": (pushes(OVER, 1) + "MSTORE", 6 + 3),
    "RETURN": (pushes(0, OVER) + "RETURN", 6),
    "REVERT": (pushes(0, OVER) + "REVERT", 6),
    "CREATE": (pushes(0, 0, OVER) + "CREATE", 9 + 32000),
    # gas, target, value 1 (its +9000 would come first before), args [0, 32), ret over
    "CALL ret range": (pushes(0, 0, 1, 0, 32, 0, OVER) + "CALL", 21 + 100),
    "CALL args range": (pushes(0, 0, 1, 0, OVER, 0, 32) + "CALL", 21 + 100),
    "STATICCALL": (pushes(0, 0, 0, OVER, 0, 0) + "STATICCALL", 18 + 100),
    # msg [0, 64) (its 6 per word would come first before), sig empty, pk over the limit
    "PQ_VERIFY_DILITHIUM": (pushes(0, 64, 0, 0, 0, OVER, 44) + "PQ_VERIFY_DILITHIUM",
                            21 + 1000),
    "HOSTCALL debug_log": (pushes(0, OVER) + "HOSTCALL debug_log", 6 + 1),
    "HOSTCALL hash_sha256": (pushes(0, OVER, 0) + "HOSTCALL hash_sha256", 9 + 1),
}


@pytest.mark.parametrize("name", OVER_LIMIT)
def test_the_memory_limit_comes_before_any_dynamic_gas(name):
    src, base = OVER_LIMIT[name]
    # gas for the pushes and the base cost and 1 more: any dynamic charge would fail first
    with pytest.raises(MemoryLimitError, match="memory limit of 4096 bytes") as info:
        run(src, gas=base + 1, limits=SMALL)
    assert info.value.gas_used == base + 1  # a failure burns the frame's gas


#: Instructions with a size cap below the memory limit, checked before it (a TrapError).
SIZE_CAPPED = {"RETURN", "REVERT", "CREATE", "HOSTCALL hash_sha256"}


@pytest.mark.parametrize("name", OVER_LIMIT)
def test_a_huge_request_fails_fast_without_allocating(name):
    # 1e10 bytes: the per-word gas of a copy (~9.4e8) fits under the transaction gas cap,
    # so only the memory limit stands between it and a 10 GB buffer. 64 MiB first: if
    # that allocates, the test fails there rather than trying 10 GB.
    run("NOP")  # imports and tables done before counting
    for size in (64 * 1024 * 1024, 10**10):
        src = OVER_LIMIT[name][0].replace(f"PUSH {OVER}\n", f"PUSH {size}\n")
        tracemalloc.start()
        start = time.monotonic()
        try:
            with pytest.raises((MemoryLimitError, TrapError)) as info:
                run(src, gas=MAX_TX_GAS)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1024 * 1024, (size, peak)
        assert time.monotonic() - start < 2
        # a size cap of the instruction's own comes first (see below), else the limit
        expected = TrapError if name in SIZE_CAPPED else MemoryLimitError
        assert type(info.value) is expected


@pytest.mark.parametrize("op", ["CALLDATACOPY", "CODECOPY", "RETURNDATACOPY"])
def test_a_2_to_the_64_copy_is_a_ghost_error(op):
    # size 2^64 used to reach bytes.ljust and raise Python's OverflowError
    for size, start in ((2**64, 0), (2**255, 0), (0, 2**255)):
        src = pushes(0, start, size) + op
        if op == "RETURNDATACOPY" and start + size:
            with pytest.raises(TrapError, match="past the 0 bytes of return data"):
                run(src, gas=2**70)
        elif size:
            with pytest.raises(MemoryLimitError):
                run(src, gas=2**70)
        else:
            assert run(src).gas_used == 9 + 3  # nothing copied, nothing charged


def test_size_caps_checked_before_memory():
    # RETURN/REVERT above max_return_bytes, CREATE above 49152 bytes, RETURNDATACOPY past
    # the return data and a host function's input above its cap trap first
    with pytest.raises(TrapError, match="exceeds the 1048576-byte limit"):
        run(pushes(0, 2 * 1024 * 1024) + "RETURN")
    with pytest.raises(TrapError, match="init code of 49153 bytes"):
        run(pushes(0, 0, 49153) + "CREATE")
    with pytest.raises(TrapError, match="RETURNDATACOPY"):
        run(pushes(0, 0, OVER) + "RETURNDATACOPY", limits=SMALL)
    with pytest.raises(TrapError, match="data of 2097152 bytes exceeds"):
        run(pushes(0, 2 * 1024 * 1024, 0) + "HOSTCALL hash_sha256", limits=SMALL)


def test_copies_still_zero_pad_over_what_memory_held():
    fill = "PUSH -1\nPUSH 0\nMSTORE\nPUSH -1\nPUSH 32\nMSTORE\n"
    src = fill + pushes(0, 1, 40) + "CALLDATACOPY\n"
    assert top(src + "PUSH 0\nMLOAD", data=b"\xaa\xbb\xcc") == 0xBBCC << 240
    assert top(src + "PUSH 32\nMLOAD", data=b"\xaa\xbb\xcc") == (1 << 192) - 1
    # a source offset past the end copies zeros only
    assert top(fill + pushes(0, 99, 32) + "CODECOPY\nPUSH 0\nMLOAD") == 0


def test_copy_and_hash_gas_are_unchanged():
    assert gas_of(pushes(0, 0, 64) + "CALLDATACOPY") == 9 + 3 + 3 * 2 + mem(2)
    assert gas_of(pushes(32, 0, 33) + "CODECOPY") == 9 + 3 + 3 * 2 + mem(3)
    assert gas_of(pushes(0, 100) + "KECCAK256") == 6 + 30 + 6 * 4 + mem(4)
    assert gas_of(pushes(0, 100) + "LOG0") == 6 + 375 + 8 * 100 + mem(4)
    # value: +9000 on top of the base and both ranges' expansion; no callee runs
    assert gas_of(pushes(0, 0, 1, 0, 32, 64, 32) + "CALL") == 21 + 100 + mem(3) + 9000


def test_out_of_gas_names_the_instruction_and_the_real_shortfall():
    src = pushes(0, OVER) + "KECCAK256"  # PUSH1 at 0, PUSH2 at 2, KECCAK256 at 5
    paid = 6 + 30 + mem(OVER // 32)  # everything but the 6 per word
    with pytest.raises(OutOfGasError) as info:
        run(src, gas=paid + 100)
    assert info.value.message == (
        f"out of gas: used {paid + 100} of limit {paid + 100} (out of gas at pc 5: "
        "KECCAK256 needs 1536 more gas, 100 left (1436 short))")


def test_errors_inside_a_hostcall_name_the_hostcall_pc():
    # HOSTCALL at pc 0: its base gas (1) is paid, its host function's price is not
    with pytest.raises(OutOfGasError, match=r"at pc 0: HOSTCALL needs \d+ more gas, 0 left"):
        run("HOSTCALL block_height", gas=1)
    with pytest.raises(OutOfGasError, match="at pc 4: HOSTCALL needs"):
        run(pushes(0, 0) + "HOSTCALL panic", gas=7)
    with pytest.raises(PanicError) as info:
        run(pushes(0, 0) + "HOSTCALL panic")
    assert info.value.details["pc"] == 4
