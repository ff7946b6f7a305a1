"""A node process (tests/support/node_helpers.py); the built counter project and `ghost`
runner are tests/conftest.py's."""

from __future__ import annotations

import pytest
from node_helpers import start_node


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "node-data")
    yield proc
    proc.stop()
