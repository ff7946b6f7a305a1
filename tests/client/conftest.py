"""A built counter project, a keystore, and a node process (tests/node/node_helpers.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from node_helpers import start_node  # noqa: E402


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("client") / "hello"
    for args in (("new", "hello", "--dir", str(root)), ("build",)):
        proc = subprocess.run([sys.executable, "-m", "ghost_cli", *args], capture_output=True,
                              text=True, cwd=root if args == ("build",) else root.parent)
        assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(built_project, dest, ignore=shutil.ignore_patterns(".ghost"))
    return dest


@pytest.fixture
def ghost(project, tmp_path):
    """Run `ghost ARGS...` as a process in the project, with its own GHOST_HOME."""
    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home"),
           "GHOST_PASSPHRASE": "correct horse"}
    env.pop("GHOST_TRANSPORT", None)

    def run(*args: str, **extra_env: str) -> Result:
        proc = subprocess.run([sys.executable, "-m", "ghost_cli", *args], cwd=project,
                              capture_output=True, text=True, env={**env, **extra_env},
                              timeout=300)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "node-data")
    yield proc
    proc.stop()
