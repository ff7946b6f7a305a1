"""A real node process (tests/support/node_helpers.py) for the DoQ and CLI tests; the built
project and `ghost` runner are tests/conftest.py's."""

from __future__ import annotations

import pytest
from node_helpers import start_node


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    proc = start_node(tmp_path_factory.mktemp("names") / "node-data")
    yield proc
    proc.stop()
