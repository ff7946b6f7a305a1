"""Every method and every error through Dispatcher.handle: bytes in, bytes out."""

from __future__ import annotations

import json

import pytest
from rpc_helpers import CHAIN_ID, NOW

from ghost_cli import __version__
from ghost_cli.abi import encode_call
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.rpc.methods import METHODS

U64_MAX = 2**64 - 1


@pytest.fixture
def counter(rpc, counter_code) -> str:
    return rpc.deploy(counter_code)["address"]


def _u64(n: int) -> str:
    return "0x" + n.to_bytes(8, "little").hex()


def test_deploy_answers_with_the_receipt(rpc, counter_code, key):
    r = rpc.deploy(counter_code)
    assert r["kind"] == "deploy" and r["block_height"] == 1 and r["result"] is None
    assert r["sender"].lower() == "0x" + key.address.hex()
    assert r["tx_hash"].startswith("0x") and len(r["tx_hash"]) == 66
    assert r["events"] == [] and r["logs"] == [] and r["return_data"] == "0x"


def test_call_query_receipt_events_account(rpc, counter, key):
    sent = rpc.send_call(counter, "increment")["result"]
    assert sent["function"] == "increment" and sent["result"] is None
    assert sent["return_data"] == _u64(1) and sent["block_height"] == 2
    [event] = sent["events"]
    assert event["name"] == "Incremented" and event["address"] == counter
    assert event["topics"][1] == "0x" + key.address.hex() + bytes(12).hex()

    q = rpc.result("ghost_query", address=counter, function="get")
    assert q == {"return_data": _u64(1), "gas_used": q["gas_used"], "events": [], "logs": [],
                 "block_height": 2}
    assert q["gas_used"] > 21_000

    assert rpc.result("ghost_getReceipt", hash=sent["tx_hash"]) == sent
    events = rpc.result("ghost_getEvents", address=counter)["events"]
    assert [(e["name"], e["block_height"], e["tx_hash"], e["index"]) for e in events] == [
        ("Incremented", 2, sent["tx_hash"], 0)]
    assert rpc.result("ghost_getAccount", address="0x" + key.address.hex()) == {
        "address": sent["sender"], "nonce": 2}


def test_query_with_calldata_and_sender(rpc, counter):
    args = "0x" + encode_call(_fn(rpc, counter, "add"), [5]).hex()
    q = rpc.result("ghost_query", address=counter, function="add", args=args,
                   sender="0x" + "11" * 20)
    assert q["return_data"] == _u64(5)
    # a query records nothing
    assert rpc.result("ghost_query", address=counter, function="get")["return_data"] == _u64(0)


def _fn(rpc, address, name):
    from ghost_cli.abi import Abi

    return Abi.from_json(rpc.result("ghost_getContract", address=address)["abi"]).function(name)


def test_events_filters(rpc, counter, key):
    other = KeyPair.generate("ml-dsa-65", b"\x02" * 32)
    rpc.send_call(counter, "increment")
    rpc.send_call(counter, "increment", signer=other, nonce=0)
    rpc.send_call(counter, "increment")
    topic = "0x" + other.address.hex() + bytes(12).hex()
    assert [e["block_height"] for e in rpc.result("ghost_getEvents", topic=topic)["events"]] == [3]
    assert len(rpc.result("ghost_getEvents", name="Incremented")["events"]) == 3
    assert rpc.result("ghost_getEvents", name="Nope")["events"] == []
    got = rpc.result("ghost_getEvents", from_block=3, to_block=4, limit=1)["events"]
    assert [e["block_height"] for e in got] == [3]


def test_get_contract_by_name_and_address(rpc, counter):
    by_name = rpc.result("ghost_getContract", name="counter")
    assert by_name == rpc.result("ghost_getContract", address=counter.lower())
    assert by_name["address"] == counter and by_name["name"] == "counter"
    assert by_name["height"] == 1 and len(by_name["code_hash"]) == 66
    assert {f["name"] for f in by_name["abi"]["functions"]} >= {"increment", "get", "add"}
    assert rpc.error("ghost_getContract", name="counter", address=counter)["code"] == -32602
    assert rpc.error("ghost_getContract")["code"] == -32602


def test_node_info_and_health(rpc, counter):
    info = rpc.result("ghost_nodeInfo")
    assert info["chain_id"] == CHAIN_ID and info["version"] == __version__
    assert info["height"] == 1 and info["transports"] == ["http"]
    assert rpc.result("ghost_health") == {"ok": True, "height": 1, "store": "sqlite"}


# ---- application errors -----------------------------------------------------------------


def _assert_unchanged(rpc, key, nonce, height):
    assert rpc.result("ghost_getAccount", address="0x" + key.address.hex())["nonce"] == nonce
    assert rpc.result("ghost_health")["height"] == height


def test_bad_signature(rpc, counter, key):
    tx = rpc.tx("call", target=bytes.fromhex(counter[2:]), function="increment")
    sig = bytearray(bytes.fromhex(tx["auth"]["signature"]))
    sig[-1] ^= 1
    tx["auth"]["signature"] = sig.hex()
    err = rpc.error("ghost_sendTransaction", tx=tx)
    assert err["code"] == -32011 and err["data"]["code"] == "bad_signature"
    _assert_unchanged(rpc, key, 1, 1)


def test_replay_is_a_bad_nonce(rpc, counter, key):
    tx = rpc.tx("call", target=bytes.fromhex(counter[2:]), function="increment")
    assert "result" in rpc.call("ghost_sendTransaction", tx=tx)
    err = rpc.error("ghost_sendTransaction", tx=tx)
    assert err["code"] == -32013 and err["data"]["code"] == "bad_nonce"
    _assert_unchanged(rpc, key, 2, 2)


def test_wrong_chain_and_expired(rpc, counter, key):
    target = bytes.fromhex(counter[2:])
    err = rpc.send_call(counter, "increment", chain_id=CHAIN_ID + 1)["error"]
    assert err["code"] == -32012 and err["data"]["code"] == "wrong_chain"
    err = rpc.error("ghost_sendTransaction", tx=rpc.tx("call", target=target,
                                                       function="increment", expiry=int(NOW) - 1))
    assert err["code"] == -32014 and err["data"]["code"] == "expired"
    _assert_unchanged(rpc, key, 1, 1)


def test_revert_is_an_error_and_records_a_failed_receipt(rpc, counter, key):
    fn = _fn(rpc, counter, "add")
    assert "result" in rpc.send_call(counter, "add", encode_call(fn, [U64_MAX]))
    err = rpc.send_call(counter, "add", encode_call(fn, [1]))["error"]
    assert err["code"] == -32021 and err["data"]["code"] == "reverted"
    assert err["data"]["reason"] == "Overflow" and err["data"]["gas_used"] > 21_000
    # The failure is recorded (Ethereum's model): nonce used, gas charged, state kept.
    _assert_unchanged(rpc, key, 3, 3)
    receipt = rpc.result("ghost_getReceipt", hash=err["data"]["tx_hash"])
    assert receipt["status"] == "failed" and receipt["events"] == []
    assert receipt["error"] == {"code": "reverted", "message": "reverted: Overflow"}
    assert receipt["gas_used"] == err["data"]["gas_used"] and receipt["block_height"] == 3
    assert rpc.result("ghost_query", address=counter, function="get")["return_data"] == \
        "0x" + U64_MAX.to_bytes(8, "little").hex()


def test_unknown_contract_function_receipt(rpc, counter):
    nowhere = "0x" + "22" * 20
    assert rpc.error("ghost_query", address=nowhere, function="get")["code"] == -32040
    assert rpc.error("ghost_query", address=counter, function="nope")["code"] == -32040
    err = rpc.send_call(nowhere, "increment")["error"]
    assert err["code"] == -32040 and err["data"]["code"] == "not_found"
    assert rpc.error("ghost_getReceipt", hash="0x" + "00" * 32)["code"] == -32040
    assert rpc.error("ghost_getContract", name="ghost")["code"] == -32040


def test_invalid_module(rpc):
    err = rpc.error("ghost_sendTransaction", tx=rpc.tx("deploy", code=b"\0asm junk"))
    assert err["code"] == -32041 and err["data"]["code"] == "invalid_module"


def test_malformed_tx_document_is_tx_rejected(rpc):
    err = rpc.error("ghost_sendTransaction", tx={"format": "ghost-tx", "tx": "zz"})
    assert err["code"] == -32010 and err["data"]["code"] == "tx_rejected"


def test_checkpoints_every_two_transactions(rpc, counter):
    assert rpc.error("ghost_getCheckpoint")["data"]["code"] == "not_found"  # one tx so far
    sent = rpc.send_call(counter, "increment")["result"]
    cp = rpc.result("ghost_getCheckpoint")
    assert cp == rpc.result("ghost_getCheckpoint", height=2)
    assert (cp["height"], cp["first_height"], cp["tx_count"]) == (2, 1, 2)
    assert cp["state_root"] == rpc.result("ghost_nodeInfo")["state_root"]
    assert rpc.error("ghost_getCheckpoint", height=1)["code"] == -32040

    from ghost_cli.chain.checkpoint import Checkpoint, prove_receipt, verify_receipt

    store = rpc.d.core.store
    checkpoint, list_proof = prove_receipt(store, bytes.fromhex(sent["tx_hash"][2:]))
    assert checkpoint == Checkpoint.from_json(cp)
    assert verify_receipt(checkpoint, bytes.fromhex(sent["tx_hash"][2:]), list_proof)


def test_proofs_verify_against_the_checkpoint_root(rpc, counter):
    from ghost_cli.crypto.proof import Proof, verify_proof

    rpc.send_call(counter, "increment")
    address = bytes.fromhex(counter[2:])
    got = rpc.result("ghost_getProof", address=counter, key="0x" + b"count".hex())
    assert got["value"] == _u64(1) and got["checkpoint_height"] == 2 and got["height"] == 2
    assert got["state_root"] == rpc.result("ghost_getCheckpoint")["state_root"]
    root = bytes.fromhex(got["state_root"][2:])
    proof = Proof.from_json(got["proof"])
    assert verify_proof(root, address, b"count", (1).to_bytes(8, "little"), proof)
    assert not verify_proof(root, address, b"count", (2).to_bytes(8, "little"), proof)

    absent = rpc.result("ghost_getProof", address=counter, key="0x00")
    assert absent["value"] is None
    assert verify_proof(root, address, b"\0", None, Proof.from_json(absent["proof"]))

    rpc.send_call(counter, "increment")  # block 3: past the checkpoint, a new root
    moved = rpc.result("ghost_getProof", address=counter, key="0x" + b"count".hex())
    assert moved["checkpoint_height"] is None and moved["state_root"] != got["state_root"]


def test_tick_makes_a_checkpoint_when_time_has_passed(core, rpc, counter):
    from dataclasses import replace

    core.policy = replace(core.policy, every_ms=500)
    assert core.tick(NOW + 0.1) is None
    cp = core.tick(NOW + 1)
    assert cp is not None and cp.height == 1 and cp.tx_count == 1
    assert core.tick(NOW + 5) is None  # nothing new since


# ---- protocol errors --------------------------------------------------------------------


@pytest.mark.parametrize("params, problem", [
    ({"address": "0x1234"}, "address"),
    ({"address": "nothex"}, "address"),
    ({}, "needs param 'address'"),
    ({"address": "0x" + "11" * 20, "extra": 1}, "no param(s) 'extra'"),
    ({"address": 5}, "address"),
])
def test_bad_params(rpc, params, problem):
    err = rpc.error("ghost_getAccount", **params)
    assert err["code"] == -32602 and problem in err["message"]
    assert err["data"]["code"] == "invalid_params"


def test_a_null_param_is_as_if_omitted(rpc):
    assert rpc.result("ghost_getStateRoot", height=None) == rpc.result("ghost_getStateRoot")
    err = rpc.error("ghost_getAccount", address=None)
    assert err["code"] == -32602 and "needs param 'address'" in err["message"]
    assert rpc.error("ghost_getStateRoot", heigth=None)["code"] == -32602


@pytest.mark.parametrize("method, params", [
    ("ghost_getReceipt", {"hash": "0x00"}),
    ("ghost_getEvents", {"limit": 0}),
    ("ghost_getEvents", {"from_block": -1}),
    ("ghost_getEvents", {"from_block": True}),
    ("ghost_query", {"address": "0x" + "11" * 20, "function": "get", "args": "0x1"}),
    ("ghost_query", {"address": "0x" + "11" * 20, "function": ""}),
    ("ghost_sendTransaction", {"tx": "0x00"}),
    # \ud800 escapes parse to lone surrogates: invalid params, not the store's encode error
    ("ghost_getEvents", {"name": "\ud800"}),
    ("ghost_getContract", {"name": "a\udfff"}),
    ("ghost_query", {"address": "0x" + "11" * 20, "function": "\ud800"}),
    # a trailing newline is not hex (a regex `$` would allow it; fromhex skips it)
    ("ghost_getReceipt", {"hash": "0x" + "11" * 32 + "\n"}),
    ("ghost_getCode", {"code_hash": "0x" + "11" * 32 + "\n"}),
])
def test_bad_param_types(rpc, method, params):
    assert rpc.error(method, **params)["code"] == -32602


def test_malformed_json(rpc):
    reply = rpc.raw(b'{"jsonrpc": "2.0", "method": ')
    assert reply["id"] is None and reply["error"]["code"] == -32700
    assert reply["error"]["data"]["code"] == "parse_error"


def test_not_an_object(rpc):
    reply = rpc.raw(b'"hello"')
    assert reply["id"] is None and reply["error"]["code"] == -32600


def test_unknown_method(rpc):
    reply = rpc.call("eth_blockNumber")
    assert reply["error"]["code"] == -32601 and reply["id"] == 1


def test_batch_mixes_results_and_errors_in_order(rpc):
    body = json.dumps([
        {"jsonrpc": "2.0", "id": "a", "method": "ghost_health"},
        {"jsonrpc": "2.0", "method": "ghost_health"},  # notification: no response
        {"jsonrpc": "2.0", "id": "b", "method": "nope"},
        7,
    ]).encode()
    replies = rpc.raw(body)
    assert [r["id"] for r in replies] == ["a", "b", None]
    assert replies[0]["result"]["ok"] is True
    assert [r["error"]["code"] for r in replies[1:]] == [-32601, -32600]


def test_batch_over_the_limit_and_empty(rpc):
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "ghost_health"}
                       for i in range(6)]).encode()
    reply = rpc.raw(body)
    assert reply["error"]["code"] == -32001 and reply["error"]["data"]["code"] == "too_large"
    assert rpc.raw(b"[]")["error"]["code"] == -32600


def test_a_batch_over_the_limit_is_refused_before_any_entry_is_read(rpc, monkeypatch):
    """Counted as parsed, not after each entry became a request: a 4 MiB body of two
    million `1`s cost seconds of a worker and a gigabyte of memory before its refusal."""
    from ghost_cli.rpc import codec

    read = []
    monkeypatch.setattr(codec, "_entry", lambda doc: read.append(doc))
    reply = rpc.raw(b"[" + b",".join([b"1"] * 10_000) + b"]")
    assert reply["error"]["code"] == -32001 and reply["error"]["data"]["limit"] == 5
    assert "batch of 10000 requests" in reply["error"]["message"] and read == []


def test_only_notifications_is_an_empty_body(rpc):
    assert rpc.d.handle(b'[{"jsonrpc":"2.0","method":"ghost_health"}]', peer="t", now=NOW) == b""


def test_oversized_body(rpc):
    reply = rpc.raw(b" " * (64 * 1024 + 1))
    assert reply["error"]["code"] == -32001 and reply["error"]["data"]["limit"] == 64 * 1024
    assert json.loads(rpc.d.too_large(None, peer="t"))["error"]["data"]["code"] == "too_large"


def test_an_unexpected_failure_is_an_internal_error_without_details(rpc, monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(rpc.d.core, "health", broken)
    err = rpc.error("ghost_health")
    assert err == {"code": -32603, "message": "internal error",
                   "data": {"code": "internal_error"}}


def test_every_method_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rpc.md").read_text()
    for m in METHODS:
        assert f"### `{m.name}`" in doc, m.name
        for p in m.params:
            assert f"`{p.name}`" in doc


def test_keccak_is_the_tx_hash(rpc, counter_code):
    doc = rpc.tx("deploy", code=counter_code, label="c")
    r = rpc.result("ghost_sendTransaction", tx=doc)
    assert r["tx_hash"] == doc["hash"] == "0x" + keccak256(
        b"ghost/tx/v1" + bytes.fromhex(doc["tx"])).hex()


def test_a_deploy_runs_its_constructor_with_the_args_field(rpc, token_code, key):
    """The constructor's arguments travel in the signed deploy's `args` field."""
    receipt = rpc.result("ghost_sendTransaction", tx=rpc.tx(
        "deploy", code=token_code, label="token", args=(1000).to_bytes(8, "little")))
    assert receipt["block_height"] == 1 and receipt["status"] == "ok"
    assert [e["name"] for e in receipt["events"]] == ["Transfer"]
    info = rpc.result("ghost_getContract", name="token")
    assert info["abi"]["constructor"]["inputs"] == [{"name": "supply", "type": "u64"}]
    assert "init" not in [f["name"] for f in info["abi"]["functions"]]
    q = rpc.result("ghost_query", address=receipt["address"], function="total_supply")
    assert q["return_data"] == "0x" + (1000).to_bytes(8, "little").hex()
    err = rpc.send_call(receipt["address"], "init", (5).to_bytes(8, "little"))["error"]
    assert err["code"] == -32040 and "constructor" in err["message"]
    _assert_unchanged(rpc, key, 1, 1)
