"""Fixtures shared across the test packages."""

from pathlib import Path

import pytest

from ghost_cli.config.project import load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

# `pg_cluster` and `store_url`: a real PostgreSQL server for the store backend tests
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
