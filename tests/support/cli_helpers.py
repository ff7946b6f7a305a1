"""`ghost` as a process, the way a user runs it, and what it printed."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)


def run_ghost(*args: str, cwd: Path, env: dict | None = None, timeout: float = 600) -> Result:
    """`python -m ghost_cli ARGS` in `cwd`; `env`, when given, is the whole environment."""
    proc = subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)
