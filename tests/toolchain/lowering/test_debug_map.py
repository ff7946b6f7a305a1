"""The lowering's debug map: ZVM pcs back to wasm instructions, frames and trap sites."""

from __future__ import annotations

import wasmtime

from ghost_cli.abi import Abi, Function
from ghost_cli.toolchain.debuginfo import zvm_frames
from ghost_cli.toolchain.lowering import lower, lower_with_debug
from ghost_cli.toolchain.lowering.callgraph import decode_body
from ghost_cli.toolchain.lowering.emitter import TRAP_BYTE
from ghost_cli.toolchain.lowering.function import SHADOW_STACK_EXHAUSTED, STACK_EXHAUSTED
from ghost_cli.toolchain.lowering.wasm_code import read_program
from ghost_cli.vm.zvm import disassemble

RUN = Abi((Function("run", (), None),))
WAT = """(module
  (global $sp (mut i32) (i32.const 4096))
  (func $inner (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0)))
  (func $rec (param i32) (result i32) (call $rec (local.get 0)))
  (func (export "run")
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (drop (call $inner (i32.const 1)))
    (drop (call $rec (i32.const 1)))))"""


def test_the_map_leaves_the_code_as_it_was():
    wasm = wasmtime.wat2wasm(WAT)
    code, debug = lower_with_debug(wasm, RUN)
    assert code == lower(wasm, RUN)
    assert debug["pcs"] == sorted(debug["pcs"]) and len(debug["pcs"]) == len(debug["marks"])


def test_every_mark_is_a_wasm_instruction_of_its_function():
    wasm = wasmtime.wat2wasm(WAT)
    program = read_program(wasm)
    _, debug = lower_with_debug(wasm, RUN)
    first = program.imported_funcs
    starts = {(f, ins.offset) for f in range(first, first + len(program.bodies))
              for ins in decode_body(program, f)}
    assert debug["marks"] and all(tuple(m) in starts for m in debug["marks"])


def test_trap_sites_name_the_wasm_trap_they_stand_for():
    wasm = wasmtime.wat2wasm(WAT)
    code, debug = lower_with_debug(wasm, RUN)
    kinds = set(debug["traps"].values())
    assert {"integer divide by zero", STACK_EXHAUSTED} <= kinds
    for pc in debug["traps"]:
        assert code[int(pc)] == TRAP_BYTE
    assert all(not i.valid for i in disassemble(code) if str(i.offset) in debug["traps"])


def test_the_shadow_stack_pointer_is_checked_only_when_asked():
    wasm = wasmtime.wat2wasm(WAT)
    _, plain = lower_with_debug(wasm, RUN)
    _, checked = lower_with_debug(wasm, RUN, shadow_stack=True)
    assert SHADOW_STACK_EXHAUSTED not in plain["traps"].values()
    assert SHADOW_STACK_EXHAUSTED in checked["traps"].values()


def test_a_backtrace_follows_the_return_addresses_in_static_frames():
    wasm = wasmtime.wat2wasm(WAT)
    _, debug = lower_with_debug(wasm, RUN)
    inner = 0  # $inner, a static frame: its return address lives at a fixed word
    frame = debug["static"][str(inner)]
    i = next(k for k, (f, _) in enumerate(debug["marks"]) if f == inner)
    pc = debug["pcs"][i]
    run = 2
    call_site = next(k for k, (f, _) in enumerate(debug["marks"]) if f == run and k > 0)
    ret = debug["pcs"][call_site + 1]  # somewhere after the call in `run`
    memory = bytearray(frame + 64)
    memory[frame:frame + 32] = ret.to_bytes(32, "big")
    frames = zvm_frames(debug, pc, bytes(memory))
    assert [f for f, _ in frames][:2] == [inner, run]


def test_a_host_calls_range_outside_memory_is_reported_as_wasm_reports_it():
    """On ZVM the range is checked before the HOSTCALL; the sidecar's trap site names
    it, so the error is host_memory_out_of_bounds as on wasm (docs/zvm-lowering.md)."""
    import pytest

    from ghost_cli.exceptions import ExecutionError
    from ghost_cli.toolchain.debuginfo import _zvm_trap
    from ghost_cli.vm.types import CallContext, Limits
    from ghost_cli.vm.wasm import WasmEngine
    from ghost_cli.vm.zvm import encode_zvmc, metadata_json
    from ghost_cli.vm.zvm.engine import ZvmEngine

    wasm = wasmtime.wat2wasm("""(module
      (import "ghost" "storage_write" (func $w (param i32 i32 i32 i32)))
      (memory (export "memory") 1)
      (func (export "run") (call $w (i32.const 0xffffff00) (i32.const 64) (i32.const 0)
                                    (i32.const 8))))""")
    code, debug = lower_with_debug(wasm, RUN)
    assert "host call storage_write: a range outside memory" in debug["traps"].values()
    ctx = CallContext(caller=bytes(20), address=bytes(20), input=b"", gas_limit=10**6)
    with pytest.raises(ExecutionError) as on_wasm:
        WasmEngine(Limits()).execute(wasm, "run", ctx, lambda key: None)
    zvmc = encode_zvmc(code, metadata_json({"abi": RUN.to_json()}))
    with pytest.raises(ExecutionError) as on_zvm:
        ZvmEngine(Limits()).execute(zvmc, "run", ctx, lambda key: None)
    assert on_zvm.value.code == "invalid_opcode"  # without the sidecar
    told = _zvm_trap(on_zvm.value, debug, "c")
    assert told.code == on_wasm.value.code == "host_memory_out_of_bounds"
    assert told.message == "host call storage_write: a range outside memory (in c)"
