"""A counter built once, a signing key, and a node process serving gRPC on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from node_helpers import start_node  # noqa: E402

from ghost_cli.config.project import load_project  # noqa: E402
from ghost_cli.crypto.keypair import KeyPair  # noqa: E402
from ghost_cli.scaffold import new_project  # noqa: E402
from ghost_cli.toolchain.build import build_project  # noqa: E402


@pytest.fixture(scope="session")
def counter_code(tmp_path_factory) -> bytes:
    root = new_project("demo", "counter", tmp_path_factory.mktemp("grpc") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x09" * 32)


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "data", "--grpc", "127.0.0.1:0")
    yield proc
    proc.stop()
