"""The storage and arithmetic examples end to end: `ghost new --template`, build, deploy and
call in the sandbox and on a node over QUIC (named errors, exit code 6, state unchanged
after a revert), the JSON-RPC error data, and the same answers from the ZVM build."""

from __future__ import annotations

from pathlib import Path

import pytest
from node_helpers import Client

from ghost_cli.abi import encode_value
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import RevertError

REPO = Path(__file__).resolve().parents[2]
TOP256 = 2**256 - 1


def _reason(result) -> str:
    assert result.code == 6, (result.code, result.stdout, result.stderr)
    error = result.json["error"]
    assert error["code"] == "reverted"
    assert error["message"] == f"reverted: {error['details']['reason']}"
    return error["details"]["reason"]


@pytest.mark.slow
def test_storage_in_the_sandbox(example):
    root, ghost = example("storage")
    assert ghost("deploy", "--json").code == 0
    assert ghost("keys", "new", "bob").code == 0
    bob = ghost("keys", "show", "bob", "--json").json["key"]["address"]

    assert ghost("call", "storage", "set", "greeting", "0x68690a", "--json").code == 0
    got = ghost("query", "storage", "get", "greeting", "--json").json
    assert got["result"] == "0x68690a"
    owner = ghost("query", "storage", "owner_of", "greeting", "--json").json["result"]

    assert _reason(ghost("call", "storage", "set", "greeting", "0x00", "--key", "bob",
                         "--json")) == "NotOwner"
    assert _reason(ghost("query", "storage", "get", "missing", "--json")) == "NotFound"
    assert _reason(ghost("call", "storage", "transfer", "greeting", "0x" + "00" * 20,
                         "--json")) == "ZeroAddress"
    # the reverts changed nothing
    assert ghost("query", "storage", "get", "greeting", "--json").json["result"] == "0x68690a"
    assert ghost("query", "storage", "owner_of", "greeting", "--json").json["result"] == owner

    moved = ghost("call", "storage", "transfer", "greeting", bob, "--json")
    assert moved.code == 0, moved.stderr
    assert [e["name"] for e in moved.json["events"]] == ["Transferred"]
    assert ghost("query", "storage", "owner_of", "greeting", "--json").json["result"] == bob
    assert _reason(ghost("call", "storage", "remove", "greeting", "--json")) == "NotOwner"
    assert ghost("call", "storage", "remove", "greeting", "--key", "bob").code == 0
    assert _reason(ghost("query", "storage", "owner_of", "greeting", "--json")) == "NotFound"
    plain = ghost("query", "storage", "get", "greeting")
    assert plain.code == 6 and "reverted: NotFound" in plain.stderr


@pytest.mark.slow
def test_arithmetic_in_the_sandbox(example):
    root, ghost = example("arithmetic")
    assert ghost("deploy").code == 0
    added = ghost("call", "arithmetic", "add_u256", str(TOP256 - 1), "1", "--json")
    assert added.code == 0 and added.json["result"] == TOP256  # exact, not a float
    assert ghost("query", "arithmetic", "mul_div_u256", str(TOP256), str(TOP256), str(TOP256),
                 "--json").json["result"] == TOP256
    for args, reason in [
        (("add_u64", str(2**64 - 1), "1"), "Overflow"),
        (("sub_u128", "0", "1"), "Underflow"),
        (("mul_u256", str(2**128), str(2**128)), "Overflow"),
        (("div_u256", "1", "0"), "DivisionByZero"),
        (("mul_div_u256", "1", "1", "0"), "DivisionByZero"),
    ]:
        assert _reason(ghost("call", "arithmetic", *args, "--json")) == reason, args
    assert ghost("call", "arithmetic", "accumulate", str(2**128 - 2), "--json").json[
        "result"] == 2**128 - 2
    assert _reason(ghost("call", "arithmetic", "accumulate", "2", "--json")) == "Overflow"
    assert ghost("query", "arithmetic", "total", "--json").json["result"] == 2**128 - 2


def _add_node(ghost, node) -> None:
    added = ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                  "--ca", node.bound["ca"])
    assert added.code == 0, added.stderr


@pytest.mark.slow
def test_storage_on_a_node_over_quic(example, node):
    root, ghost = example("storage")
    assert ghost("keys", "new", "alice").code == 0 and ghost("keys", "new", "bob").code == 0
    _add_node(ghost, node)
    deployed = ghost("deploy", "--network", "local", "--key", "alice", "--json")
    assert deployed.code == 0, deployed.stderr
    local = ("--network", "local")

    done = ghost("call", "storage", "set", "k", "0x2a", *local, "--key", "alice", "--json")
    assert done.code == 0, done.stderr
    assert done.json["events"][0]["name"] == "Set"
    alice = ghost("keys", "show", "alice", "--json").json["key"]["address"]
    assert ghost("query", "storage", "owner_of", "k", *local, "--json").json["result"] == alice

    refused = ghost("call", "storage", "set", "k", "0x00", *local, "--key", "bob", "--json")
    assert _reason(refused) == "NotOwner"
    assert _reason(ghost("call", "storage", "remove", "k", *local, "--key", "bob",
                         "--json")) == "NotOwner"
    assert _reason(ghost("query", "storage", "get", "nope", *local, "--json")) == "NotFound"
    assert ghost("query", "storage", "get", "k", *local, "--json").json["result"] == "0x2a"
    events = ghost("events", "storage", *local, "--json").json["events"]
    assert [e["name"] for e in events] == ["Set"]  # reverted calls left none


@pytest.mark.slow
def test_arithmetic_on_a_node_over_quic(example, node):
    root, ghost = example("arithmetic")
    assert ghost("keys", "new", "alice").code == 0
    _add_node(ghost, node)
    local = ("--network", "local", "--key", "alice")
    assert ghost("deploy", *local).code == 0
    assert ghost("call", "arithmetic", "accumulate", "40", *local, "--json").json[
        "result"] == 40
    assert _reason(ghost("call", "arithmetic", "accumulate", str(2**128 - 1), *local,
                         "--json")) == "Overflow"
    assert _reason(ghost("call", "arithmetic", "div_u128", "1", "0", *local,
                         "--json")) == "DivisionByZero"
    assert _reason(ghost("call", "arithmetic", "sub_u64", "1", "2", *local,
                         "--json")) == "Underflow"
    total = ghost("query", "arithmetic", "total", "--network", "local", "--json")
    assert total.json["result"] == 40
    big = ghost("query", "arithmetic", "mul_u256", str(2**255), "1", "--network", "local",
                "--json")
    assert big.json["result"] == 2**255


@pytest.mark.slow
def test_json_rpc_error_data_names_the_error(built_examples, node):
    """A raw JSON-RPC client sees the Zig error's name in error.data.reason."""
    code = (built_examples["storage"] / "build" / "storage.wasm").read_bytes()
    alice = KeyPair.generate("ed25519", b"\x01" * 32)
    bob = KeyPair.generate("ed25519", b"\x02" * 32)
    with Client(node.url, alice) as c:
        address = c.send(c.tx("deploy", code=code, label="storage"))["result"]["address"]
        args = encode_value("string", "k") + encode_value("bytes", b"v")
        assert "error" not in c.send(c.call_tx(address, "set", args))
        error = c.send(c.call_tx(address, "set", args, key=bob))["error"]
    assert error["code"] == -32021 and error["message"] == "reverted: NotOwner"
    assert error["data"]["code"] == "reverted" and error["data"]["reason"] == "NotOwner"
    assert error["data"]["gas_used"] > 21_000


def _replay(code: bytes, calls: list[tuple[str, tuple]]) -> list[tuple]:
    """Deploy `code` in a fresh sandbox and run `calls`; what each returned or reverted with."""
    sandbox = Sandbox(":memory:")
    try:
        address = sandbox.deploy(code).address
        out = []
        for function, args in calls:
            try:
                r = sandbox.call(address, function, args)
            except RevertError as exc:
                out.append(("reverted", exc.reason))
            else:
                out.append((r.result, [(e.name, e.topics, e.data) for e in r.events]))
        return out
    finally:
        sandbox.close()


@pytest.mark.slow
@pytest.mark.parametrize("name, calls", [
    ("storage", [("set", ("k", b"v")), ("get", ("k",)), ("get", ("x",)), ("remove", ("k",)),
                 ("owner_of", ("k",)), ("set", ("", b"")), ("exists", ("k",))]),
    ("arithmetic", [("add_u256", (TOP256, 1)), ("mul_div_u256", (TOP256, TOP256, 7)),
                    ("mul_div_u256", (TOP256, 3, 2)), ("div_u128", (2**127, 3)),
                    ("sub_u64", (1, 2)), ("accumulate", (2**127,)), ("accumulate", (2**127,)),
                    ("accumulate", (1,)), ("total", ())]),
])
def test_zvm_build_answers_as_the_wasm_build(built_examples, name, calls):
    build = built_examples[name] / "build"
    wasm = _replay((build / f"{name}.wasm").read_bytes(), calls)
    zvm = _replay((build / f"{name}.zvmc").read_bytes(), calls)
    assert zvm == wasm
    assert any(r[0] == "reverted" for r in wasm) and any(r[0] != "reverted" for r in wasm)
