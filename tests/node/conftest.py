"""Fixtures for node tests: the counter built once, a signing key, a running node."""

from __future__ import annotations

from pathlib import Path

import pytest
from node_helpers import Client, start_node

from ghost_cli.config.project import load_project
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project


@pytest.fixture(scope="session")
def counter_code(tmp_path_factory) -> bytes:
    root = new_project("demo", "counter", tmp_path_factory.mktemp("node") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


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
