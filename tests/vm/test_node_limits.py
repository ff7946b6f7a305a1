"""The node refuses the same deploys and gas limits as the sandbox, with JSON-RPC codes
(not -32603): the dispatcher over a real NodeCore, bytes in and out, no sockets."""

from __future__ import annotations

import json

import pytest
from test_deploy_checks import GET, contract, with_metadata
from wasm_helpers import wat_module

from ghost_cli.chain.checkpoint import CheckpointPolicy
from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.core import NodeCore
from ghost_cli.rpc import Dispatcher
from ghost_cli.vm import gas

CHAIN_ID = 1337
NOW = 1_700_000_000


@pytest.fixture
def node(tmp_path):
    core = NodeCore.open(tmp_path / "node", chain_id=CHAIN_ID,
                         policy=CheckpointPolicy(every_txs=100, every_ms=None))
    yield Dispatcher(core), core
    core.close()


def send(dispatcher: Dispatcher, key: KeyPair, nonce: int, gas_limit: int, **fields) -> dict:
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce,
                     gas_limit=gas_limit, expiry=NOW + 600, **fields)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ghost_sendTransaction",
                       "params": {"tx": to_json(sign_single(tx, key.secret_key,
                                                            key.public_key))}})
    return json.loads(dispatcher.handle(body.encode(), peer="test", now=NOW))


def test_node_refuses_uncallable_deploys_and_huge_gas_limits(node) -> None:
    dispatcher, core = node
    key = KeyPair.generate("ed25519", b"\x02" * 32)
    bad = [
        with_metadata(wat_module(GET), b"[" * 20_000 + b"]" * 20_000),
        with_metadata(wat_module(GET), {"abi": {"functions": [{"name": "get", "output": "u7"}]}}),
        contract(GET + "(table 100000000 funcref)"),
        contract('(global (export "get") i32 (i32.const 0))'),
    ]
    for code in bad:
        reply = send(dispatcher, key, 0, gas.DEFAULT_GAS_LIMIT, kind="deploy", code=code)
        assert reply["error"]["code"] == -32041, reply
        assert reply["error"]["data"]["code"] == "invalid_module"
        assert "\n" not in reply["error"]["message"]
    reply = send(dispatcher, key, 0, 100_000_000_000, kind="deploy", code=contract())
    assert reply["error"]["code"] == -32015, reply
    assert reply["error"]["data"]["code"] == "gas_limit_too_high"
    assert core.store.nonce(key.address) == 0  # nothing was recorded
    ok = send(dispatcher, key, 0, gas.DEFAULT_GAS_LIMIT, kind="deploy", code=contract())
    assert "result" in ok, ok
