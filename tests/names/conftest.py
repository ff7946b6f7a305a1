"""A real node process (tests/node/node_helpers.py) for the DoQ and CLI tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from node_helpers import start_node  # noqa: E402

# The CLI tests' fixtures (a built counter project, `ghost` as a process) are tests/client's.
_spec = importlib.util.spec_from_file_location(
    "client_conftest", Path(__file__).resolve().parents[1] / "client" / "conftest.py")
_client = sys.modules["client_conftest"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_client)
built_project, project, ghost = _client.built_project, _client.project, _client.ghost


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    proc = start_node(tmp_path_factory.mktemp("names") / "node-data")
    yield proc
    proc.stop()
