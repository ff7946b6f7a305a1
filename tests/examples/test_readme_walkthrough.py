"""README's "Write a contract with state" walkthrough, run as written: every `$ ` command,
in order, in one shell, against a real node; a command followed by an `error:` line must
exit 6 with that line on stderr, every other one must exit 0."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TITLE = "## Write a contract with state, from `ghost new` to a call on a node"

pytestmark = pytest.mark.slow


def walkthrough() -> list[tuple[str, str | None]]:
    """(command, expected error line or None) for each `$ ` line of the section."""
    text = (REPO / "README.md").read_text()
    section = text.split(TITLE, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    steps = []
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            after = lines[i + 1] if i + 1 < len(lines) else ""
            error = after.split("  #")[0].strip() if after.startswith("error:") else None
            # the comment goes, or it would swallow the redirections added below
            steps.append((line[2:].split("  #")[0].strip(), error))
    return steps


def test_the_walkthrough_has_the_steps_it_describes():
    commands = [c for c, _ in walkthrough()]
    assert commands[0].startswith("ghost new registry --template storage")
    assert sum(e is not None for _, e in walkthrough()) == 3
    assert any("--network local" in c for c in commands)


def test_readme_walkthrough_runs_as_written(tmp_path, node):
    script = ["cd " + shlex.quote(str(tmp_path))]
    bob = ("$(ghost keys show bob --json | " + shlex.quote(sys.executable)
           + " -c 'import json,sys; print(json.load(sys.stdin)[\"key\"][\"address\"])')")
    for command, error in walkthrough():
        command = (command.replace("quic://127.0.0.1:8443", f"quic://{node.bound['quic']}")
                   .replace("node-data/tls/ca.pem", node.bound["ca"])
                   .replace("0xBOB_ADDRESS", bob))
        expected = 6 if error else 0
        script += [
            f"{command} 2>err.txt",
            f"rc=$?; cat err.txt >&2; if [ $rc -ne {expected} ]; then "
            f"echo \"exit $rc, wanted {expected}:\" {shlex.quote(command)} >&2; exit 1; fi",
        ]
        if error:
            script.append(f"grep -qF {shlex.quote(error)} err.txt || "
                          f"{{ echo 'no {error} on stderr' >&2; exit 1; }}")
    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home"),
           "GHOST_PASSPHRASE": "correct horse",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("GHOST_TRANSPORT", None)
    proc = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
