from pathlib import Path

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project


@pytest.fixture(scope="session")
def counter_code(tmp_path_factory) -> bytes:
    """The counter template, built by `ghost build`'s library core."""
    root = new_project("demo", "counter", tmp_path_factory.mktemp("chain") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


@pytest.fixture
def sandbox(tmp_path):
    with Sandbox(tmp_path / "sandbox.db", clock=lambda: 1_700_000_000) as sb:
        yield sb
