"""The sandbox keeps receipts and events as a node does: `receipt` and `events` read them
back (result decoded, sender named), and a failed call leaves neither."""

from __future__ import annotations

import pytest
from zvm_contracts import STORE, STORE_ABI, code_of  # a .zasm cell emitting "Set"

from ghost_cli.exceptions import NotFoundError, RevertError


def test_receipt_names_its_sender_and_decodes_its_result(sandbox):
    deployed = sandbox.deploy(STORE, name="B")
    assert deployed.sender == sandbox.default_sender
    second = sandbox.dev_keys[1]
    sent = sandbox.call("B", "set", [7], signer=second)
    assert sent.sender == second.address
    got = sandbox.receipt(sent.tx_hash)
    assert got == sent  # every field: kind, sender, result, gas, events, logs
    assert (got.kind, got.result, got.function) == ("call", 7, "set")
    assert sandbox.receipt(deployed.tx_hash).kind == "deploy"
    assert sandbox.query("B", "get").sender == sandbox.default_sender
    with pytest.raises(NotFoundError):
        sandbox.receipt(b"\0" * 32)


def test_events_in_the_node_shape_filtered_and_oldest_first(sandbox):
    b = sandbox.deploy(STORE, name="B").address
    first = sandbox.call("B", "set", [1])
    sandbox.call("B", "set", [2])
    with pytest.raises(RevertError):
        sandbox.call("B", "set_then_fail", [3])  # its event is undone with it
    found = sandbox.events("B")
    assert [e["data"] for e in found] == ["0x" + (1).to_bytes(8, "little").hex(),
                                          "0x" + (2).to_bytes(8, "little").hex()]
    e = found[0]
    assert (e["name"], e["address"].lower(), e["block_height"], e["index"]) == (
        "Set", "0x" + b.hex(), first.block_height, 0)
    assert e["tx_hash"] == "0x" + first.tx_hash.hex()
    assert sandbox.events("B", from_block=first.block_height + 1)[0]["data"] == found[1]["data"]
    assert sandbox.events("B", limit=1) == found[:1]
    assert sandbox.events("B", name="Other") == []


def test_a_receipt_decodes_its_events_by_its_abi(sandbox):
    from ghost_cli.abi import Abi
    from ghost_cli.vm.zvm import encode_zvmc, metadata_json

    abi = {**STORE_ABI, "events": [{"name": "Set", "fields": [{"name": "value", "type": "u64"}]}]}
    sandbox.deploy(encode_zvmc(code_of("store"), metadata_json({"abi": abi})), name="C")
    receipt = sandbox.call("C", "set", [9])
    assert receipt.abi == Abi.from_json(abi)
    [event] = receipt.decoded_events()
    nine = "0x" + (9).to_bytes(8, "little").hex()
    assert (event["name"], event["fields"], event["data"]) == ("Set", {"value": 9}, nine)
    assert sandbox.receipt(receipt.tx_hash).decoded_events() == [event]
