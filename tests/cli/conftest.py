import os
from pathlib import Path

import cli_helpers
import pytest
from cli_helpers import Result


def _run_ghost(*args: str, cwd: Path, env: dict | None = None) -> Result:
    return cli_helpers.run_ghost(*args, cwd=cwd,
                                 env={**os.environ, "NO_COLOR": "1", **(env or {})})


@pytest.fixture(scope="session")
def built_token(tmp_path_factory) -> Path:
    """A token project (its constructor takes the supply), created and built once."""
    root = tmp_path_factory.mktemp("cli-token") / "coin"
    assert _run_ghost("new", "coin", "--template", "token", "--dir", str(root),
                      cwd=root.parent).code == 0
    result = _run_ghost("build", "--json", cwd=root)
    assert result.code == 0, result.stderr
    return root


@pytest.fixture
def run_ghost():
    """Run `ghost ARGS...` as a process: run_ghost("call", "counter", "get", cwd=project)."""
    return _run_ghost
