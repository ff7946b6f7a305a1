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


# ---- a project whose contract `kinds` takes and returns every ABI type ------------------

KINDS_SOURCE = Path(__file__).parent / "contracts" / "kinds.zig"


@pytest.fixture(scope="session")
def kinds_project(tmp_path_factory) -> Path:
    """A counter project with a second contract, `kinds` (tests/cli/contracts/kinds.zig),
    built once (only `kinds`) by `ghost build`'s library core."""
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project("kinds", "counter", tmp_path_factory.mktemp("kinds") / "kinds")
    (root / "src" / "kinds.zig").write_text(KINDS_SOURCE.read_text())
    with open(root / "ghost.toml", "a") as f:
        f.write('\n[contracts.kinds]\nsource = "src/kinds.zig"\n')
    build_project(load_project(root), ["kinds"])
    return root


@pytest.fixture
def kinds(kinds_project, tmp_path) -> Path:
    """A private copy of the kinds project, with a fresh sandbox."""
    import shutil

    dest = tmp_path / "kinds"
    shutil.copytree(kinds_project, dest, ignore=shutil.ignore_patterns(".ghost"))
    return dest


@pytest.fixture
def ghost_at(monkeypatch, tmp_path):
    """Run `ghost ARGS...` in this process (typer's CliRunner) in directory `cwd`: fast
    enough to go through every ABI type. Returns a cli_helpers.Result."""
    from typer.testing import CliRunner

    from ghost_cli.cli.main import app

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("GHOST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GHOST_PASSPHRASE", "correct horse")
    for var in ("GHOST_TRANSPORT", "GHOST_NETWORK", "GHOST_JSON"):
        monkeypatch.delenv(var, raising=False)

    def run(cwd: Path, *args: str) -> Result:
        monkeypatch.chdir(cwd)
        r = CliRunner().invoke(app, list(args), prog_name="ghost")
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        return Result(r.exit_code, r.stdout, r.stderr)

    return run
