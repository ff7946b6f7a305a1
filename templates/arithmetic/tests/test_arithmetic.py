"""Tests for the arithmetic contract. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox."""

import pytest

from ghost_cli.exceptions import RevertError

WIDTHS = [64, 128, 256]


@pytest.mark.parametrize("bits", WIDTHS)
def test_operations(deploy, bits):
    math = deploy("arithmetic")
    top = 2**bits - 1
    assert getattr(math, f"add_u{bits}")(top - 1, 1) == top
    assert getattr(math, f"sub_u{bits}")(top, top) == 0
    assert getattr(math, f"mul_u{bits}")(2 ** (bits // 2), 2 ** (bits // 2) - 1) == (
        2**bits - 2 ** (bits // 2))
    assert getattr(math, f"div_u{bits}")(top, 2) == top // 2
    assert getattr(math, f"div_u{bits}")(7, 8) == 0


@pytest.mark.parametrize("bits", WIDTHS)
def test_named_errors(deploy, bits):
    math = deploy("arithmetic")
    top = 2**bits - 1
    cases = [
        (f"add_u{bits}", (top, 1), "Overflow"),
        (f"sub_u{bits}", (0, 1), "Underflow"),
        (f"mul_u{bits}", (2 ** (bits // 2), 2 ** (bits // 2)), "Overflow"),
        (f"div_u{bits}", (1, 0), "DivisionByZero"),
    ]
    for function, args, reason in cases:
        with pytest.raises(RevertError) as info:
            getattr(math, function)(*args)
        assert info.value.reason == reason, function


def test_mul_div_u256_keeps_the_512_bit_product(deploy):
    math = deploy("arithmetic")
    top = 2**256 - 1
    assert math.mul_div_u256(top, top, top) == top  # the product alone would overflow
    assert math.mul_div_u256(10, 3, 4) == 7
    with pytest.raises(RevertError, match="^reverted: DivisionByZero$"):
        math.mul_div_u256(1, 1, 0)
    with pytest.raises(RevertError, match="^reverted: Overflow$"):
        math.mul_div_u256(top, 2, 1)


def test_accumulate(deploy, ghost_env):
    math = deploy("arithmetic")
    assert math.total() == 0
    assert math.accumulate(5) == 5
    receipt = math.accumulate.transact(2**100)
    assert receipt.result == 2**100 + 5
    (event,) = receipt.events
    assert event.name == "Accumulated" and event.topics[1][:20] == ghost_env.sender
    assert int.from_bytes(event.data, "little") == 2**100 + 5
    assert math.total() == 2**100 + 5


def test_accumulate_overflow_leaves_the_total(deploy):
    math = deploy("arithmetic")
    math.accumulate(2**128 - 1)
    with pytest.raises(RevertError) as info:
        math.accumulate(1)
    assert info.value.reason == "Overflow"
    assert math.total() == 2**128 - 1
