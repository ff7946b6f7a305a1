"""Loads, stores, bounds and memory.grow: lowered code against wasmtime."""

from __future__ import annotations

import random

import pytest
from lowering_helpers import build, compare, harness

LOADS = ("i32.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u i64.load i64.load8_s "
         "i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u").split()
STORES = "i32.store i32.store8 i32.store16 i64.store i64.store8 i64.store16 i64.store32".split()
PATTERN = bytes(random.Random("pattern").getrandbits(8) for _ in range(600))
DATA = '(data (i32.const 0) "' + "".join(f"\\{b:02x}" for b in PATTERN) + '")'


def _as_i64(op: str, expr: str) -> str:
    return f"(i64.extend_i32_u {expr})" if op.startswith("i32") else expr


@pytest.mark.parametrize("op", LOADS)
def test_load(engines, op):
    func = (f"(func $f (param i64) (result i64) "
            f"{_as_i64(op, f'({op} offset=3 (i32.wrap_i64 (local.get 0)))')})")
    cases = [(a,) for a in range(0, 590)]
    compare(engines, build(harness(func, 1, DATA)), cases)


@pytest.mark.parametrize("op", STORES)
def test_store_then_read_around(engines, op):
    # store at addr, then read 8 bytes at probe: the value and the bytes around it
    value = "(i32.wrap_i64 (local.get 1))" if op.startswith("i32") else "(local.get 1)"
    func = (f"(func $f (param i64 i64 i64) (result i64) "
            f"({op} offset=2 (i32.wrap_i64 (local.get 0)) {value}) "
            f"(i64.load (i32.wrap_i64 (local.get 2))))")
    rng = random.Random(op)
    cases = []
    for _ in range(60):
        addr, val = rng.randrange(16, 500), rng.getrandbits(64)
        cases += [(addr, val, addr + d) for d in range(-6, 12)]
    compare(engines, build(harness(func, 3, DATA)), cases)


@pytest.mark.parametrize("op,size", [("i64.load", 8), ("i32.load", 4), ("i32.load16_u", 2),
                                     ("i32.load8_u", 1), ("i64.store", 8), ("i32.store16", 2),
                                     ("i32.store8", 1), ("i64.store32", 4)])
def test_bounds(engines, op, size):
    if "store" in op:
        value = "(i32.const 7)" if op.startswith("i32") else "(i64.const 7)"
        body = f"({op} (i32.wrap_i64 (local.get 0)) {value}) (i64.const 1)"
    else:
        body = _as_i64(op, f"({op} (i32.wrap_i64 (local.get 0)))")
    func = f"(func $f (param i64) (result i64) {body})"
    end = 2 * 65536
    cases = [(end - size - 1,), (end - size,), (end - size + 1,), (end - 1,), (end,),
             (0xFFFF_FFFF,), (0,)]
    pair = build(harness(func, 1, memory="2"))
    compare(engines, pair, cases)


def test_offset_past_the_end_traps(engines):
    func = "(func $f (param i64) (result i64) (i64.load offset=65530 (i32.wrap_i64 (local.get 0))))"
    compare(engines, build(harness(func, 1)), [(0,), (1,), (6,)])


def test_memory_grow_and_size(engines):
    # grow by n: old size or -1; then size, and a store/load in the new pages
    func = """(func $f (param i64) (result i64) (local $old i32)
      (local.set $old (memory.grow (i32.wrap_i64 (local.get 0))))
      (i64.store (i32.const 200000) (i64.const 0x1122334455667788))
      (i64.or (i64.shl (i64.extend_i32_u (local.get $old)) (i64.const 32))
              (i64.add (i64.extend_i32_u (memory.size)) (i64.load (i32.const 200000)))))"""
    pair = build(harness(func, 1, memory="1 6"))
    compare(engines, pair, [(0,), (1,), (2,), (3,), (4,), (5,), (6,), (1000,), (0xFFFF_FFFF,)])


def test_memory_grow_without_maximum_stops_at_the_engine_limit(engines):
    """16 MiB on both engines; on ZVM the area below linear memory counts too, so the
    last page that fits wasm's memory does not fit ZVM's: the grow answers -1 there, and
    the pages it grants can be written to their last byte (docs/zvm-lowering.md)."""
    from dataclasses import replace

    from lowering_helpers import ctx, encode, outcome

    grow = """(func $f (param i64) (result i64)
      (i64.extend_i32_u (memory.grow (i32.wrap_i64 (local.get 0)))))"""
    pair = build(harness(grow, 1))
    compare(engines, pair, [(0,), (254,), (256,), (1 << 16,)])
    wasm, zvm = (outcome(e, code, encode([(255,)])) for e, code in
                 zip(engines, (pair.wasm, pair.zvmc), strict=True))
    assert wasm == ("ok", (1).to_bytes(8, "little"))  # 256 pages: wasm's whole 16 MiB
    assert zvm == ("ok", (2**32 - 1).to_bytes(8, "little"))  # -1: it would not fit
    touch = """(func $f (param i64) (result i64)
      (drop (memory.grow (i32.wrap_i64 (local.get 0))))
      (i64.store8 (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 1))
                  (i64.const 7))
      (i64.extend_i32_u (memory.size)))"""
    lowered = build(harness(touch, 1)).zvmc
    rich = replace(ctx(encode([(254,)])), gas_limit=10**9)  # 16 MiB of ZVM memory
    result = engines[1].execute(lowered, "run", rich, lambda key: None)
    assert result.return_data == (255).to_bytes(8, "little")


def test_data_segments_and_globals(engines):
    extra = """(global $g (mut i64) (i64.const 0x0102030405060708))
      (global $k i32 (i32.const 0x7fffffff))
      (data (i32.const 100) "hello")
      (data (i32.const 102) "XY")"""
    func = """(func $f (param i64) (result i64)
      (global.set $g (i64.add (global.get $g) (local.get 0)))
      (i64.xor (global.get $g)
               (i64.add (i64.load (i32.const 100)) (i64.extend_i32_u (global.get $k)))))"""
    compare(engines, build(harness(func, 1, extra)), [(i * 977,) for i in range(50)])


def test_a_long_panic_message_is_cut_on_both_engines_not_bounds_checked_whole(engines):
    """panic reads at most 1,024 bytes: only those must lie in memory (docs/host-abi.md)."""
    from lowering_helpers import ctx

    from ghost_cli.exceptions import PanicError

    wat = """(module
      (import "ghost" "input_copy" (func $input_copy (param i32 i32 i32)))
      (import "ghost" "panic" (func $panic (param i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 64) "boom")
      (func (export "run")
        (call $input_copy (i32.const 0) (i32.const 0) (i32.const 8))
        (call $panic (i32.load (i32.const 0)) (i32.load (i32.const 4)))))"""
    pair = build(wat)
    for ptr, length in ((64, 4), (64, 0xFFFF_FFFF), (64, 1025), (65536 - 1024, 0xFFFF_FFFF)):
        data = ptr.to_bytes(4, "little") + length.to_bytes(4, "little")
        got = []
        for engine, code in zip(engines, (pair.wasm, pair.zvmc), strict=True):
            with pytest.raises(PanicError) as info:
                engine.execute(code, "run", ctx(data), lambda key: None)
            got.append(info.value.message)
        assert got[0] == got[1], (ptr, length)
        assert len(got[0]) >= min(length, 1024), (ptr, length)
