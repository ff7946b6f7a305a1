"""Call traces and decoded events through the CLI, on real Zig contracts built for both
targets: the counter template, and a small contract that logs and then reverts.

`ghost call -v` shows the frame with its gas, storage writes with readable keys, the
event decoded by the ABI, and for a revert its reason and the log emitted before it;
`--json` carries the same tree. `ghost events` and `ghost receipt` work on the sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.vm import gas as gas_schedule

REFUSER = '''//! Logs, writes, then reverts: a call trace keeps the log, state keeps nothing.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Log a message, write storage, then fail with "Refused".
pub fn refuse(n: u64) !void {
    ghost.log("checking the request");
    ghost.storage.set(u64, "pending", n);
    return error.Refused;
}
'''


def _ghost(*args: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The counter template plus the refuser, built for wasm and zvm once."""
    root = tmp_path_factory.mktemp("traces") / "traced"
    _ghost("new", "traced", "--dir", str(root), cwd=root.parent)
    (root / "src" / "refuser.zig").write_text(REFUSER)
    with (root / "ghost.toml").open("a") as f:
        f.write('\n[contracts.refuser]\nsource = "src/refuser.zig"\n')
    for target in ("wasm", "zvm"):
        _ghost("build", "--target", target, cwd=root)
    return root


@pytest.fixture(params=["wasm", "zvm"])
def deployed(request, built, tmp_path, run_ghost):
    """A copy of the project with both contracts deployed on a fresh sandbox."""
    root = tmp_path / "traced"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".ghost"))
    result = run_ghost("deploy", "--target", request.param, cwd=root)
    assert result.code == 0, result.stderr
    return root, request.param


def _items(frame: dict, kind: str) -> list[dict]:
    return [i for i in frame["items"] if i["type"] == "host" and i["name"] == kind]


def test_call_v_json_has_the_frame_storage_write_event_and_gas(deployed, run_ghost):
    root, engine = deployed
    result = run_ghost("call", "counter", "increment", "-v", "--json", cwd=root)
    assert result.code == 0, result.stderr
    doc = result.json
    [frame] = doc["call_trace"]
    assert (frame["type"], frame["engine"], frame["function"]) == ("frame", engine, "increment")
    assert frame["status"] == "return" and frame["return_data"] == "0x0100000000000000"
    # the frame's gas is the contract's run: the receipt adds the transaction base
    assert frame["gas_used"] == doc["gas_used"] - gas_schedule.TX_BASE
    assert 0 < frame["gas_used"] < frame["gas_limit"]
    [write] = _items(frame, "storage_write")
    assert (write["key"], write["key_hex"]) == ("'count'", "0x" + b"count".hex())
    assert write["value"] == "0x0100000000000000" and write["gas"] > 0
    [emit] = _items(frame, "emit_event")
    assert emit["event"]["name"] == "Incremented"
    assert emit["event"]["fields"] == {"by": doc["sender"]}
    # the receipt's events are decoded the same way
    assert doc["events"][0]["fields"] == {"by": doc["sender"]}
    # -v shows only the notable host calls; -vv shows every one
    assert not _items(frame, "caller")
    more = run_ghost("call", "counter", "increment", "-vv", "--json", cwd=root).json
    assert _items(more["call_trace"][0], "caller")


def test_call_v_text_tree(deployed, run_ghost):
    root, engine = deployed
    result = run_ghost("call", "counter", "increment", "-v", cwd=root)
    assert result.code == 0, result.stderr
    err = result.stderr
    assert f"[{engine}] " in err and ".increment  gas " in err
    assert "storage_write 'count' = 0x0100000000000000" in err
    assert "event Incremented by=0x" in err
    assert "← return 0x0100000000000000" in err
    assert result.stdout.strip() == "1"


def test_vvv_on_zvm_names_each_opcodes_zig_function_and_line(built, tmp_path, run_ghost):
    root = tmp_path / "traced"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".ghost"))
    assert run_ghost("deploy", "counter", "--target", "zvm", cwd=root).code == 0
    result = run_ghost("call", "counter", "increment", "-vvv", "--json", cwd=root)
    assert result.code == 0, result.stderr
    [frame] = result.json["call_trace"]
    ops = [i for i in frame["items"] if i["type"] == "op"]
    assert ops and all(op["function"] for op in ops)
    # the contract's own code maps to its source file and a line in it; the lowering's
    # ABI dispatcher has no Zig source
    assert any(op["function"].startswith("increment (src/counter.zig:") for op in ops)
    assert ops[0]["function"] == "(dispatcher)"
    text = run_ghost("call", "counter", "increment", "-vvv", cwd=root).stderr
    assert "(src/counter.zig:" in text


def test_revert_keeps_its_reason_and_the_log_before_it(deployed, run_ghost):
    root, engine = deployed
    result = run_ghost("call", "refuser", "refuse", "7", "-v", "--json", cwd=root)
    assert result.code == 6, result.stderr  # a revert's exit code
    error = result.json["error"]
    [frame] = error["details"]["call_trace"]
    assert (frame["engine"], frame["status"], frame["reason"]) == (engine, "revert", "Refused")
    names = [i["name"] for i in frame["items"]]
    assert names.index("debug_log") < names.index("storage_write") < names.index("revert")
    [log] = _items(frame, "debug_log")
    assert log["message"] == "checking the request"
    # state kept nothing: the write was undone and no receipt logs exist
    assert run_ghost("events", "refuser", "--json", cwd=root).json["events"] == []

    text = run_ghost("call", "refuser", "refuse", "7", "-v", cwd=root)
    assert text.code == 6
    assert "log: checking the request" in text.stderr
    assert "← revert: Refused" in text.stderr


def test_events_and_receipt_on_the_sandbox(deployed, run_ghost):
    root, _ = deployed
    call = run_ghost("call", "counter", "increment", "--json", cwd=root).json
    events = run_ghost("events", "counter", "--json", cwd=root)
    assert events.code == 0, events.stderr
    [event] = events.json["events"]
    assert event["name"] == "Incremented" and event["fields"] == {"by": call["sender"]}
    assert event["tx_hash"] == call["tx_hash"] and event["block_height"] == call["block_height"]
    text = run_ghost("events", "counter", cwd=root)
    assert f"Incremented by={call['sender']}" in text.stdout
    last = run_ghost("events", "counter", "--since", str(2**63 - 1), "--json", cwd=root)
    assert last.code == 0 and last.json["events"] == []
    past = run_ghost("events", "counter", "--since", str(2**63), cwd=root)
    assert past.code == 2 and "Traceback" not in past.stderr

    receipt = run_ghost("receipt", call["tx_hash"], "--json", cwd=root)
    assert receipt.code == 0, receipt.stderr
    doc = receipt.json
    assert (doc["kind"], doc["sender"], doc["function"]) == ("call", call["sender"], "increment")
    assert doc["result"] == 1 and doc["gas_used"] == call["gas_used"]
    assert doc["events"][0]["fields"] == {"by": call["sender"]}
    text = run_ghost("receipt", call["tx_hash"], cwd=root)
    assert f"from {call['sender']}" in text.stderr and "event Incremented by=" in text.stderr
    digits = call["tx_hash"][2:]
    for spelled in ("0X" + digits.upper(), digits):  # as a bytes argument may be written
        again = run_ghost("receipt", spelled, "--json", cwd=root)
        assert again.code == 0 and again.json == doc, again.stderr

    missing = run_ghost("receipt", "0x" + "00" * 32, "--json", cwd=root)
    assert missing.code != 0 and "no receipt" in missing.json["error"]["message"]


def test_trace_off_adds_nothing(deployed, run_ghost):
    root, _ = deployed
    plain = run_ghost("call", "counter", "increment", "--json", cwd=root)
    assert "call_trace" not in plain.json and "[" not in plain.stderr


def test_ghost_test_v_prints_the_trace_of_a_failing_test(built, tmp_path):
    root = tmp_path / "traced"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".ghost"))
    for f in (root / "tests").glob("*.py"):
        f.unlink()
    (root / "tests" / "test_refuse.py").write_text(
        "def test_refuse(deploy):\n"
        "    deploy('refuser').refuse(3)\n")
    proc = subprocess.run([sys.executable, "-m", "ghost_cli", "test", "-v"], cwd=root,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode != 0
    out = proc.stdout
    assert "Captured stdout call" in out
    assert "[wasm] " in out and ".refuse  gas " in out
    assert "log: checking the request" in out and "← revert: Refused" in out
    assert "test_refuse FAILED" in out  # -v reaches pytest as well


def test_ghost_test_vvv_names_zvm_opcodes_and_a_file_narrows_the_run(built, tmp_path):
    """As `ghost call -vvv` does, by the code the address runs (a test deploys its own);
    and `ghost test FILE` runs that file alone, as pytest would."""
    root = tmp_path / "traced"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".ghost"))
    (root / "tests" / "test_traced.py").write_text(
        "def test_increment(deploy):\n"
        "    assert deploy('counter').increment() == 1\n")
    proc = subprocess.run([sys.executable, "-m", "ghost_cli", "test", "-vvv", "-s",
                           "--target", "zvm", "tests/test_traced.py"], cwd=root,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "(dispatcher)" in out and "increment (src/counter.zig:" in out
    assert "1 passed" in out  # the template's own tests did not run


def test_v_on_a_node_network_is_refused_before_anything_is_sent(built, tmp_path, run_ghost):
    root = tmp_path / "traced"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".ghost"))
    with (root / "ghost.toml").open("a") as f:  # a node nobody runs: nothing may be sent
        f.write('\n[networks.far]\nkind = "node"\nurl = "http://127.0.0.1:9"\nchain_id = 7\n')
    result = run_ghost("call", "counter", "increment", "-v", "--network", "far", "--json",
                       cwd=root)
    assert result.code == 2
    assert "sandbox only" in result.json["error"]["message"]
