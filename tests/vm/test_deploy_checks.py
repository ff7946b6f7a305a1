"""Deploys that could never be called, or that would cost the node before the sender, are
refused with one line, before anything is compiled or cached, and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wasm_helpers import wat_module

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import GasLimitTooHighError, InvalidModuleError, OutOfGasError
from ghost_cli.formats import WASM
from ghost_cli.vm import gas
from ghost_cli.vm.wasm_module import METADATA_SECTION, add_custom_section

GET = '(func (export "get") (call $set_return (i32.const 0) (i32.const 8)))'
ABI_GET = {"version": 1, "functions": [{"name": "get", "inputs": [], "output": "u64"}]}


def with_metadata(code: bytes, metadata: object) -> bytes:
    payload = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
    return add_custom_section(code, METADATA_SECTION, payload)


def contract(body: str = GET, abi: object = ABI_GET, **kw: str) -> bytes:
    return with_metadata(wat_module(body, **kw), {"abi": abi})


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "modules"


@pytest.fixture
def sandbox(tmp_path: Path, cache_dir: Path):
    with Sandbox(tmp_path / "sandbox.db", cache_dir=cache_dir,
                 clock=lambda: 1_700_000_000) as sb:
        yield sb


def nothing_compiled(sandbox: Sandbox, cache_dir: Path) -> bool:
    wasm = sandbox.engines.engine_for(WASM.magic)
    return len(wasm._modules) == 0 and not list(cache_dir.glob("*.cwasm"))


def refused_before_compiling(sandbox: Sandbox, cache_dir: Path, code: bytes, what: str,
                             total: int, limit: int) -> None:
    """A deploy refused by a compile-cost limit: one line, nothing compiled or recorded."""
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(code, gas_limit=gas.MAX_TX_GAS)
    assert info.value.message == (
        f"invalid WebAssembly module: {what} come to {total:,}, at most {limit:,} allowed "
        "(it would take longer to compile than a deploy pays for)")
    assert nothing_compiled(sandbox, cache_dir)
    assert sandbox.store.height() == 0


def test_a_good_contract_deploys_and_runs(sandbox: Sandbox) -> None:
    receipt = sandbox.deploy(contract(), name="ok")
    assert receipt.gas_used == gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(contract())
    assert sandbox.query("ok", "get").result == 0


BAD_METADATA = [
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
    ({"abi": []}, "'abi' is not a JSON object"),
    ({"abi": {"functions": 7}}, "'functions' is not a list"),
    ({"abi": {"functions": [5]}}, "function #0 is not a JSON object"),
    ({"abi": {"functions": [{"inputs": []}]}}, "function #0 has no valid name"),
    ({"abi": {"functions": [{"name": "get", "inputs": 3}]}}, "'inputs' is not a list"),
    ({"abi": {"functions": [{"name": "get", "inputs": [{"name": "a", "type": "u7"}]}]}},
     "unknown type 'u7'"),
    ({"abi": {"functions": [{"name": "get", "output": "u7"}]}}, "unknown type 'u7'"),
    ({"abi": {"functions": [{"name": "get"}, {"name": "get"}]}},
     "function 'get' appears twice"),
    ({"abi": {"version": 3, "functions": []}}, "version 3 is not supported"),
    ({"no_abi": 1}, "no ghost metadata with an ABI"),
]


@pytest.mark.parametrize(("metadata", "reason"), BAD_METADATA)
def test_malformed_metadata_is_an_invalid_module(
        sandbox: Sandbox, cache_dir: Path, metadata: object, reason: str) -> None:
    before = sandbox.store.counts()
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(with_metadata(wat_module(GET), metadata))
    assert reason in info.value.message
    assert "\n" not in info.value.message and info.value.exit_code == 5
    assert sandbox.store.counts() == before
    assert nothing_compiled(sandbox, cache_dir)


UNCALLABLE = [
    # A table bomb: instantiating it would be refused at every call.
    (contract(GET + "(table 100000000 funcref)"), "table 0 starts at 100000000 elements"),
    (contract(GET + "(table 1 funcref) (table 1 funcref) (table 1 funcref) (table 1 funcref)"
              "(table 1 funcref)"), "5 tables, at most 4"),
    # The ABI names an export that is a global, a function with a signature, or nothing.
    (contract('(global (export "get") i32 (i32.const 0))'),
     "ABI function 'get' is exported as a global, not a function"),
    (contract('(func (export "get") (param i32))'),
     "ABI function 'get' is exported with type (i32) -> ()"),
    (contract('(func (export "other"))'), "ABI function 'get' is not exported"),
    # A start function would run at every call, outside the functions the ABI names.
    (contract(GET + '(func $init) (start $init)'), "it has a start function"),
]


@pytest.mark.parametrize(("code", "reason"), UNCALLABLE)
def test_contracts_that_can_never_be_called_are_refused(
        sandbox: Sandbox, cache_dir: Path, code: bytes, reason: str) -> None:
    before = sandbox.store.counts()
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(code)
    assert reason in info.value.message
    assert sandbox.store.counts() == before
    assert nothing_compiled(sandbox, cache_dir)


def test_deploy_gas_is_checked_after_the_refusals_and_before_the_compile(
        sandbox: Sandbox, cache_dir: Path) -> None:
    code = contract()
    with pytest.raises(OutOfGasError, match="deploying"):
        sandbox.deploy(code, gas_limit=gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(code) - 1)
    # Not even a module: refused (nothing recorded) whatever the gas limit.
    nonce = sandbox.store.nonce(sandbox.default_sender)
    with pytest.raises(InvalidModuleError):
        sandbox.deploy(b"\0asm" + bytes(100_000), gas_limit=gas.TX_BASE)
    assert sandbox.store.nonce(sandbox.default_sender) == nonce
    assert nothing_compiled(sandbox, cache_dir)


def test_invalid_code_is_refused_by_validation_not_compiled(
        sandbox: Sandbox, cache_dir: Path) -> None:
    # Well-formed sections, metadata and ABI, but a function body that does not type-check.
    body = wat_module('(func (export "get") (drop (i32.add (i32.const 1))))')
    with pytest.raises(InvalidModuleError, match="^invalid WebAssembly module: "):
        sandbox.deploy(with_metadata(body, {"abi": ABI_GET}))
    assert nothing_compiled(sandbox, cache_dir)


def test_gas_limit_above_the_cap_is_refused_before_anything_runs(sandbox: Sandbox) -> None:
    sandbox.deploy(contract(), name="c")
    before = sandbox.store.counts()
    nonce = sandbox.store.nonce(sandbox.default_signer.address)
    for attempt in (
        lambda: sandbox.call("c", "get", gas_limit=gas.MAX_TX_GAS + 1),
        lambda: sandbox.deploy(contract(), gas_limit=100_000_000_000),
        lambda: sandbox.query("c", "get", gas_limit=100_000_000_000),
    ):
        with pytest.raises(GasLimitTooHighError) as info:
            attempt()
        assert info.value.message.endswith(f"above the per-transaction cap of {gas.MAX_TX_GAS}")
        assert info.value.exit_code == 13 and info.value.code == "gas_limit_too_high"
    assert sandbox.store.counts() == before
    assert sandbox.store.nonce(sandbox.default_signer.address) == nonce
    assert sandbox.call("c", "get", gas_limit=gas.MAX_TX_GAS).result == 0


def test_the_engine_refuses_them_too(tmp_path: Path) -> None:
    """WasmEngine.check is the engine's half, usable without a chain."""
    from ghost_cli.vm.wasm import WasmEngine

    engine = WasmEngine(cache_dir=tmp_path)
    for code, _ in UNCALLABLE:
        with pytest.raises(InvalidModuleError):
            engine.check(code)
    engine.check(contract())
    assert not list(tmp_path.glob("*.cwasm"))
    engine.validate(contract())
    assert len(list(tmp_path.glob("*.cwasm"))) == 1


def test_the_backstop_ends_a_sandbox_call_with_timeout_and_records_it_as_failed(
        tmp_path: Path) -> None:
    from ghost_cli.exceptions import TimeoutError_
    from ghost_cli.vm.types import Limits

    spin = contract('(func (export "get") (loop $l (drop (call $block_height)) (br $l)))')
    with Sandbox(tmp_path / "t.db", limits=Limits(timeout_seconds=0.2),
                 clock=lambda: 1_700_000_000) as sb:
        sb.deploy(spin, name="spin")
        before = sb.store.counts()
        nonce = sb.store.nonce(sb.default_signer.address)
        with pytest.raises(TimeoutError_) as info:
            sb.call("spin", "get", gas_limit=gas.MAX_TX_GAS)
        assert info.value.code == "timeout" and info.value.exit_code == 6
        assert info.value.gas_used == gas.MAX_TX_GAS
        assert "0.2s wall-clock limit" in info.value.message
        # Like any transaction that ran and failed, it is paid for: its nonce is used and
        # a failed receipt recorded; nothing else changes (no storage, no events).
        after = sb.store.counts()
        assert after == {**before, "receipts": before["receipts"] + 1,
                         "blocks": before["blocks"] + 1}
        assert sb.store.nonce(sb.default_signer.address) == nonce + 1
        receipt = sb.receipt(bytes.fromhex(info.value.details["tx_hash"][2:]))
        assert receipt.status == "failed" and receipt.error["code"] == "timeout"


def test_a_module_with_too_many_functions_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path) -> None:
    from ghost_cli.vm.wasm.checks import MAX_FUNCTIONS

    many = "".join(f"(func $f{i})" for i in range(MAX_FUNCTIONS + 1))
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + many), gas_limit=gas.MAX_TX_GAS)
    assert info.value.message == (
        f"invalid WebAssembly module: it defines {MAX_FUNCTIONS + 2} functions, "
        f"at most {MAX_FUNCTIONS} allowed")
    assert nothing_compiled(sandbox, cache_dir)


def _nested_loops(n_locals: int, loops: int, *, consts: int = 0) -> str:
    """A function using all its locals inside `loops` nested loops (what makes Cranelift's
    compile grow with locals squared times loops), plus `consts` `i32.const 3`s, whose
    0x03 bytes look like `loop`s to anything that does not decode."""
    uses = "".join(f"(local.set {i} (i32.add (local.get {i}) (local.get {(i + 1) % n_locals})))"
                   for i in range(n_locals))
    pads = "(drop (i32.const 3))" * consts
    return (f"(func $bomb (local {'i32 ' * n_locals}) {pads}" + "(loop " * loops + uses
            + ")" * loops + ")")


def test_a_module_whose_compile_would_outrun_its_deploy_gas_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path) -> None:
    """1,000 locals across 400 loops: a 12 KB module, 0.4 s of compile; 2,000 across
    2,000 took 11 s (docs/host-abi.md, "Deploy checks")."""
    from ghost_cli.vm.wasm.checks import MAX_LOCAL_LOOPS

    refused_before_compiling(sandbox, cache_dir, contract(GET + _nested_loops(1000, 400)),
                             "its functions' locals squared times loops", 400_000_000,
                             MAX_LOCAL_LOOPS)


def test_loops_are_counted_as_instructions_not_as_bytes(sandbox: Sandbox) -> None:
    """2,000 locals and 200 `i32.const 3` but a single loop: 4 million, far under."""
    code = contract(GET + _nested_loops(2000, 1, consts=200))
    assert sandbox.deploy(code, gas_limit=gas.MAX_TX_GAS).address


@pytest.mark.parametrize(("name", "body", "count"), [
    # 20,000 `br_if`s in one block: 80 KB, 3.6 s of compile
    ("branches", "(block " + "(br_if 0 (local.get 0))" * 20_000 + ")", 20_001),
    # 8,000 flat loops: 56 KB, 2.8 s; a loop counts twice
    ("loops", "(loop (br_if 0 (local.get 0)))" * 8_000, 24_000),
    # nested ifs that set a local: 16,000 deep took 3.8 s
    ("nested ifs", "(if (local.get 0) (then (local.set 0 (i32.const 1))" * 5_000
     + "))" * 5_000, 5_000),
    # 20 br_tables, each to 1,000 different blocks: 41 KB, 1.0 s; a table counts its
    # distinct labels
    ("br_tables", "(block " * 1_000 + ("(block (br_table "
     + " ".join(str(i) for i in range(1_000)) + " 0 (local.get 0)))") * 20 + ")" * 1_000,
     1_000 + 20 * (1 + 1_000)),
])
def test_a_function_with_too_many_blocks_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path, name: str, body: str, count: int) -> None:
    from ghost_cli.vm.wasm.checks import MAX_BLOCKS_SQUARED

    refused_before_compiling(sandbox, cache_dir, contract(GET + f"(func $bomb (param i32) {body})"),
                             "its functions' blocks and branches squared", count * count,
                             MAX_BLOCKS_SQUARED)


def test_a_br_table_counts_its_distinct_labels_not_its_targets(sandbox: Sandbox) -> None:
    """60,000 targets to two labels: 60 KB, 0.05 s of compile, and 4 blocks."""
    table = "(block (block (br_table " + "0 1 " * 30_000 + "0 (local.get 0))))"
    assert sandbox.deploy(contract(GET + f"(func $f (param i32) {table})"),
                          gas_limit=gas.MAX_TX_GAS).address


def test_blocks_are_counted_as_instructions_not_as_bytes(sandbox: Sandbox) -> None:
    """5,000 `i32.const 13` (a `br_if` byte each) after a saturating truncation (an
    instruction the decoder reads past) but 1,000 real branches: 1 million, under."""
    pads = "(drop (i32.trunc_sat_f32_s (f32.const 1)))" + "(drop (i32.const 13))" * 5_000
    branches = "(block " + "(br_if 0 (local.get 0))" * 999 + ")"
    code = contract(GET + f"(func $f (param i32) {pads} {branches})")
    assert sandbox.deploy(code, gas_limit=gas.MAX_TX_GAS).address


def test_the_limit_is_over_the_whole_module(sandbox: Sandbox) -> None:
    """Split into functions each well under, the squares still add up."""
    one = "(func (param i32) (block " + "(br_if 0 (local.get 0))" * 1_999 + "))"
    with pytest.raises(InvalidModuleError, match=r"squared come to 24,000,000,"):
        sandbox.deploy(contract(GET + one * 6), gas_limit=gas.MAX_TX_GAS)


def test_a_module_with_too_many_calls_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path) -> None:
    """250,000 calls in one 500 KB function took 2.5 s to compile; 40,000 is 80 KB."""
    from ghost_cli.vm.wasm.checks import MAX_CALLS

    code = contract(GET + "(func $g) (func $storm " + "(call $g)" * 40_000 + ")")
    refused_before_compiling(sandbox, cache_dir, code, "its call instructions", 40_001,
                             MAX_CALLS)


def test_calls_are_counted_as_instructions_not_as_bytes(sandbox: Sandbox) -> None:
    """30,000 calls and 5,000 `i32.const 16` (a `call` byte each): 30,001 calls, under."""
    code = contract(GET + "(func $g) (func $f " + "(call $g)" * 30_000
                    + "(drop (i32.const 16))" * 5_000 + ")")
    assert sandbox.deploy(code, gas_limit=gas.MAX_TX_GAS).address


def test_a_deploy_decodes_its_module_once(sandbox: Sandbox, monkeypatch) -> None:
    """Checked before its gas and again before its compile, the code is read once; a
    refused code is read again each time it is sent."""
    from ghost_cli.vm.wasm import engine as wasm_engine

    seen: list[int] = []
    real = wasm_engine.precheck
    monkeypatch.setattr(wasm_engine, "precheck",
                        lambda code, limits: (seen.append(len(code)), real(code, limits)))
    sandbox.deploy(contract(), name="once")
    assert len(seen) == 1
    bad = contract(GET + "(func $g) (func " + "(call $g)" * 40_000 + ")")
    for _ in range(2):
        with pytest.raises(InvalidModuleError):
            sandbox.deploy(bad, gas_limit=gas.MAX_TX_GAS)
    assert len(seen) == 3


@pytest.mark.parametrize("body", [
    # 1,000 blocks carrying 1,000 values each: a 12 KB module took 24 s to compile
    "(type $t (func (param i32) (result i32)))"
    "(func $f (result i32) (i32.const 1) (block (type $t)))",
    "(func $pair (result i32 i32) (i32.const 1) (i32.const 2))",
])
def test_multi_value_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path, body: str) -> None:
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + body), gas_limit=gas.MAX_TX_GAS)
    assert info.value.message.startswith("module uses multi-value (a function with several "
                                          "results, or a block with parameters")
    assert nothing_compiled(sandbox, cache_dir)
    assert sandbox.store.height() == 0


def test_a_module_with_too_many_locals_is_refused_before_compiling(
        sandbox: Sandbox, cache_dir: Path) -> None:
    """Unused locals cost the compile too: 200 functions of 50,000, a 1.6 KB module,
    took 1 GB of memory."""
    from ghost_cli.vm.wasm.checks import MAX_LOCALS

    many = "(func (local i32 i64 " + "i32 " * 49_998 + "))"
    refused_before_compiling(sandbox, cache_dir, contract(GET + many * 3),
                             "its functions' locals", 150_000, MAX_LOCALS)
    assert sandbox.deploy(contract(GET + many), gas_limit=gas.MAX_TX_GAS).address


@pytest.mark.parametrize(("body", "message"), [
    # 20,000 `f64.sqrt`s took 0.4 s to compile and 520,000 took 20 s (canonicalized NaNs)
    ("(func $f (param f64) (result f64) (local.get 0)" + " f64.sqrt" * 20_000 + ")",
     "its float arithmetic and conversion instructions come to 20,000, at most 16,384 "
     "allowed"),
    # 20,000 `table.grow`s took 3 s and 420 MB
    ("(table 1 funcref) (func $g (param i32)"
     + " (drop (table.grow 0 (ref.null func) (local.get 0)))" * 2_000
     + " (drop (table.get 0 (local.get 0)))" * 49 + ")",
     "its table instructions come to 2,049, at most 2,048 allowed"),
])
def test_float_and_table_instructions_are_counted(
        sandbox: Sandbox, cache_dir: Path, body: str, message: str) -> None:
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + body), gas_limit=gas.MAX_TX_GAS)
    assert message in info.value.message
    assert nothing_compiled(sandbox, cache_dir)


def test_within_the_counts_floats_and_tables_deploy(sandbox: Sandbox) -> None:
    floats = "(func $f (param f64) (result f64) (local.get 0)" + " f64.sqrt" * 1_000 + ")"
    tables = ("(table 1 funcref) (func $g (param i32)"
              + " (drop (table.grow 0 (ref.null func) (local.get 0)))" * 100 + ")")
    assert sandbox.deploy(contract(GET + floats + tables), gas_limit=gas.MAX_TX_GAS).address


@pytest.mark.parametrize(("body", "feature"), [
    ("(func $v (drop (v128.const i64x2 0 0)))", "SIMD support is not enabled"),
    ("(func $t (return_call $t))", "tail calls support is not enabled"),
])
def test_simd_and_tail_calls_are_off(sandbox: Sandbox, cache_dir: Path, body: str,
                                     feature: str) -> None:
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + body), gas_limit=gas.MAX_TX_GAS)
    assert feature in info.value.message
    assert nothing_compiled(sandbox, cache_dir)


def test_cranelift_allocates_registers_in_one_pass() -> None:
    """Its default allocator's time grew with the square of the values live at once:
    40,000 `i32.clz`s left on the operand stack (240 KB) took 59 s to compile, 0.12 s in
    one pass. A timing would be a threshold; this keeps the setting from going away."""
    from ghost_cli.vm.types import Limits
    from ghost_cli.vm.wasm.engine import _CRANELIFT_FLAGS, WasmEngine

    settings = WasmEngine._config_settings(Limits())
    assert ("regalloc_algorithm", "single_pass") in settings[_CRANELIFT_FLAGS]


def test_too_many_globals_and_externref_tables_are_refused(
        sandbox: Sandbox, cache_dir: Path) -> None:
    """Each global is set up at every call (50,000 added 0.42 ms to each, paid by no
    gas); an externref table needs a GC heap no call has, so no call could run."""
    from ghost_cli.vm.wasm.checks import MAX_GLOBALS

    many = "(global (mut i32) (i32.const 0))" * (MAX_GLOBALS + 1)
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + many), gas_limit=gas.MAX_TX_GAS)
    assert info.value.message == (
        f"invalid WebAssembly module: it defines {MAX_GLOBALS + 1} globals, at most "
        f"{MAX_GLOBALS} allowed (each is set up at every call)")
    with pytest.raises(InvalidModuleError) as info:
        sandbox.deploy(contract(GET + "(table 1 externref)"), gas_limit=gas.MAX_TX_GAS)
    assert info.value.message == ("invalid WebAssembly module: table 0 holds externref; "
                                  "contract tables hold funcref")
    assert nothing_compiled(sandbox, cache_dir)
    enough = "(global (mut i32) (i32.const 0))" * MAX_GLOBALS + "(table 1 funcref)"
    assert sandbox.deploy(contract(GET + enough), gas_limit=gas.MAX_TX_GAS).address


def test_locals_across_many_blocks_are_bounded(sandbox: Sandbox, cache_dir: Path) -> None:
    """4,000 ifs each setting one of 4,000 locals, read after: 56 KB, 2.0 s to compile;
    one local set in each of 4,000 nested ifs: 30 s and 2.4 GB."""
    from ghost_cli.vm.wasm.checks import MAX_LOCALS_BLOCKS, MAX_SETS_DEPTH

    def module(body: str, n: int) -> bytes:
        reads = "(drop (local.get 1))" * 2
        return contract(GET + f"(func $f (param i32) (local {'i32 ' * n}) {body} {reads})")

    sequential = "".join(f"(if (local.get 0) (then (local.set {i % 1_000 + 1} "
                         "(local.get 0))))" for i in range(4_000))
    refused_before_compiling(sandbox, cache_dir, module(sequential, 1_000),
                             "its functions' locals times blocks", 1_001 * 4_000,
                             MAX_LOCALS_BLOCKS)
    sets = "".join(f"(local.set {i + 1} (local.get 0))" for i in range(500))
    nested = "(if (local.get 0) (then " * 600 + sets + "))" * 600
    refused_before_compiling(sandbox, cache_dir, module(nested, 500),
                             "its functions' locals set times nesting depth", 500 * 600,
                             MAX_SETS_DEPTH)
    shallower = "(if (local.get 0) (then " * 400 + sets + "))" * 400
    assert sandbox.deploy(module(shallower, 500), gas_limit=gas.MAX_TX_GAS).address


def test_cranelift_does_not_optimize() -> None:
    """Its rewrite rules took 15 s on 170,000 `i32.rotl`s by a variable amount (510 KB),
    0.16 s unoptimized; contract code ran as fast. This keeps the setting in place."""
    from ghost_cli.vm.types import Limits
    from ghost_cli.vm.wasm.engine import WasmEngine

    assert WasmEngine._config_settings(Limits())["cranelift_opt_level"] == "none"
