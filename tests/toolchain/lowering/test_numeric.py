"""Integer instructions: lowered code on the ZVM interpreter against wasmtime, on edge
values and seeded random ones (and hypothesis for the arithmetic core)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lowering_helpers import build, compare, harness

U64 = (1 << 64) - 1
EDGES32 = [0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
           0x10000, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 0xFFFF_FFFE, 0xFFFF_FFFF]
EDGES64 = EDGES32 + [64, 65, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000,
                     0x8000_0000_0000_0001, U64 - 1, U64, 0xDEAD_BEEF_0BAD_F00D]

I32_BINARY = ("add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr "
              "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u").split()
I32_UNARY = "eqz clz ctz popcnt extend8_s extend16_s".split()
I64_UNARY = I32_UNARY + ["extend32_s"]
COMPARISONS = {"eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u", "eqz"}


def _func(ty: str, op: str, nargs: int) -> str:
    if ty == "i32":
        args = " ".join(f"(i32.wrap_i64 (local.get {i}))" for i in range(nargs))
        body = f"(i64.extend_i32_u (i32.{op} {args}))"
    else:
        args = " ".join(f"(local.get {i})" for i in range(nargs))
        body = f"(i64.{op} {args})"
        if op in COMPARISONS:
            body = f"(i64.extend_i32_u {body})"
    params = " ".join(["i64"] * nargs)
    return f"(func $f (param {params}) (result i64) {body})"


def _values(ty: str, rng: random.Random, n: int) -> list[int]:
    edges = EDGES32 if ty == "i32" else EDGES64
    # i32 operands carry random upper halves: lowered code must ignore them after wrap
    noise = (lambda v: v | (rng.getrandbits(32) << 32)) if ty == "i32" else (lambda v: v)
    out = [noise(v) for v in edges]
    out += [rng.getrandbits(64) for _ in range(n)]
    out += [rng.getrandbits(rng.randint(1, 64)) for _ in range(n)]
    return out


def _traps(ty: str, op: str, a: int, b: int) -> bool:
    bits = 32 if ty == "i32" else 64
    mask = (1 << bits) - 1
    a, b = a & mask, b & mask
    if op in ("div_s", "div_u", "rem_s", "rem_u") and b == 0:
        return True
    return op == "div_s" and a == 1 << (bits - 1) and b == mask


@pytest.mark.parametrize("ty,op", [(t, o) for t in ("i32", "i64") for o in I32_BINARY])
def test_binary(engines, ty, op):
    rng = random.Random(f"{ty}.{op}")
    values = _values(ty, rng, 12)
    cases = [(a, b) for a in values for b in values if not _traps(ty, op, a, b)]
    pair = build(harness(_func(ty, op, 2), 2))
    compare(engines, pair, cases)
    trapping = [(a, b) for a in values[:30] for b in values[:30] if _traps(ty, op, a, b)]
    compare(engines, pair, trapping[:12])


@pytest.mark.parametrize("ty,op", [("i32", o) for o in I32_UNARY]
                         + [("i64", o) for o in I64_UNARY])
def test_unary(engines, ty, op):
    rng = random.Random(f"{ty}.{op}")
    values = _values(ty, rng, 200)
    values += [1 << i for i in range(64)] + [(1 << i) - 1 for i in range(65)]
    compare(engines, build(harness(_func(ty, op, 1), 1)), [(v & U64,) for v in values])


@pytest.mark.parametrize("body", [
    "(i64.extend_i32_u (i32.wrap_i64 (local.get 0)))",
    "(i64.extend_i32_s (i32.wrap_i64 (local.get 0)))",
    "(i64.extend_i32_u (i32.eqz (i32.wrap_i64 (local.get 0))))",
    "(i64.extend_i32_u (i64.eqz (local.get 0)))",
])
def test_conversions(engines, body):
    rng = random.Random(body)
    cases = [(v,) for v in _values("i64", rng, 100)]
    compare(engines, build(harness(f"(func $f (param i64) (result i64) {body})", 1)), cases)


build_cache: dict = {}


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["i32.add", "i32.sub", "i32.mul", "i64.mul", "i64.sub", "i32.rotl",
                        "i64.rotr", "i64.shr_s", "i32.shr_s", "i64.rem_s", "i32.div_s"]),
       st.lists(st.tuples(st.integers(0, U64), st.integers(0, U64)), min_size=1, max_size=40))
def test_arithmetic_hypothesis(engines, name, cases):
    ty, op = name.split(".")
    cases = [c for c in cases if not _traps(ty, op, *c)]
    if name not in build_cache:
        build_cache[name] = build(harness(_func(ty, op, 2), 2))
    compare(engines, build_cache[name], cases)
