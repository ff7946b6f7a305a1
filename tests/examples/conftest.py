"""Built example projects (templates storage and arithmetic), a `ghost` runner per project,
and a node process (tests/support/node_helpers.py), for the end-to-end example tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import run_ghost
from node_helpers import start_node

EXAMPLES = ("storage", "arithmetic")






@pytest.fixture(scope="session")
def built_examples(tmp_path_factory) -> dict[str, Path]:
    """Each example as `ghost new` makes it, built for both targets once per session."""
    out = {}
    for name in EXAMPLES:
        root = tmp_path_factory.mktemp("examples") / name
        made = run_ghost("new", name, "--template", name, "--dir", str(root), cwd=root.parent)
        assert made.code == 0, made.stderr
        for target in ("wasm", "zvm"):
            built = run_ghost("build", "--target", target, cwd=root)
            assert built.code == 0, built.stderr
        out[name] = root
    return out


@pytest.fixture
def example(built_examples, tmp_path):
    """example(name): a fresh copy of that built project and a `ghost` runner in it."""

    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home"),
           "GHOST_PASSPHRASE": "correct horse"}
    env.pop("GHOST_TRANSPORT", None)

    def make(name: str):
        root = tmp_path / name
        shutil.copytree(built_examples[name], root, ignore=shutil.ignore_patterns(".ghost"))
        return root, lambda *args: run_ghost(*args, cwd=root, env=env)

    return make


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "node-data")
    yield proc
    proc.stop()
