"""Output the system refuses (a full disk, a closed pipe): one line and exit 1, never a
traceback (docs/cli.md, exit codes)."""

from __future__ import annotations

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
