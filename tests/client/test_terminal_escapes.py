"""Text a contract writes (revert reason, debug log, event name, string result) reaches the
user's terminal inert: `ghost call` prints every control character as a visible escape,
on the sandbox and from a node, while --json keeps the exact text (JSON-escaped)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

HOSTILE = r'''//! Writes terminal escape sequences everywhere a contract can put text.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Logs, emits and returns text carrying escape sequences.
pub fn shout() ghost.String {
    ghost.log("\x1b]0;pwned\x07\x1b[2J\x1b[31mred log\u{202e} [bold]markup[/] :smile:");
    ghost.emit("Shout\x1b[5m", &.{}, "");
    return "\x1b[1mbold\x1b[0m";
}

/// Reverts with a reason that would erase the line and fake a success.
pub fn fail() void {
    ghost.revert("\x1b[2K\rok (no return value)\x1b[0m");
}
'''
REASON = "\x1b[2K\rok (no return value)\x1b[0m"
LOG = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred log\u202e [bold]markup[/] :smile:"


@pytest.fixture
def hostile(project):
    (project / "src" / "hostile.zig").write_text(HOSTILE)
    with open(project / "ghost.toml", "a") as f:
        f.write('\n[contracts.hostile]\nsource = "src/hostile.zig"\n')
    built = subprocess.run([sys.executable, "-m", "ghost_cli", "build", "hostile"],
                           cwd=project, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return project


def _check(ghost, *network: str) -> None:
    shout = ghost("call", "hostile", "shout", *network)
    assert shout.code == 0, shout.stderr
    for stream in (shout.stdout, shout.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert shout.stdout == "\\x1b[1mbold\\x1b[0m\n"
    # Escapes made visible; rich markup and emoji codes printed as they are.
    assert ("log: \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred log\\u202e [bold]markup[/] "
            ":smile:\n") in shout.stderr
    assert "event Shout\\x1b[5m" in shout.stderr

    fail = ghost("call", "hostile", "fail", *network)
    assert fail.code == 6
    assert fail.stderr == "error: reverted: \\x1b[2K\\rok (no return value)\\x1b[0m\n"

    # --json carries the exact text; JSON's escaping keeps the document itself inert.
    as_json = ghost("call", "hostile", "shout", *network, "--json")
    assert "\x1b" not in as_json.stdout and "\\u001b" in as_json.stdout
    doc = as_json.json
    assert doc["result"] == "\x1b[1mbold\x1b[0m" and doc["logs"] == [LOG]
    assert doc["events"][0]["name"] == "Shout\x1b[5m"
    failed = ghost("call", "hostile", "fail", *network, "--json")
    assert failed.json["error"]["details"]["reason"] == REASON
    assert "\x1b" not in failed.stdout


def test_contract_text_is_escaped_on_the_sandbox(ghost, hostile):
    assert ghost("deploy", "hostile").code == 0
    _check(ghost)


def test_contract_text_from_a_node_is_escaped(ghost, hostile, node):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    deployed = ghost("deploy", "hostile", "--network", "local", "--key", "alice")
    assert deployed.code == 0, deployed.stderr
    _check(ghost, "--network", "local", "--key", "alice")
