"""Zig's runtime safety on by default, and failures located in the Zig source: real
contracts built with Zig, run as `ghost` processes on wasm and on ZVM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.config.project import set_value
from ghost_cli.toolchain.debuginfo import DebugInfo, strip_debug
from ghost_cli.vm.wasm_module import parse_module

pytestmark = pytest.mark.slow

GAS_LIMIT = 3_000_000
BALLOT = """\
const ghost = @import("ghost");
comptime {
    ghost.exportContract(@This());
}

/// One more than x.
pub fn bump(x: u64) u64 {
    return x + 1; // overflow
}

/// x plus 250.
pub fn bump8(x: u8) u8 {
    return x + 250; // merged
}

/// The i-th of three entries.
pub fn pick(i: u32) u8 {
    const table = [_]u8{ 1, 2, 3 };
    return table[i]; // bounds
}

/// x, which must be at most 3.
pub fn never(x: u64) u64 {
    if (x > 3) unreachable; // unreachable
    return x;
}

/// x, unless the invariant breaks.
pub fn check(x: u64) u64 {
    ghost.log("checking the ballot");
    if (x == 7) @panic("ballot invariant broken"); // panic
    return x;
}

fn down(n: u64) u64 {
    if (n == 0) return ghost.blockHeight();
    return down(n - 1) *% 3 +% ghost.blockHeight(); // recursion
}

/// Recurse n levels deep.
pub fn deep(n: u64) u64 {
    return down(n);
}

fn wide(n: u64) u64 {
    var buf: [4096]u8 = undefined; // on Zig's stack in linear memory
    buf[0] = @truncate(n);
    const h = ghost.crypto.sha256(buf[0..8]); // its address escapes: buf stays in memory
    if (n == 0) return h[0];
    return wide(n - 1) +% h[1];
}

/// Recurse n levels deep with 4 KiB frames.
pub fn deepWide(n: u64) u64 {
    return wide(n);
}

/// Grow the memory to its limit, then read past it.
pub fn fill() u8 {
    while (@wasmMemoryGrow(0, 1) >= 0) {}
    const p: *volatile u8 = @ptrFromInt(0xFFFF_FFF0);
    return p.*;
}

/// One 40 KiB frame, no recursion.
pub fn bigFrame(i: u32) u8 {
    var buf: [40 * 1024]u8 = undefined;
    for (&buf, 0..) |*b, j| b.* = @truncate(j);
    const h = ghost.crypto.sha256(buf[0..64]); // its address escapes: buf stays in memory
    return buf[i % buf.len] ^ h[0];
}
"""
TESTS = """\
def test_invariant(deploy):
    deploy("ballot").check(7)
"""


def line_of(marker: str) -> int:
    return next(i for i, text in enumerate(BALLOT.splitlines(), 1) if f"// {marker}" in text)


def ghost(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ghost_cli", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, timeout=600,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("safety")
    root = tmp / "vote"
    assert ghost("new", "vote", "--dir", str(root), cwd=tmp).returncode == 0
    (root / "src" / "ballot.zig").write_text(BALLOT)
    (root / "tests" / "test_ballot.py").write_text(TESTS)
    set_value(root, "contracts.ballot.source", "src/ballot.zig")
    return root


@pytest.fixture(scope="module", params=["wasm", "zvm"])
def deployed(request, project) -> tuple[Path, str]:
    target = request.param
    built = ghost("build", "ballot", "--target", target, "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    done = ghost("deploy", "ballot", "--target", target, "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    return project, target


def call(root: Path, *args: str, gas_limit: int = GAS_LIMIT
         ) -> tuple[subprocess.CompletedProcess, dict]:
    run = ghost("call", "ballot", *args, "--gas-limit", str(gas_limit), "--json", cwd=root)
    return run, json.loads(run.stdout)


def test_default_build_keeps_safety_and_debug_info_beside_the_artifact(project):
    built = ghost("build", "ballot", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    (result,) = json.loads(built.stdout)["contracts"]
    assert result["safety"] is True and result["warnings"] == []
    assert result["metadata"]["toolchain"]["optimize"] == "ReleaseSafe"
    assert "warning" not in built.stderr
    deployed = (project / result["path"]).read_bytes()
    sidecar = (project / result["debug_path"]).read_bytes()
    assert Path(result["debug_path"]) == project / "build" / "ballot.debug.wasm"
    # deployed bytes carry no debug info; the sidecar is the same compile with it
    names = {c.name for c in parse_module(deployed).custom_sections}
    assert names == {"ghost.metadata"}
    assert deployed.startswith(strip_debug(sidecar))  # then the metadata section
    info = DebugInfo(sidecar)
    assert any(f == "src/ballot.zig" for _, f, _ in info.lines)
    # the same sources build the same bytes again
    again = ghost("build", "ballot", "--json", cwd=project)
    assert json.loads(again.stdout)["contracts"][0]["sha256"] == result["sha256"]


def test_unsafe_mode_is_an_explicit_choice_and_says_so(project, tmp_path):
    built = ghost("build", "ballot", "--optimize", "ReleaseSmall", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    (result,) = json.loads(built.stdout)["contracts"]
    assert result["safety"] is False
    assert "safety checks are off" in result["warnings"][0]
    assert "warning: ballot: Zig's safety checks are off (ReleaseSmall)" in built.stderr
    assert ghost("deploy", "ballot", cwd=project).returncode == 0
    wrapped, out = call(project, "bump", str(2**64 - 1))
    assert wrapped.returncode == 0 and out["result"] == 0  # what safety is there to stop
    bad = ghost("build", "ballot", "--optimize", "Fastest", cwd=project)
    assert bad.returncode == 2 and "unknown optimize mode 'Fastest'" in bad.stderr
    assert ghost("build", "ballot", "--json", cwd=project).returncode == 0  # safe again


@pytest.mark.parametrize(("function", "arg", "message", "marker"), [
    ("bump", str(2**64 - 1), "integer overflow", "overflow"),
    ("pick", "5", "index out of bounds: index 5, len 3", "bounds"),
    ("never", "9", "reached unreachable code", "unreachable"),
    ("check", "7", "ballot invariant broken", "panic"),
])
def test_safety_checks_stop_the_call_with_message_and_line(deployed, function, arg, message,
                                                           marker):
    root, target = deployed
    run, out = call(root, function, arg)
    assert run.returncode == 6, (target, run.stderr)
    error = out["error"]
    assert error["code"] == "panic"
    assert error["details"]["panic"] == message
    assert error["details"]["function"] == function
    where = f"src/ballot.zig:{line_of(marker)}"
    assert error["details"]["location"] == where, target
    assert error["details"]["backtrace"][0]["file"] == "src/ballot.zig"
    assert message in error["message"] and where in error["message"]
    assert 0 < error["gas_used"] < GAS_LIMIT  # the gas used, not the whole limit
    # the same, for people: message, location and backtrace on stderr
    text = ghost("call", "ballot", function, arg, "--gas-limit", str(GAS_LIMIT), cwd=root)
    assert text.returncode == 6
    assert f"error: panic: {message} (ballot.{function} at {where})" in text.stderr
    assert f"  at {function} ({where})" in text.stderr


def test_a_check_whose_line_the_compiler_dropped_names_the_function(deployed):
    """Inlined into the SDK's export wrapper, the u8 overflow's call is merged with the
    wrapper's own (LLVM keeps no line of the contract there): the error names the
    contract function, never the SDK's panic handler, and gives a line only when the
    debug info has one in the contract's source."""
    root, target = deployed
    run, out = call(root, "bump8", "10")
    assert run.returncode == 6, (target, run.stderr)
    error = out["error"]
    assert error["code"] == "panic" and error["details"]["panic"] == "integer overflow"
    assert error["details"]["function"] == "bump8", (target, error)
    assert error["details"]["backtrace"][0]["function"] == "bump8"
    assert error["details"].get("location") in (None, f"src/ballot.zig:{line_of('merged')}")
    assert "ghost.panic" not in error["message"] and "lib/ghost.zig" not in error["message"]
    assert error["message"].startswith("panic: integer overflow (ballot.bump8")
    text = ghost("call", "ballot", "bump8", "10", "--gas-limit", str(GAS_LIMIT), cwd=root)
    assert "  at bump8" in text.stderr and "ghost.panic" not in text.stderr


def test_a_trap_at_the_memory_limit(deployed):
    """docs/host-abi.md, Limits: at its 16 MiB a wasm contract's trap is `memory_limit`; a
    ZVM build's memory stops lower and its trap there is a `trap`."""
    root, target = deployed
    run, out = call(root, "fill")
    assert run.returncode == 6, (target, run.stderr)
    if target == "wasm":
        assert out["error"]["code"] == "memory_limit", out
        assert out["error"]["message"] == "memory limit of 16 MiB exceeded"
    else:
        assert out["error"]["code"] == "trap", out
        assert out["error"]["message"].startswith("trap: out of bounds memory access")


def test_logs_before_a_panic_are_shown_with_it(deployed):
    root, _ = deployed
    run, out = call(root, "check", "7")
    assert out["error"]["details"]["logs"] == ["checking the ballot"]
    text = ghost("call", "ballot", "check", "7", cwd=root)
    assert "logs before the failure:\n  checking the ballot" in text.stderr
    fine, ok = call(root, "check", "3")
    assert fine.returncode == 0 and ok["result"] == 3


@pytest.mark.parametrize("function", ["deep", "deepWide"])
def test_unbounded_recursion_is_a_stack_overflow(deployed, function):
    """Small frames exhaust the engine's call stack, 4 KiB ones Zig's own stack in
    linear memory first: both are a stack overflow."""
    root, target = deployed
    # enough gas to reach the bottom of the stack at host-call prices (a sha256 a level)
    run, out = call(root, function, "100000", gas_limit=100 * GAS_LIMIT)
    assert run.returncode == 6
    assert out["error"]["code"] == "stack_overflow", (target, out)
    assert out["error"]["message"].startswith("stack overflow")
    if target == "wasm":  # a frame without a known offset has null, not 2**64 - 1
        offsets = [offset for _, offset in out["error"]["details"]["frames"]]
        assert all(o is None or 0 <= o < 1 << 32 for o in offsets), offsets
        assert function != "deep" or offsets[0] is None, offsets
    shallow, ok = call(root, function, "3")
    assert shallow.returncode == 0, shallow.stderr


def test_a_call_by_address_is_located_as_one_by_name(deployed):
    """The project's build of the code at an address is at hand as much as by its name:
    the same location, and on ZVM the same code for a stack overflow (the sidecar's trap
    sites), not the raw `invalid_opcode` and no line."""
    root, target = deployed
    fine, ok = call(root, "check", "3")
    address = ok["address"]
    for args, code in ((("check", "7"), "panic"), (("deep", "100000"), "stack_overflow")):
        by_name = call(root, *args, gas_limit=100 * GAS_LIMIT)[1]["error"]
        run = ghost("call", address, *args, "--gas-limit", str(100 * GAS_LIMIT), "--json",
                    cwd=root)
        assert run.returncode == 6, run.stderr
        by_address = json.loads(run.stdout)["error"]
        assert by_address["code"] == by_name["code"] == code, (target, by_address)
        assert by_address["message"] == by_name["message"], target
        assert by_address["details"].get("location") == by_name["details"].get("location")


def test_one_large_frame_outgrows_the_zvm_stack_and_says_so(deployed):
    """ZVM builds get a 32 KiB stack (wasm 1 MiB): a 40 KiB local stops there, and the
    error names the stack, not a recursion there is none of."""
    root, target = deployed
    run, out = call(root, "bigFrame", "5", gas_limit=100 * GAS_LIMIT)
    if target == "wasm":
        assert run.returncode == 0, run.stderr
        return
    assert out["error"]["code"] == "stack_overflow", out
    assert out["error"]["message"] == ("stack overflow: the call needed more than the 32 KiB "
                                       "stack of a ZVM build (in ballot)")


def test_ghost_test_shows_the_panic_message_and_line(deployed):
    root, target = deployed
    set_value(root, "contracts.ballot.target", target)  # what `ghost test` builds
    try:
        run = ghost("test", cwd=root)
    finally:
        set_value(root, "contracts.ballot.target", "wasm")
    assert run.returncode == 10, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert "panic: ballot invariant broken" in output
    assert f"src/ballot.zig:{line_of('panic')}" in output
    assert "checking the ballot" in output


def test_a_node_reports_the_panic_and_the_cli_locates_it(project, tmp_path):
    """The node has no debug info: its error carries the message, raw frames and logs;
    the CLI locates them with the project's own sidecar."""
    from node_helpers import start_node

    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home"),
           "GHOST_PASSPHRASE": "correct horse"}
    env.pop("GHOST_TRANSPORT", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=project,
                              capture_output=True, text=True, env=env, timeout=300)

    assert run("build", "ballot").returncode == 0
    node = start_node(tmp_path / "node-data")
    try:
        assert run("keys", "new", "alice").returncode == 0
        added = run("network", "add", "nodetest", "--url", f"quic://{node.bound['quic']}",
                    "--http-url", f"http://{node.bound['http']}", "--ca", node.bound["ca"])
        assert added.returncode == 0, added.stderr
        deployed = run("deploy", "ballot", "--network", "nodetest", "--key", "alice")
        assert deployed.returncode == 0, deployed.stderr
        for command in (("call", "--key", "alice"), ("query",)):
            failed = run(command[0], "ballot", "check", "7", *command[1:], "--network",
                         "nodetest", "--json")
            assert failed.returncode == 6, failed.stderr
            error = json.loads(failed.stdout)["error"]
            assert error["code"] == "panic"
            assert error["details"]["panic"] == "ballot invariant broken"
            assert error["details"]["location"] == f"src/ballot.zig:{line_of('panic')}"
            assert error["details"]["logs"] == ["checking the ballot"]
            assert 0 < error["gas_used"] < GAS_LIMIT
        # ZVM: the node sends the panic's pc, not the memory its callers are read from,
        # so only the SDK's panic handler is located (docs/debugging.md), never a wrong
        # line of the contract
        assert run("build", "ballot", "--target", "zvm").returncode == 0
        deployed = run("deploy", "ballot", "--target", "zvm", "--network", "nodetest",
                       "--key", "alice")
        assert deployed.returncode == 0, deployed.stderr
        failed = run("query", "ballot", "check", "7", "--network", "nodetest", "--json")
        assert failed.returncode == 6, failed.stderr
        error = json.loads(failed.stdout)["error"]
        assert error["code"] == "panic" and "pc" in error["details"]
        assert error["details"]["panic"] == "ballot invariant broken"
        assert error["details"]["location"].startswith("lib/ghost.zig:"), error
        assert error["message"].startswith(
            "panic: ballot invariant broken (ballot.ghost.panic.call at lib/ghost.zig:")
    finally:
        node.stop()
