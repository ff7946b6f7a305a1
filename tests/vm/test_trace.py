"""The call-trace recorder (ghost_cli.vm.trace) over real runs on the sandbox: ZVM
contracts calling ZVM and WebAssembly contracts, CREATE, reverting sub-calls, opcode
steps at the highest verbosity, and the same gas and results with the trace off."""

from __future__ import annotations

from pathlib import Path

import pytest
from zvm_contracts import (  # the .zasm contracts and their ABIs
    CALLER_ABI,
    FACTORY_ABI,
    INIT,
    STORE,
    container,
    set_call,
    u64,
)

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.crypto.hashing import contract_address
from ghost_cli.exceptions import GhostError
from ghost_cli.vm import gas
from ghost_cli.vm.trace import Recorder, current_tracer, key_text, recording
from ghost_cli.vm.zvm import selector


@pytest.fixture
def sb(tmp_path):
    with Sandbox(tmp_path / "state.db", clock=lambda: 1_700_000_000) as sandbox:
        sandbox.deploy(container("caller", CALLER_ABI), name="A")
        sandbox.deploy(STORE, name="B")
        sandbox.deploy(container("factory", FACTORY_ABI), name="F")
        yield sandbox


def _recorder(sb, verbosity: int = 1) -> Recorder:
    def abi_of(address):
        try:
            return sb.abi_of(address)
        except GhostError:
            return None

    return Recorder(verbosity, abi_of=abi_of)


def _traced(sb, verbosity, fn, *args):
    rec = _recorder(sb, verbosity)
    with recording(rec):
        receipt = sb.call(*args) if fn == "call" else sb.query(*args)
    return receipt, rec.to_json()


def test_a_sub_call_is_a_child_frame_with_exact_gas(sb):
    b = sb.resolve("B")
    receipt, [top] = _traced(sb, 1, "call", "A", "call", [b, set_call(7)])
    assert (top["engine"], top["function"], top["status"]) == ("zvm", "call", "return")
    assert top["gas_used"] == receipt.gas_used - gas.TX_BASE
    [child] = [i for i in top["items"] if i["type"] == "frame"]
    assert (child["kind"], child["function"], child["status"]) == ("CALL", "set", "return")
    assert child["address"].lower() == "0x" + b.hex()
    assert child["return_data"] == "0x" + u64(7).hex()
    # the child's gas is what it was given minus what it handed back
    writes = [i for i in child["items"] if i.get("name") == "storage_write"]
    assert writes and 0 < sum(w["gas"] for w in writes) <= child["gas_used"] < child["gas_limit"]
    assert child["gas_used"] < top["gas_used"]


def test_a_reverting_sub_call_shows_its_reason_and_its_event_survives_in_the_trace(sb):
    b = sb.resolve("B")
    receipt, [top] = _traced(sb, 1, "call", "A", "call", [b, set_call(7, "set_then_fail(u64)")])
    assert receipt.events == ()  # undone in state ...
    [child] = [i for i in top["items"] if i["type"] == "frame"]
    assert (child["status"], child["reason"]) == ("revert", "B failed")
    assert [i["name"] for i in child["items"]] == ["storage_write", "emit_event"]  # ... not here
    assert top["status"] == "return"


def test_create_is_a_constructor_frame(sb):
    f = sb.resolve("F")
    _, [top] = _traced(sb, 1, "call", "F", "make", [INIT])
    [child] = [i for i in top["items"] if i["type"] == "frame"]
    assert (child["kind"], child["function"], child["status"]) == ("CREATE", "(constructor)",
                                                                   "return")
    assert child["address"].lower() == "0x" + contract_address(f, 0).hex()


def test_a_top_level_revert_is_recorded_before_the_error_propagates(sb):
    b = sb.resolve("B")
    rec = _recorder(sb)
    with recording(rec), pytest.raises(GhostError):
        sb.call("B", "set_then_fail", [3])
    [top] = rec.to_json()
    assert top["status"] == "revert" and top["reason"] == "B failed"
    assert top["address"].lower() == "0x" + b.hex()
    assert [i["name"] for i in top["items"]] == ["storage_write", "emit_event"]


def test_verbosity_3_records_opcodes_and_2_every_host_call(sb):
    b = sb.resolve("B")
    _, [top] = _traced(sb, 3, "query", "A", "call", [b, selector("get()")])
    ops = [i for i in top["items"] if i["type"] == "op"]
    assert ops[0]["pc"] == 0 and any(o["opcode"] == "CALL" for o in ops)
    child = next(i for i in top["items"] if i["type"] == "frame")
    assert any(i["type"] == "op" for i in child["items"])
    _, [top1] = _traced(sb, 1, "query", "A", "call", [b, selector("get()")])
    assert not any(i["type"] == "op" for i in top1["items"])


def test_the_trace_changes_neither_gas_nor_results(sb):
    b = sb.resolve("B")
    plain = sb.query("A", "call", [b, set_call(9)])
    traced, _ = _traced(sb, 3, "query", "A", "call", [b, set_call(9)])
    assert (plain.gas_used, plain.result) == (traced.gas_used, traced.result)
    assert current_tracer() is None  # switched off again after the block


def test_rendered_tree_names_frames_and_results(sb):
    b = sb.resolve("B")
    rec = _recorder(sb)
    with recording(rec):
        sb.call("A", "call", [b, set_call(7, "set_then_fail(u64)")])
    text = "\n".join(rec.render())
    assert "[zvm] " in text and ".call  gas " in text
    assert "  [zvm] CALL " in text and ".set_then_fail  gas " in text
    assert "storage_write 'value' = 0x0700000000000000" in text
    assert "← revert: B failed" in text


@pytest.fixture(scope="module")
def wasm_counter(tmp_path_factory) -> bytes:
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project("demo", "counter", tmp_path_factory.mktemp("wasm") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


def test_a_zvm_call_into_webassembly_is_a_wasm_frame_with_its_decoded_event(sb, wasm_counter):
    counter = sb.deploy(wasm_counter, name="counter").address
    _, [top] = _traced(sb, 1, "call", "A", "call", [counter, selector("increment()")])
    [child] = [i for i in top["items"] if i["type"] == "frame"]
    assert (child["engine"], child["kind"], child["function"]) == ("wasm", "CALL", "increment")
    assert child["status"] == "return" and child["gas_used"] > 0
    [emit] = [i for i in child["items"] if i.get("name") == "emit_event"]
    a = sb.resolve("A")
    assert emit["event"]["fields"]["by"].lower() == "0x" + a.hex()


def test_key_text():
    assert key_text(b"count") == "'count'"
    assert key_text(b"bal:" + bytes([0x7A, 0x4B, 0])) == "'bal:'+0x7a4b00"
    assert key_text(b"\x00\x01") == "0x0001"
    assert key_text(b"") == "0x"


def test_a_panic_reads_as_the_panic_not_as_a_host_call_that_failed(sb):
    from ghost_cli.vm.zvm import assemble, encode_zvmc, metadata_json

    abi = {"version": 1, "functions": [{"name": "boom", "inputs": [], "output": None}]}
    # "boom" at bytes 28..31 of memory, then panic(ptr=28, len=4)
    code = assemble("PUSH 0x626f6f6d\nPUSH 0\nMSTORE\nPUSH 4\nPUSH 28\nHOSTCALL panic\n")
    sb.deploy(encode_zvmc(code, metadata_json({"abi": abi})), name="P")
    rec = _recorder(sb, 2)
    with recording(rec), pytest.raises(GhostError, match="panic: boom"):
        sb.call("P", "boom")
    text = "\n".join(rec.render())
    assert "panic: boom  (gas " in text and "panic failed" not in text
