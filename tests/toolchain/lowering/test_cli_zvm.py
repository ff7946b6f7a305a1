"""`ghost build --target zvm`, `ghost deploy`, `ghost call` and `ghost test` as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.config.project import set_value

pytestmark = pytest.mark.slow


def ghost(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ghost_cli", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1"}, timeout=600,
    )


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "hello"
    assert ghost("new", "hello", "--dir", str(root), cwd=tmp_path).returncode == 0
    return root


def test_build_deploy_call_on_zvm(project):
    built = ghost("build", "--target", "zvm", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    (contract,) = json.loads(built.stdout)["contracts"]
    assert contract["target"] == "zvm" and contract["path"] == "build/counter.zvmc"
    assert (project / "build" / "counter.zvmc").read_bytes()[:4] == b"ZVMC"

    # the wasm artifact was not built, so the default target has nothing to deploy
    missing = ghost("deploy", "--json", cwd=project)
    assert missing.returncode == 7
    assert "counter.wasm" in json.loads(missing.stdout)["error"]["message"]

    deployed = ghost("deploy", "--target", "zvm", "--json", cwd=project)
    assert deployed.returncode == 0, deployed.stderr
    call = ghost("call", "counter", "increment", "--json", cwd=project)
    assert call.returncode == 0, call.stderr
    out = json.loads(call.stdout)
    assert out["result"] == 1 and out["events"][0]["name"] == "Incremented"
    overflow = ghost("call", "counter", "add", str(2**64 - 1), "--json", cwd=project)
    assert overflow.returncode == 6
    assert json.loads(overflow.stdout)["error"]["details"]["reason"] == "Overflow"
    query = ghost("query", "counter", "get", "--json", cwd=project)
    assert json.loads(query.stdout)["result"] == 1


def test_configured_target_drives_build_deploy_and_test(project):
    set_value(project, "contracts.counter.target", "zvm")
    assert ghost("build", cwd=project).returncode == 0
    assert (project / "build" / "counter.zvmc").is_file()
    assert not (project / "build" / "counter.wasm").exists()
    deployed = ghost("deploy", "--json", cwd=project)
    assert deployed.returncode == 0, deployed.stderr
    # the template's own tests, run against the ZVM build
    tested = ghost("test", "--json", cwd=project)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["tests"]["failed"] == 0


def test_unknown_target_is_a_usage_error(project):
    bad = ghost("build", "--target", "evm", "--json", cwd=project)
    assert bad.returncode == 2
    assert "evm" in json.loads(bad.stdout)["error"]["message"]
