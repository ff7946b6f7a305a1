"""`ghost asm`, `ghost disasm` and `ghost call/query --trace`, run as processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.vm.zvm import assemble, decode_zvmc, read_zvmc_metadata, selector

HERE = Path(__file__).parent
COUNTER = HERE / "counter.zasm"
ABI = {"version": 1, "functions": [
    {"name": "increment", "inputs": [], "output": "u64"},
    {"name": "add", "inputs": [{"name": "n", "type": "u64"}], "output": "u64", "can_fail": True},
    {"name": "get", "inputs": [], "output": "u64"},
]}

pytestmark = pytest.mark.slow


def ghost(*args: str, cwd: Path):
    return subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def abi_file(tmp_path) -> Path:
    path = tmp_path / "counter.abi.json"
    path.write_text(json.dumps(ABI))
    return path


def test_asm_writes_a_zvmc_with_the_abi(tmp_path, abi_file):
    out = tmp_path / "counter.zvmc"
    r = ghost("asm", str(COUNTER), "-o", str(out), "--abi", str(abi_file), "--json",
              cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    blob = out.read_bytes()
    assert doc["ok"] and doc["size"] == len(blob)
    assert decode_zvmc(blob).code == assemble(COUNTER.read_text())
    assert read_zvmc_metadata(blob) == {"abi": ABI}
    sigs = {f["signature"]: f["selector"] for f in doc["functions"]}
    assert sigs["add(u64)"] == "0x" + selector("add(u64)").hex()


def test_asm_default_output_and_errors(tmp_path):
    src = tmp_path / "x.zasm"
    src.write_text("PUSH 1\nPUSH 2\nADD\n")
    r = ghost("asm", str(src), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert decode_zvmc((tmp_path / "x.zvmc").read_bytes()).code == bytes.fromhex("11011102" "30")
    src.write_text("PUSH 1\nFROB\n")
    bad = ghost("asm", str(src), "--json", cwd=tmp_path)
    assert bad.returncode == 4
    err = json.loads(bad.stdout)["error"]
    assert err["code"] == "compile_error" and "x.zasm: line 2: unknown instruction" in \
        err["message"]
    missing = ghost("asm", str(tmp_path / "nope.zasm"), cwd=tmp_path)
    assert missing.returncode == 7
    src.write_bytes(b'NOP\nPUSH "\xff"\n')
    bad = ghost("asm", str(src), "--json", cwd=tmp_path)
    assert bad.returncode == 4
    assert "x.zasm: line 2: not UTF-8" in json.loads(bad.stdout)["error"]["message"]


def test_asm_refuses_an_abi_the_engine_would_refuse(tmp_path):
    src = tmp_path / "x.zasm"
    src.write_text("PUSH 1\n")
    bad = tmp_path / "bad.json"
    for abi in ({"version": 1, "functions": [{"name": 5}]},
                {"version": 1, "functions": [{"name": "get", "inputs": [
                    {"name": "a", "type": 5}]}]}):
        bad.write_text(json.dumps(abi))
        r = ghost("asm", str(src), "--abi", str(bad), "--json", cwd=tmp_path)
        assert r.returncode == 5, r.stderr
        assert json.loads(r.stdout)["error"]["code"] == "invalid_module"
        assert not (tmp_path / "x.zvmc").exists()


def test_disasm_lists_offset_opcode_immediate_gas(tmp_path, abi_file):
    out = tmp_path / "counter.zvmc"
    assert ghost("asm", str(COUNTER), "-o", str(out), "--abi", str(abi_file),
                 cwd=tmp_path).returncode == 0
    r = ghost("disasm", str(out), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["container"] and doc["target"] == "zvm_native"
    assert doc["metadata"] == {"abi": ABI}
    first = doc["instructions"][0]
    assert first == {"offset": 0, "opcode": "0x16", "name": "PUSH32",
                     "immediate": "0x" + b"count".ljust(32, b"\0").hex(), "gas": 3,
                     "valid": True}
    names = {i["name"] for i in doc["instructions"]}
    assert {"HOSTCALL", "JUMPDEST", "MSTORE8"} <= names
    hostcalls = [i["immediate"] for i in doc["instructions"] if i["name"] == "HOSTCALL"]
    assert "storage_write" in hostcalls and "emit_event" in hostcalls

    plain = ghost("disasm", str(out), cwd=tmp_path)
    assert plain.returncode == 0 and "PUSH32" in plain.stdout and "HOSTCALL" in plain.stdout
    # --asm prints assembly that assembles back to the very same code
    text = ghost("disasm", str(out), "--asm", cwd=tmp_path).stdout
    assert assemble(text) == decode_zvmc(out.read_bytes()).code


def test_disasm_of_raw_bytes_and_garbage(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"\x11\x01\xee\x16\x01")
    doc = json.loads(ghost("disasm", str(raw), "--json", cwd=tmp_path).stdout)
    assert [i["name"] for i in doc["instructions"]] == ["PUSH1", "INVALID", "PUSH32"]
    assert doc["instructions"][2]["valid"] is False
    bad = tmp_path / "bad.zvmc"
    bad.write_bytes(b"ZVMC\x09")
    r = ghost("disasm", str(bad), "--json", cwd=tmp_path)
    assert r.returncode == 5 and json.loads(r.stdout)["error"]["code"] == "invalid_module"
    wasm = tmp_path / "x.wasm"
    wasm.write_bytes(b"\0asm\x01\0\0\0")
    r = ghost("disasm", str(wasm), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert "x.wasm is a WebAssembly module, not ZVM code" in r.stderr


def test_asm_abi_that_is_no_abi_at_all_says_what_one_looks_like(tmp_path):
    src = tmp_path / "x.zasm"
    src.write_text("PUSH 1\nHALT\n")
    bad = tmp_path / "a.json"
    for doc in ({"functions": 5}, [1, 2], {"abi": 7}):
        bad.write_text(json.dumps(doc))
        r = ghost("asm", str(src), "--abi", str(bad), cwd=tmp_path)
        assert r.returncode == 2 and "a.json is not a ghost ABI: expected an object" in r.stderr
        assert "object is not" not in r.stderr  # not Python's own words
    assert not (tmp_path / "x.zvmc").exists()


def _project(tmp_path) -> Path:
    root = tmp_path / "proj"
    r = ghost("new", "proj", "--dir", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return root


def _deploy(root: Path, code: bytes, name: str) -> None:
    from ghost_cli.config.project import load_project
    from ghost_cli.networks import open_network

    with open_network(load_project(root)) as net:
        net.deploy(code, name=name)


def test_call_and_query_trace_zvm_steps(tmp_path):
    from ghost_cli.vm.zvm import encode_zvmc, metadata_json

    root = _project(tmp_path)
    _deploy(root, encode_zvmc(assemble(COUNTER.read_text()), metadata_json({"abi": ABI})),
            "zcounter")
    r = ghost("call", "zcounter", "increment", "--trace", "--json", cwd=root)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["result"] == 1
    steps = doc["trace"]
    assert steps[0] == {"depth": 0, "pc": 0, "opcode": "PUSH32",
                        "gas_left": steps[0]["gas_left"], "stack_top": None, "stack_size": 0}
    assert steps[1]["stack_top"] == hex(int.from_bytes(b"count".ljust(32, b"\0"), "big"))
    assert any(s["opcode"] == "HOSTCALL" for s in steps)
    gas = [s["gas_left"] for s in steps]
    assert gas == sorted(gas, reverse=True)
    failed = ghost("call", "zcounter", "add", str(2**64 - 1), "--trace", "--json", cwd=root)
    assert failed.returncode == 6
    error = json.loads(failed.stdout)["error"]
    assert error["code"] == "reverted" and error["details"]["trace"][-1]["opcode"] == "HOSTCALL"
    plain = ghost("query", "zcounter", "get", "--trace", cwd=root)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "1"
    lines = [ln for ln in plain.stderr.splitlines() if ln.startswith("trace ")]
    assert lines and "PUSH32" in lines[0] and "HALT" in lines[-1]


def test_trace_is_zvm_only(tmp_path):
    root = _project(tmp_path)
    _deploy(root, _minimal_wasm({"abi": {"version": 1, "functions": [
        {"name": "get", "inputs": [], "output": None}]}}), "wasmy")
    r = ghost("query", "wasmy", "get", "--trace", "--json", cwd=root)
    assert r.returncode == 2
    assert "ZVM-only" in json.loads(r.stdout)["error"]["message"]


def _minimal_wasm(metadata: dict) -> bytes:
    """A WebAssembly module with an exported memory, one contract function `get` (deploys
    refuse ABI functions that are not exported) and a ghost.metadata section."""

    def section(ident: int, body: bytes) -> bytes:
        return bytes([ident]) + _leb(len(body)) + body

    payload = json.dumps(metadata).encode()
    name = b"ghost.metadata"
    return (b"\0asm\x01\0\0\0"
            + section(1, b"\x01\x60\x00\x00")  # type 0: () -> ()
            + section(3, b"\x01\x00")  # one function of type 0
            + section(5, b"\x01\x00\x01")
            + section(7, b"\x02\x06memory\x02\x00\x03get\x00\x00")
            + section(10, b"\x01\x02\x00\x0b")  # its body: no locals, end
            + section(0, _leb(len(name)) + name + payload))


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
