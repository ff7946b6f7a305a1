"""Output the system refuses (a full disk, a closed pipe): one line and exit 1, never a
traceback (docs/cli.md, exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@pytest.mark.parametrize("argv", [["keys", "schemes"], ["keys", "schemes", "--json"],
                                  ["--help"]])
def test_a_full_disk_under_stdout_is_one_line_and_exit_1(argv, tmp_path):
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "ghost_cli", *argv], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              env={**os.environ, "GHOST_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr == "error: cannot write the output: No space left on device\n"


def _closed(redirect: str, argv: list[str], home, **kwargs) -> subprocess.CompletedProcess:
    """`ghost ARGV` with one standard stream closed by the shell (`>&-`, `<&-`, `2>&-`)."""
    return subprocess.run(["sh", "-c", f'exec "$0" "$@" {redirect}', sys.executable, "-m",
                           "ghost_cli", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GHOST_HOME": str(home), "GHOST_PASSPHRASE": ""},
                          **kwargs)


@pytest.mark.parametrize("argv", [["keys", "schemes"], ["keys", "list", "--json"],
                                  ["--help"]])
def test_a_closed_stdout_is_one_line_and_exit_1(argv, tmp_path):
    done = _closed(">&-", argv, tmp_path)
    assert done.returncode == 1
    assert done.stderr == "error: cannot write the output: Bad file descriptor\n"


def test_a_key_made_with_stdout_closed_is_whole_and_nothing_else_is_written(tmp_path):
    done = _closed(">&-", ["keys", "new", "alice", "--plaintext", "--scheme", "ed25519"],
                   tmp_path)
    assert done.returncode == 1
    assert done.stderr.endswith("error: cannot write the output: Bad file descriptor\n")
    keys = tmp_path / "keys"
    assert [p.name for p in keys.iterdir()] == ["alice.json"]
    assert json.loads((keys / "alice.json").read_text())["name"] == "alice"


def test_a_closed_stdin_is_an_error_naming_it(tmp_path):
    (tmp_path / "keys").mkdir(mode=0o700)
    done = _closed("<&-", ["keys", "import", "-"], tmp_path)
    assert (done.returncode, done.stderr) == (2, "error: cannot read stdin: Bad file descriptor\n")
    # a passphrase cannot come from a closed stdin either: the usual message, exit 2
    assert _closed(">/dev/null", ["keys", "new", "bob", "--scheme", "ed25519", "--plaintext"],
                   tmp_path).returncode == 0
    done = _closed("<&-", ["keys", "export", "bob", "--secret"], tmp_path)
    assert done.returncode == 2 and "a passphrase is needed for key 'bob'" in done.stderr


def test_a_closed_stderr_keeps_the_exit_code(tmp_path):
    done = _closed("2>&-", ["keys", "show", "nobody"], tmp_path)
    assert done.returncode == 7 and done.stderr == ""
