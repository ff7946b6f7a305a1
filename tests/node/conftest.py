"""Fixtures for node tests: the counter built once, a signing key, a running node."""

from __future__ import annotations

import pytest
from node_helpers import Client, start_node

from ghost_cli.crypto.keypair import KeyPair


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x07" * 32)


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "data")
    yield proc
    proc.stop()


@pytest.fixture
def client(node, key):
    with Client(node.url, key) as c:
        yield c
