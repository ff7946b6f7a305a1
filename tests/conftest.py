"""Fixtures shared across the test packages."""

import os
import shutil
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
    """A counter project "hello", created and built once by `ghost` as a process."""
    root = tmp_path_factory.mktemp("client") / "hello"
    made = run_ghost("new", "hello", "--dir", str(root), cwd=root.parent)
    assert made.code == 0, made.stderr
    built = run_ghost("build", cwd=root)
    assert built.code == 0, built.stderr
    return root


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    """A private copy of the built project, with a fresh sandbox."""
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
