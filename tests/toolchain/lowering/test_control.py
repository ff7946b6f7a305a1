"""Control flow, locals, calls, recursion and call_indirect: lowered code against
wasmtime."""

from __future__ import annotations

import random

import pytest
from lowering_helpers import build, compare, harness

RNG_CASES = [(a, b) for a in (0, 1, 2, 3, 4, 5, 6, 7, 100, 2**31, 2**63, 2**64 - 1)
             for b in (0, 1, 5, 77, 2**32 + 3, 2**64 - 1)]


def _cases(n: int = 150) -> list[tuple[int, int]]:
    rng = random.Random(n)
    return RNG_CASES + [(rng.getrandbits(rng.randint(1, 64)), rng.getrandbits(64))
                        for _ in range(n)]


FUNCS = {
    "br_if carries a value past junk": """
    (func $f (param i64 i64) (result i64)
      block $a (result i64)
        i64.const 5
        i64.const 6
        local.get 0
        local.get 0
        local.get 1
        i64.lt_u
        br_if $a
        drop
        i64.add
        local.get 1
        i64.mul
      end
      i64.const 3
      i64.add)""",
    "br_table with a value": """
    (func $f (param i64 i64) (result i64)
      block $d (result i64)
        block $c (result i64)
          block $b (result i64)
            block $a (result i64)
              i64.const 9
              local.get 1
              local.get 0
              i32.wrap_i64
              br_table $a $b $c $a $b $d
            end
            i64.const 1000
            i64.add
          end
          i64.const 20000
          i64.add
        end
        i64.const 300000
        i64.add
      end)""",
    "br_table without values, many targets": """
    (func $f (param i64 i64) (result i64) (local $r i64)
      block $out
        block $z
          block $y
            block $x
              local.get 0
              i32.wrap_i64
              br_table $x $y $z $x $x $y $z $z $y $x $out $y $z $x $y $z $x $x $x $y $z
            end
            (local.set $r (i64.const 11))
            br $out
          end
          (local.set $r (i64.const 22))
          br $out
        end
        (local.set $r (i64.const 33))
      end
      (i64.add (local.get $r) (local.get 1)))""",
    "loop": """
    (func $f (param i64 i64) (result i64) (local $acc i64) (local $i i64)
      (local.set $i (i64.rem_u (local.get 0) (i64.const 300)))
      (block $done
        (loop $top
          (br_if $done (i64.eqz (local.get $i)))
          (local.set $acc (i64.add (local.get $acc) (i64.mul (local.get $i) (local.get 1))))
          (local.set $i (i64.sub (local.get $i) (i64.const 1)))
          (br $top)))
      (local.get $acc))""",
    "if else with results, nested": """
    (func $f (param i64 i64) (result i64)
      (if (result i64) (i64.lt_u (local.get 0) (local.get 1))
        (then (if (result i64) (i64.eqz (i64.and (local.get 0) (i64.const 1)))
                (then (i64.const 10)) (else (i64.sub (local.get 1) (local.get 0)))))
        (else (i64.add (local.get 0) (i64.const 7)))))""",
    "if without else, select, tee": """
    (func $f (param i64 i64) (result i64) (local $t i64)
      (if (i64.gt_u (local.get 0) (local.get 1)) (then (local.set $t (i64.const 99))))
      (i64.add (local.tee $t (i64.add (local.get $t) (local.get 1)))
               (select (local.get 0) (local.get 1) (i32.wrap_i64 (local.get 0)))))""",
    "return from inside blocks past junk": """
    (func $f (param i64 i64) (result i64)
      block
        block
          i64.const 1
          i64.const 2
          local.get 0
          local.get 0
          i64.const 50
          i64.lt_u
          br_if 1
          return
        end
      end
      local.get 1)""",
    "i32 select and comparisons": """
    (func $f (param i64 i64) (result i64)
      (i64.extend_i32_u
        (select (i32.wrap_i64 (local.get 1)) (i32.const -1)
                (i32.lt_s (i32.wrap_i64 (local.get 0)) (i32.wrap_i64 (local.get 1))))))""",
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_control_flow(engines, name):
    compare(engines, build(harness(FUNCS[name], 2)), _cases())


CALLS = {
    "argument order and many parameters": """
    (func $g (param i64 i64 i64 i64 i64 i64) (result i64)
      (i64.sub (i64.sub (i64.mul (local.get 0) (i64.const 3)) (local.get 1))
               (i64.add (local.get 2)
                        (i64.mul (local.get 5) (i64.sub (local.get 3) (local.get 4))))))
    (func $f (param i64 i64) (result i64)
      (call $g (local.get 0) (local.get 1) (i64.const 7) (local.get 1) (local.get 0)
               (i64.const 11)))""",
    "locals start at zero in every call": """
    (func $g (param i64) (result i64) (local $t i64) (local $u i32)
      (i64.add (local.get $t) (i64.extend_i32_u (local.get $u)))
      (local.set $t (local.get 0))
      (local.set $u (i32.const 5)))
    (func $f (param i64 i64) (result i64)
      (i64.add (call $g (local.get 0)) (call $g (local.get 1))))""",
    "factorial": """
    (func $fact (param i64) (result i64)
      (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
        (then (i64.const 1))
        (else (i64.mul (local.get 0) (call $fact (i64.sub (local.get 0) (i64.const 1)))))))
    (func $f (param i64 i64) (result i64) (call $fact (i64.rem_u (local.get 0) (i64.const 25))))""",
    "fibonacci keeps locals across recursive calls": """
    (func $fib (param i64) (result i64) (local $a i64)
      (if (i64.lt_u (local.get 0) (i64.const 2)) (then (return (local.get 0))))
      (local.set $a (call $fib (i64.sub (local.get 0) (i64.const 1))))
      (i64.add (local.get $a) (call $fib (i64.sub (local.get 0) (i64.const 2)))))
    (func $f (param i64 i64) (result i64) (call $fib (i64.rem_u (local.get 0) (i64.const 12))))""",
    "mutual recursion": """
    (func $even (param i64) (result i64)
      (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
        (else (call $odd (i64.sub (local.get 0) (i64.const 1))))))
    (func $odd (param i64) (result i64)
      (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
        (else (call $even (i64.sub (local.get 0) (i64.const 1))))))
    (func $f (param i64 i64) (result i64)
      (i64.add (call $even (i64.rem_u (local.get 0) (i64.const 150)))
               (i64.shl (call $odd (i64.rem_u (local.get 1) (i64.const 90))) (i64.const 1))))""",
}


@pytest.mark.parametrize("name", list(CALLS))
def test_calls(engines, name):
    compare(engines, build(harness(CALLS[name], 2)), _cases(60))


INDIRECT = """
  (type $unary (func (param i64) (result i64)))
  (type $binary (func (param i64 i64) (result i64)))
  (table 6 funcref)
  (elem (i32.const 0) $double $square $add $double)
  (elem (i32.const 5) $square)
  (func $double (param i64) (result i64) (i64.shl (local.get 0) (i64.const 1)))
  (func $square (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
  (func $add (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
"""


def test_call_indirect(engines):
    func = """(func $f (param i64 i64) (result i64)
      (call_indirect (type $unary) (local.get 1) (i32.wrap_i64 (local.get 0))))"""
    pair = build(harness(func, 2, INDIRECT))
    compare(engines, pair, [(i, v) for i in (0, 1, 3, 5) for v in (0, 3, 2**40 + 1)])
    # a type mismatch, a null slot, an index past the table: all trap
    compare(engines, pair, [(2, 1), (4, 1), (6, 1), (2**32 - 1, 1)])


def test_unreachable_traps_only_where_reached(engines):
    func = """(func $f (param i64 i64) (result i64)
      (if (i64.gt_u (local.get 0) (i64.const 100)) (then unreachable))
      (local.get 0))"""
    compare(engines, build(harness(func, 2)), [(1, 0), (100, 0), (101, 0)])
