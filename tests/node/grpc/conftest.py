"""A counter built once, a signing key, and a node process serving gRPC on a free port."""

from __future__ import annotations

import pytest
from node_helpers import start_node

from ghost_cli.crypto.keypair import KeyPair


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x09" * 32)


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "data", "--grpc", "127.0.0.1:0")
    yield proc
    proc.stop()
