"""A real node process (tests/node/node_helpers.py) for the DoQ and CLI tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from node_helpers import start_node  # noqa: E402


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    proc = start_node(tmp_path_factory.mktemp("names") / "node-data")
    yield proc
    proc.stop()
