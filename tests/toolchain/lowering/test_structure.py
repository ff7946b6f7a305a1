"""The shape of lowered code: dispatcher, host calls, data blob, frames, determinism."""

from __future__ import annotations

import wasmtime
from lowering_helpers import build, ctx, harness, outcome

from ghost_cli.abi import Abi, Function, Param
from ghost_cli.toolchain.lowering import lower
from ghost_cli.toolchain.lowering.callgraph import build_callgraph
from ghost_cli.toolchain.lowering.emitter import TRAP_BYTE
from ghost_cli.toolchain.lowering.wasm_code import read_program
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.zvm import disassemble, selector

TWO = Abi((Function("get", (), "u64"), Function("put", (Param("v", "u64"),), None)))
TWO_WAT = """(module
  (import "ghost" "set_return" (func $ret (param i32 i32)))
  (import "ghost" "storage_has" (func $has (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\\07\\00\\00\\00\\00\\00\\00\\00")
  (func (export "get") (call $ret (i32.const 16) (i32.const 8)))
  (func (export "put") (drop (call $has (i32.const 0) (i32.const 1)))))"""


def test_dispatcher_matches_each_selector_and_host_calls_use_the_table():
    code = lower(wasmtime.wat2wasm(TWO_WAT), TWO)
    instrs = disassemble(code)
    pushed = {i.immediate for i in instrs if i.name == "PUSH4"}
    for fn in TWO.functions:
        assert int.from_bytes(selector(fn.signature), "big") in pushed
    hosts = [HOST_FUNCTIONS[i.immediate].name for i in instrs if i.name == "HOSTCALL"]
    assert sorted(hosts) == ["set_return", "storage_has"]


def test_dispatch_runs_the_selected_function_and_refuses_unknown_ones(engines):
    pair = build(TWO_WAT, TWO)
    _, zvm = engines
    assert outcome(zvm, pair.zvmc, b"", "get") == ("ok", (7).to_bytes(8, "little"))
    assert outcome(zvm, pair.zvmc, b"", "put") == ("ok", b"")
    assert outcome(zvm, pair.zvmc, b"", "nope()") == ("revert", "unknown function")


def test_lowering_is_deterministic():
    wasm = wasmtime.wat2wasm(harness("(func $f (param i64) (result i64) (local.get 0))", 1))
    abi = Abi((Function("run", (), None),))
    assert lower(wasm, abi) == lower(wasm, abi)


def test_data_blob_never_leaves_a_truncated_push():
    # the blob ends in a PUSH32 opcode byte: padding must complete its immediate
    wat = TWO_WAT.replace('(data (i32.const 16) "\\07', '(data (i32.const 40) "\\16") '
                          '(data (i32.const 16) "\\07')
    code = lower(wasmtime.wat2wasm(wat), TWO)
    last = disassemble(code)[-1]
    assert last.name == "PUSH32" and last.valid and last.offset + 33 == len(code)


def test_traps_are_an_invalid_byte_only_when_needed():
    abi = Abi((Function("run", (), None),))
    plain = lower(wasmtime.wat2wasm('(module (func (export "run")))'), abi)
    assert all(i.valid for i in disassemble(plain))
    trapping = lower(wasmtime.wat2wasm('(module (func (export "run") unreachable))'), abi)
    assert [i.opcode for i in disassemble(trapping) if not i.valid] == [TRAP_BYTE]


def test_only_recursive_functions_get_a_frame_stack():
    wat = """(module
      (func $a (call $b)) (func $b (call $a)) (func $self (call $self))
      (func $leaf) (func $top (export "run") (call $a) (call $self) (call $leaf)))"""
    program = read_program(wasmtime.wat2wasm(wat))
    graph = build_callgraph(program, [4])
    assert graph.reachable == (0, 1, 2, 3, 4)
    assert graph.recursive == {0, 1, 2}


def test_frames_of_recursion_run_out_cleanly(engines):
    func = """(func $deep (param i64) (result i64)
      (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
        (else (i64.add (i64.const 1) (call $deep (i64.sub (local.get 0) (i64.const 1)))))))
      (func $f (param i64) (result i64) (call $deep (local.get 0)))"""
    pair = build(harness(func, 1))
    _, zvm = engines
    ok = outcome(zvm, pair.zvmc, (200).to_bytes(8, "little"))
    assert ok == ("ok", (200).to_bytes(8, "little"))
    # far past the frame stack: a clean trap, not a crash or a wrong answer
    assert outcome(zvm, pair.zvmc, (100_000).to_bytes(8, "little")) == ("trap",)
    assert ctx(b"").gas_limit  # the context used above has gas to spare
