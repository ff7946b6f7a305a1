"""Fixtures shared across the test packages."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import Result, run_ghost

from ghost_cli.config.project import load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

# `pg_cluster` and `store_url`: a real PostgreSQL server for the store backend tests
# (tests/support/pg_cluster.py)
pytest_plugins = ["pg_cluster"]


@pytest.fixture(scope="session")
def counter_code(tmp_path_factory) -> bytes:
    """The counter template built once per session by `ghost build`'s library core."""
    root = new_project("demo", "counter", tmp_path_factory.mktemp("counter") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


@pytest.fixture(scope="session")
def token_code(tmp_path_factory) -> bytes:
    """The token template (its constructor `init(supply: u64)` mints to the deployer)."""
    root = new_project("coin", "token", tmp_path_factory.mktemp("token") / "coin")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


# ---- a built counter project and `ghost` as a process (tests/client, tests/names) -------



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
        return run_ghost(*args, cwd=project, env={**env, **extra_env}, timeout=300)

    return run
