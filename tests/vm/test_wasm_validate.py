"""What the engine accepts: a binary module, importing only host ABI v1, exporting memory."""

from __future__ import annotations

import pytest
import wasmtime
from wasm_helpers import make_ctx, wat_module

from ghost_cli.exceptions import InvalidModuleError, NotFoundError, UnknownImportError
from ghost_cli.vm.types import Limits
from ghost_cli.vm.wasm import WasmEngine


def test_a_minimal_contract_validates(engine: WasmEngine) -> None:
    code = wat_module('(func (export "f")) (func (export "g") (param i32))')
    engine.validate(code)
    assert engine.exports(code) == ["f"]  # g takes a parameter: not a contract function


def test_unknown_import_is_named(engine: WasmEngine) -> None:
    code = wasmtime.wat2wasm("""(module
      (import "env" "abort" (func))
      (memory (export "memory") 1))""")
    with pytest.raises(UnknownImportError, match="env.abort"):
        engine.validate(code)


def test_unknown_host_function_is_named(engine: WasmEngine) -> None:
    code = wasmtime.wat2wasm("""(module
      (import "ghost" "self_destruct" (func))
      (memory (export "memory") 1))""")
    with pytest.raises(UnknownImportError, match="ghost.self_destruct"):
        engine.validate(code)


def test_host_import_with_the_wrong_signature(engine: WasmEngine) -> None:
    code = wasmtime.wat2wasm("""(module
      (import "ghost" "storage_read" (func (param i32 i32) (result i32)))
      (memory (export "memory") 1))""")
    with pytest.raises(UnknownImportError) as info:
        engine.validate(code)
    assert info.value.message == (
        "module imports ghost.storage_read with type (i32, i32) -> i32; host ABI v1 has "
        "(i32, i32, i32, i32) -> i32")


def test_non_function_import_is_refused(engine: WasmEngine) -> None:
    code = wasmtime.wat2wasm("""(module
      (import "ghost" "block_height" (global i64)))""")
    with pytest.raises(UnknownImportError, match="ghost.block_height"):
        engine.validate(code)


@pytest.mark.parametrize("code", [
    b"",
    b"hello",
    b"(module)",  # WAT text: wasmtime would take it; contracts are binaries
    b"\0asm\x01\0\0\0garbage",
])
def test_corrupt_bytes_are_an_invalid_module(engine: WasmEngine, code: bytes) -> None:
    with pytest.raises(InvalidModuleError, match="^invalid WebAssembly module: ") as info:
        engine.validate(code)
    assert "\n" not in info.value.message


def test_truncated_module(engine: WasmEngine) -> None:
    code = wat_module('(func (export "f"))')
    with pytest.raises(InvalidModuleError, match="invalid WebAssembly module: .*end"):
        engine.validate(code[:-3])


def test_oversized_module_is_refused_before_parsing(engine: WasmEngine) -> None:
    code = b"\0asm\x01\0\0\0" + bytes(engine.limits.module_bytes)
    with pytest.raises(InvalidModuleError, match="above the 524288-byte limit"):
        engine.validate(code)


def test_module_limit_is_configurable() -> None:
    code = wat_module('(func (export "f"))')
    with pytest.raises(InvalidModuleError, match="byte limit"):
        WasmEngine(Limits(module_bytes=len(code) - 1)).validate(code)


def test_memory_must_be_exported(engine: WasmEngine) -> None:
    code = wasmtime.wat2wasm('(module (memory 1) (func (export "f")))')
    with pytest.raises(InvalidModuleError, match="export its memory as 'memory'"):
        engine.validate(code)


def test_memory_minimum_above_the_limit(engine: WasmEngine) -> None:
    code = wat_module('(func (export "f"))', memory='(memory (export "memory") 300)')
    with pytest.raises(InvalidModuleError, match="above the 16 MiB limit"):
        engine.validate(code)


def test_disabled_proposals_are_refused(engine: WasmEngine) -> None:
    shared = wasmtime.wat2wasm('(module (memory (export "memory") 1 1 shared))')
    with pytest.raises(InvalidModuleError):
        engine.validate(shared)


def test_function_with_a_signature_is_not_callable(engine: WasmEngine) -> None:
    code = wat_module('(func (export "f") (param i32) (result i32) (local.get 0))')
    with pytest.raises(InvalidModuleError, match=r"export 'f' has type \(i32\) -> i32"):
        engine.execute(code, "f", make_ctx(), {}.get)


def test_missing_function_and_non_function_export(engine: WasmEngine) -> None:
    code = wat_module('(func (export "f"))')
    for name in ("g", "memory"):
        with pytest.raises(NotFoundError):
            engine.execute(code, name, make_ctx(), {}.get)


def test_bulk_memory_is_refused_because_it_cannot_be_metered(engine: WasmEngine) -> None:
    # One memory.fill of 16 MiB would cost a single unit of fuel.
    code = wat_module("""(func (export "f")
        (memory.fill (i32.const 0) (i32.const 0) (i32.const 65536)))""")
    with pytest.raises(InvalidModuleError, match="bulk-memory instructions"):
        engine.validate(code)
