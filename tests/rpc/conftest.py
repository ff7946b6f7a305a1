"""The dispatcher over a real NodeCore (SQLite file, real engines), without sockets."""

from __future__ import annotations

import pytest
from rpc_helpers import CHAIN_ID, Rpc

from ghost_cli.chain.checkpoint import CheckpointPolicy
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.core import NodeCore
from ghost_cli.rpc import Dispatcher, Limits


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x01" * 32)


@pytest.fixture
def core(tmp_path):
    node = NodeCore.open(tmp_path / "node", chain_id=CHAIN_ID,
                         policy=CheckpointPolicy(every_txs=2, every_ms=None))
    yield node
    node.close()


@pytest.fixture
def dispatcher(core) -> Dispatcher:
    return Dispatcher(core, limits=Limits(max_body=64 * 1024, max_batch=5))


@pytest.fixture
def rpc(dispatcher, key) -> Rpc:
    return Rpc(dispatcher, key)
