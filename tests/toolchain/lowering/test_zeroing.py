"""The must-assign analysis that decides which locals a prologue zeroes."""

from __future__ import annotations

import wasmtime

from ghost_cli.toolchain.lowering.callgraph import decode_body
from ghost_cli.toolchain.lowering.wasm_code import read_program
from ghost_cli.toolchain.lowering.zeroing import locals_to_zero


def _zeroed(body: str, nlocals: int = 3) -> list[int]:
    locals_ = " ".join(["i64"] * nlocals)
    wasm = wasmtime.wat2wasm(f"(module (func (param i64) (local {locals_}) {body}))")
    program = read_program(wasm)
    return locals_to_zero(decode_body(program, 0), 1, nlocals)


def test_written_first_needs_no_zero():
    assert _zeroed("(local.set 1 (i64.const 1)) (drop (local.get 1))") == []


def test_read_first_needs_zero():
    assert _zeroed("(drop (local.get 2)) (local.set 2 (i64.const 1))") == [2]


def test_a_write_on_one_branch_only_is_not_enough():
    body = """(if (i64.eqz (local.get 0)) (then (local.set 1 (i64.const 1))))
              (drop (local.get 1))"""
    assert _zeroed(body) == [1]
    both = """(if (i64.eqz (local.get 0)) (then (local.set 1 (i64.const 1)))
                                         (else (local.set 1 (i64.const 2))))
              (drop (local.get 1))"""
    assert _zeroed(both) == []


def test_a_branch_past_the_write_keeps_the_zero():
    body = """(block (br_if 0 (i64.eqz (local.get 0))) (local.set 1 (i64.const 1)))
              (drop (local.get 1))"""
    assert _zeroed(body) == [1]


def test_loops_read_the_entry_state():
    body = """(loop (drop (local.get 1)) (local.set 1 (i64.const 1))
                    (br_if 0 (i64.eqz (local.get 0))))"""
    assert _zeroed(body) == [1]
    body = """(local.set 3 (i64.const 0)) (loop (drop (local.get 3)) (br_if 0 (i32.const 0)))"""
    assert _zeroed(body) == []


def test_dead_code_reads_do_not_count():
    assert _zeroed("(return) (drop (local.get 1))") == []
