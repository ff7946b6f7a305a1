"""`mutates` derived from the built module's call graph (toolchain/mutation.py): small
hand-written modules for each rule, then real builds of templates and of a contract
whose writes happen in helpers."""

from __future__ import annotations

import pytest
import wasmtime

from ghost_cli.toolchain.build import build_project
from ghost_cli.toolchain.mutation import mutating_exports
from ghost_cli.vm.wasm_module import read_metadata

IMPORTS = """
  (import "ghost" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "ghost" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ghost" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "ghost" "set_return" (func $ret (param i32 i32)))
"""


def _exports(body: str, imports: str = IMPORTS) -> dict[str, bool]:
    return mutating_exports(bytes(wasmtime.wat2wasm(f"(module {imports} (memory 1) {body})")))


def test_direct_and_transitive_writes():
    assert _exports("""
      (func $store (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
      (func $helper (call $store))
      (func $reads (drop (call $read (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)))
                   (call $ret (i32.const 0) (i32.const 0)))
      (func $emits (if (i32.const 0) (then
                     (call $emit (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))
      (func (export "set") (call $helper))
      (func (export "get") (call $reads))
      (func (export "rarely") (call $emits))
      (func (export "pure"))
    """) == {"set": True, "get": False, "rarely": True, "pure": False}


def test_call_indirect_reaches_every_function_the_table_can_hold():
    body = """
      (type $v (func))
      (table 2 funcref)
      (func $store (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
      (func $nothing)
      (func (export "dispatch") (call_indirect (type $v) (i32.const 0)))
      (func (export "plain") (call $nothing))
    """
    # the table holds only $nothing: the indirect call cannot write
    assert _exports(body + '(elem (i32.const 0) $nothing)') == {
        "dispatch": False, "plain": False}
    # it holds $store too (whatever the index): it may
    assert _exports(body + '(elem (i32.const 0) $nothing $store)') == {
        "dispatch": True, "plain": False}
    # a reference made by ref.func can reach a table at run time: counted too
    assert _exports(body + '(elem declare func $store)'
                    '(func (export "take") (drop (ref.func $store)))')["dispatch"] is True


def test_unknown_imports_tables_and_start_functions_count_as_writes():
    assert _exports('(func (export "f") (call $other))',
                    IMPORTS + '(import "elsewhere" "other" (func $other))') == {"f": True}
    imported_table = IMPORTS + '(import "ghost" "table" (table 1 funcref))'
    assert _exports('(type $v (func)) (func (export "f") (call_indirect (type $v) '
                    '(i32.const 0))) (func (export "g"))', imported_table) == {
                        "f": True, "g": False}
    assert _exports("""
      (func $init (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
      (start $init)
      (func (export "f"))
    """) == {"f": True}


def test_an_instruction_the_reader_does_not_know_counts_as_a_write():
    simd = '(func (export "f") (drop (v128.const i64x2 0 0))) (func (export "g"))'
    assert _exports(simd) == {"f": True, "g": False}


def test_counter_template_get_reads_and_increment_writes(built_counter):
    abi = built_counter.result.abi
    assert {f.name: f.mutates for f in abi.functions} == {
        "increment": True, "add": True, "get": False}
    # recorded in the deployed module's metadata, as ABI JSON
    written = read_metadata(built_counter.code)["abi"]["functions"]
    assert {f["name"]: f["mutates"] for f in written} == {
        "increment": True, "add": True, "get": False}


def test_token_template_abi(built_token):
    abi = built_token.result.abi
    assert {f.name: f.mutates for f in abi.functions} == {
        "transfer": True, "balance_of": False, "owner": False, "name": False,
        "total_supply": False}
    assert abi.constructor is not None and abi.constructor.mutates is True


HELPERS = """const ghost = @import("ghost");
comptime { ghost.exportContract(@This()); }

fn bump() void {
    ghost.storage.set(u64, "n", ghost.storage.get(u64, "n") +% 1);
}
fn note() void {
    ghost.emit("Noted", &.{ghost.topic(ghost.caller())}, "");
}
fn nothing() void {}

/// Writes through a helper it calls.
pub fn via_helper() void {
    @call(.never_inline, bump, .{});
}
/// Emits through a helper, on one branch only.
pub fn sometimes(n: u64) u64 {
    if (n > 100) @call(.never_inline, note, .{});
    return n;
}
/// Calls through a function pointer that may be `bump`.
pub fn indirect(which: u8) void {
    const ops = [_]*const fn () void{ nothing, bump };
    ops[which % 2]();
}
pub fn read_only() u64 {
    return ghost.storage.get(u64, "n");
}
pub fn double(a: u64) u64 {
    return a *% 2;
}
"""


@pytest.mark.parametrize("target", ["wasm", "zvm"])
def test_writes_through_helpers_and_pointers(make_project, target):
    project = make_project(HELPERS)
    [result] = build_project(project, target=target)
    assert {f.name: f.mutates for f in result.abi.functions} == {
        "via_helper": True, "sometimes": True, "indirect": True, "read_only": False,
        "double": False}
    assert result.metadata["abi"]["functions"][0]["mutates"] is True
