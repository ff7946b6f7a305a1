"""Every ABI type through `ghost call`/`query` and back, on the sandbox and over a node
(one node process on free loopback ports), with tests/cli/contracts/kinds.zig; and
malformed command-line values refused with one line, exit 2 and no state change."""

from __future__ import annotations

import json

import pytest
from node_helpers import start_node

from ghost_cli.abi import format_address

OWNER = format_address(bytes(19) + b"\xff")  # addresses print in checksum case
VOTER = format_address(b"\xab" * 20)
BALLOT = {"id": 9, "owner": VOTER.lower(), "title": "Lunch ☕", "votes": [1, 2, 2**32 - 1],
          "color": "green", "pairs": [{"a": 1, "b": "x"}, {"a": 2**64 - 1, "b": ""}],
          "grid": [[1, 2, 3], [4, 5, 65535]], "tag": "0x61626364"}

# (function, the argument as typed on the command line, the result --json prints)
CASES = [
    ("echo_bool", "true", True),
    ("echo_u8", "255", 255),
    ("echo_i32", "-2147483648", -2147483648),
    ("echo_u128", str(2**128 - 1), 2**128 - 1),
    ("echo_i256", str(-(2**255)), -(2**255)),
    ("echo_address", OWNER.lower(), OWNER),  # printed in checksum case
    ("echo_bytes4", "0x01020304", "0x01020304"),
    ("echo_bytes32", "0x" + "11" * 32, "0x" + "11" * 32),
    ("echo_bytes", "0x", "0x"),
    ("echo_string", "héllo wörld", "héllo wörld"),
    ("echo_array", "[1, 2, 65535]", [1, 2, 65535]),
    ("echo_slice", "[]", []),
    ("echo_slice", "[7, 8]", [7, 8]),
    ("echo_optional", "null", None),
    ("echo_optional", '"18446744073709551615"', 2**64 - 1),
    ("echo_enum", "blue", "blue"),
    ("echo_enum", "1", "green"),  # an enum also by its value
    ("echo_pair", '{"a": 1, "b": "x"}', {"a": 1, "b": "x"}),
    ("echo_ballot", json.dumps(BALLOT), {**BALLOT, "owner": VOTER}),
]

MALFORMED = [
    ("echo_u8", "256", "error: 256 does not fit in u8 (0..255)"),
    ("echo_enum", "purple", "error: 'purple' is no variant of Color (red, green, blue)"),
    ("echo_array", "[1,2", "error: expected JSON for u16[3] (e.g. '[...]'), got '[1,2'"),
    ("echo_array", "[1,2]", None),
    ("echo_bytes4", "0x0102", None),
    ("echo_pair", '{"a": 1}', "error: Pair value lacks field(s) b"),
    ("echo_pair", '{"a": 1, "b": "x", "c": 2}', None),
    ("echo_bool", "maybe", "error: expected true or false, got 'maybe'"),
    ("record", '{"id": 1}', None),
]


def _through(ghost_at, root, net: list[str], key: list[str], *, transactions: bool) -> None:
    """Each case as a query (and with `transactions` also as a transaction: the node
    case sends one, `record`, since each waits for its block)."""
    for function, text, expected in CASES:
        kind, extra = ("call", key) if transactions else ("query", [])
        called = ghost_at(root, kind, "kinds", function, *net, *extra, "--json", "--", text)
        assert called.code == 0, (function, called.stderr)
        assert called.json["result"] == expected, function
        if not transactions:
            continue  # the text form is the same whatever the network: checked once
        queried = ghost_at(root, "query", "kinds", function, *net, "--", text)
        assert queried.code == 0, (function, queried.stderr)
        shown = queried.stdout.strip()  # people get JSON text for compound values
        want = expected if isinstance(expected, str) else json.dumps(
            expected, separators=(", ", ": "), ensure_ascii=False)
        if isinstance(expected, bool):
            want = "true" if expected else "false"
        assert shown == want, function
    # a struct kept in storage, the typed event, and the optional struct read back
    recorded = ghost_at(root, "call", "kinds", "record", json.dumps(BALLOT), *net, *key,
                        "--json")
    assert recorded.code == 0, recorded.stderr
    [event] = recorded.json["events"]
    assert event["name"] == "Recorded"
    assert event["fields"]["id"] == 9 and event["fields"]["color"] == "green"
    assert event["fields"]["title"] == "Lunch ☕"
    assert event["fields"]["who"] == recorded.json["sender"]
    last = ghost_at(root, "query", "kinds", "last_ballot", *net, "--json")
    assert last.json["result"] == {**BALLOT, "owner": VOTER}
    if transactions:
        text = ghost_at(root, "call", "kinds", "record", json.dumps(BALLOT), *net, *key)
        assert "event Recorded who=0x" in text.stderr and "color='green'" in text.stderr


def _refused(ghost_at, root, net: list[str], key: list[str], cases=MALFORMED) -> None:
    before = ghost_at(root, "query", "kinds", "recorded", *net, "--json").json["result"]
    for function, text, message in cases:
        r = ghost_at(root, "call", "kinds", function, text, *net, *key)
        assert r.code == 2, (function, text, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
        if message:
            assert r.stderr.strip() == message
        as_json = ghost_at(root, "call", "kinds", function, text, *net, *key, "--json")
        assert as_json.code == 2 and as_json.json["error"]["code"] == "bad_arguments"
    after = ghost_at(root, "query", "kinds", "recorded", *net, "--json").json["result"]
    assert after == before


def test_every_abi_type_through_the_cli_on_the_sandbox(kinds, ghost_at):
    assert ghost_at(kinds, "deploy", "kinds").code == 0
    _through(ghost_at, kinds, [], [], transactions=True)
    _refused(ghost_at, kinds, [], [])


@pytest.mark.slow
def test_every_abi_type_through_the_cli_over_a_node(kinds, ghost_at, tmp_path):
    node = start_node(tmp_path / "node-data")
    try:
        assert ghost_at(kinds, "keys", "new", "alice").code == 0
        added = ghost_at(kinds, "network", "add", "local", "--url",
                         f"quic://{node.bound['quic']}", "--http-url",
                         f"http://{node.bound['http']}", "--ca", node.bound["ca"])
        assert added.code == 0, added.stderr
        net, key = ["--network", "local"], ["--key", "alice"]
        deployed = ghost_at(kinds, "deploy", "kinds", *net, *key)
        assert deployed.code == 0, deployed.stderr
        _through(ghost_at, kinds, net, key, transactions=False)
        _refused(ghost_at, kinds, net, key, MALFORMED[:3])
        _generated_client_over_the_node(kinds, ghost_at)
        address = ghost_at(kinds, "query", "kinds", "recorded", *net, "--json").json["address"]
        remote = ghost_at(kinds, "inspect", address, *net, "--json")
        assert remote.code == 0, remote.stderr
        local = ghost_at(kinds, "inspect", "kinds", "--json").json
        assert remote.json["types"] == local["types"]
        assert remote.json["functions"] == local["functions"]
        assert remote.json["origin"] == f"network local, {address}"
    finally:
        node.stop()


def _generated_client_over_the_node(root, ghost_at) -> None:
    """The Python client `ghost bindings python` writes, over the node client that
    `ghost call --network` uses, signing with a keystore key."""
    import importlib.util
    import sys

    from ghost_cli.cli.signing import load_signer
    from ghost_cli.config.project import load_project
    from ghost_cli.networks import open_network

    out = root / "kinds_node_client.py"
    assert ghost_at(root, "bindings", "python", "kinds", "-o", str(out)).code == 0
    spec = importlib.util.spec_from_file_location("kinds_node_client", out)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["kinds_node_client"] = mod
    spec.loader.exec_module(mod)
    address = ghost_at(root, "query", "kinds", "recorded", "--network", "local",
                       "--json").json["address"]
    with open_network(load_project(root), "local") as net:
        signer = load_signer("alice", None)
        kinds = mod.Kinds(net, address, signer=signer)
        ballot = mod.Ballot(id=3, owner=b"\x01" * 20, title="node", votes=[],
                            color=None, pairs=[], grid=[[0] * 3] * 2, tag=b"wxyz")
        assert kinds.echo_ballot(ballot, query=True) == ballot
        before = kinds.recorded(query=True)
        assert kinds.record(ballot) == before + 1
        [event] = kinds.events()
        assert event == mod.RecordedEvent(who=signer.address, id=3, color=None,
                                          title="node")
        assert kinds.last_ballot(query=True) == ballot
