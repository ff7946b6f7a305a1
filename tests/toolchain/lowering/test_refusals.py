"""What the lowering refuses: a CompileError at build time naming the instruction and
the function, never code that would behave differently."""

from __future__ import annotations

import pytest
import wasmtime

from ghost_cli.abi import Abi, Function
from ghost_cli.exceptions import CompileError
from ghost_cli.toolchain.lowering import lower

ABI = Abi((Function("run", (), None),))


def _module(body: str, extra: str = "", locals_: str = "") -> bytes:
    return wasmtime.wat2wasm(f"""(module (memory 1) {extra}
      (func $helper {locals_} {body})
      (func (export "run") (call $helper)))""")


@pytest.mark.parametrize("body,instruction", [
    ("(drop (f32.add (f32.const 1) (f32.const 2)))", "f32.const"),
    ("(drop (f64.const 1.5))", "f64.const"),
    ("(drop (i64.trunc_f64_s (f64.const 1)))", "f64.const"),
    ("(drop (i32.reinterpret_f32 (f32.const 0)))", "f32.const"),
    ("(memory.copy (i32.const 0) (i32.const 1) (i32.const 1))", "memory.copy"),
    ("(memory.fill (i32.const 0) (i32.const 1) (i32.const 1))", "memory.fill"),
    ("(drop (i32.trunc_sat_f32_s (f32.const 1)))", "i32.trunc_sat_f32_s"),
    ("(drop (v128.const i64x2 0 0))", "SIMD instruction"),
    ("(drop (ref.is_null (ref.null func)))", "ref.null"),
])
def test_unsupported_instruction_is_named_with_its_function(body, instruction):
    with pytest.raises(CompileError) as err:
        lower(_module(body), ABI)
    message = err.value.message
    assert instruction in message and "function 'helper'" in message, message
    assert "\n" not in message


def test_float_locals_are_refused():
    with pytest.raises(CompileError, match="f64 value"):
        lower(_module("", locals_="(local f64)"), ABI)


def test_multi_value_blocks_are_refused():
    wasm = wasmtime.wat2wasm("""(module (type $t (func (result i32 i32)))
      (func (export "run") (block (type $t) (i32.const 1) (i32.const 2)) (drop) (drop)))""")
    with pytest.raises(CompileError, match="multi-value"):
        lower(wasm, ABI)


def test_unreachable_functions_are_not_lowered():
    wasm = wasmtime.wat2wasm("""(module
      (func $dead (result f32) (f32.const 1))
      (func (export "run")))""")
    assert lower(wasm, ABI)


def test_module_level_refusals():
    imported_memory = wasmtime.wat2wasm(
        '(module (import "env" "memory" (memory 1)) (func (export "run")))')
    with pytest.raises(CompileError, match="importing a memory"):
        lower(imported_memory, ABI)
    float_global = wasmtime.wat2wasm(
        '(module (global f64 (f64.const 1)) (func (export "run")))')
    with pytest.raises(CompileError, match="global of type f64"):
        lower(float_global, ABI)
    with pytest.raises(CompileError, match="not exported"):
        lower(wasmtime.wat2wasm("(module (func (export \"other\")))"), ABI)


def test_data_segment_outside_memory_is_refused():
    wasm = wasmtime.wat2wasm(
        '(module (memory 1) (data (i32.const 65534) "abc") (func (export "run")))')
    with pytest.raises(CompileError, match="does not fit"):
        lower(wasm, ABI)


def test_imports_outside_the_host_module_are_refused():
    wasm = wasmtime.wat2wasm("""(module (import "env" "f" (func $f))
      (func (export "run") (call $f)))""")
    with pytest.raises(CompileError, match="module 'env'"):
        lower(wasm, ABI)


def test_an_exported_import_is_refused():
    wasm = wasmtime.wat2wasm('(module (import "ghost" "input_size" (func (result i32))) '
                             '(export "run" (func 0)))')
    with pytest.raises(CompileError, match="imported function"):
        lower(wasm, ABI)


def test_a_ghost_import_that_is_no_host_function_is_named_with_its_caller():
    wasm = wasmtime.wat2wasm("""(module
      (import "ghost" "sig_verify2"
        (func $v (param i32 i32 i32 i32 i32 i32) (result i32)))
      (memory 1)
      (func $helper (drop (call $v (i32.const 0) (i32.const 0) (i32.const 0)
                                   (i32.const 0) (i32.const 0) (i32.const 0))))
      (func (export "run") (call $helper)))""")
    with pytest.raises(CompileError) as err:
        lower(wasm, ABI)
    message = err.value.message
    assert "host function 'sig_verify2'" in message and "function 'helper'" in message, message
    assert err.value.details["function"] == "function 'helper'"
