"""The CLI against a node process, end to end: `ghost network add`, then deploy, call and
query over HTTP/3 (and HTTP/1.1 with --transport http), receipts and events, and the
same one-line errors and exit codes as with the sandbox."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def test_deploy_call_query_on_a_node_network(ghost, node, project):
    assert ghost("keys", "new", "alice").code == 0
    quic, http, ca = node.bound["quic"], node.bound["http"], node.bound["ca"]
    added = ghost("network", "add", "local", "--url", f"quic://{quic}",
                  "--http-url", f"http://{http}", "--ca", ca, "--json")
    assert added.code == 0, added.stderr
    assert added.json["chain_id"] == 1337  # asked the node
    text = (project / "ghost.toml").read_text()
    assert f'url = "quic://{quic}"' in text and "# " in text  # comments kept

    deployed = ghost("deploy", "--network", "local", "--key", "alice", "--json")
    assert deployed.code == 0, deployed.stderr
    assert deployed.json["deployed"][0]["name"] == "counter"
    called = ghost("call", "counter", "increment", "--network", "local", "--key", "alice",
                   "--json")
    assert called.code == 0, called.stderr
    assert called.json["result"] == 1 and called.json["events"][0]["name"] == "Incremented"
    queried = ghost("query", "counter", "get", "--network", "local", "--json")
    assert queried.code == 0, queried.stderr
    assert queried.json["result"] == 1 and queried.json["tx_hash"] is None
    # HTTP/1.1 through the network's http_url, chosen by flag or environment.
    assert ghost("call", "counter", "add", "4", "--network", "local", "--key", "alice",
                 "--transport", "http").code == 0
    over_http = ghost("query", "counter", "get", "--network", "local", "--json",
                      GHOST_TRANSPORT="http")
    assert over_http.json["result"] == 5

    receipt = ghost("receipt", called.json["tx_hash"], "--network", "local", "--json")
    assert receipt.code == 0, receipt.stderr
    assert receipt.json["result"] == 1 and receipt.json["kind"] == "call"
    events = ghost("events", "counter", "--network", "local", "--json")
    assert events.code == 0, events.stderr
    assert [(e["name"], e["block_height"]) for e in events.json["events"]] == [
        ("Incremented", 2)]  # add emits none
    later = ghost("events", "counter", "--network", "local", "--since", "3", "--json")
    assert later.json["events"] == []


def test_node_errors_read_as_they_do_on_the_sandbox(ghost, node, tmp_path):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    no_key = ghost("deploy", "--network", "local", "--json")
    assert no_key.code == 2 and "network 'local' needs --key" in no_key.stderr
    missing = ghost("query", "counter", "get", "--network", "local", "--json")
    assert missing.code == 7 and missing.json["error"]["code"] == "not_found"
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    bad_args = ghost("call", "counter", "add", "x", "--network", "local", "--key", "alice")
    assert bad_args.code == 2 and bad_args.stderr.count("\n") == 1
    overflow = ghost("call", "counter", "add", str(2**64 - 1), "--network", "local",
                     "--key", "alice", "--json")  # the counter reverts past 2^64 - 1
    assert overflow.code in (0, 6)
    no_http = ghost("query", "counter", "get", "--network", "local", "--transport", "http")
    assert no_http.code == 2 and "no http endpoint" in no_http.stderr
    # A node whose certificate the --ca does not sign: one line, nothing from aioquic.
    from ghost_cli.node.tls import ensure_dev_tls

    other_ca = ensure_dev_tls(tmp_path / "another-node").ca
    assert ghost("network", "add", "wrongca", "--url", f"quic://{node.bound['quic']}",
                 "--ca", str(other_ca), "--chain-id", "1337").code == 0
    untrusted = ghost("query", "counter", "get", "--network", "wrongca")
    assert untrusted.code == 14 and untrusted.stderr.count("\n") == 1, untrusted.stderr
    assert "is --ca the node's DATA_DIR/tls/ca.pem?" in untrusted.stderr
    # A query's --gas-limit reaches the node: above the per-transaction cap it is refused
    # here as on the sandbox; above the node's query cap, by the node; never lowered.
    capped = ghost("query", "counter", "get", "--network", "local", "--gas-limit",
                   str(10**9 + 1), "--json")
    assert capped.code == 13 and capped.json["error"]["code"] == "gas_limit_too_high"
    over = ghost("query", "counter", "get", "--network", "local", "--gas-limit",
                 str(10**7 + 1), "--json")
    assert over.code == 2 and over.json["error"]["code"] == "invalid_params"
    assert over.json["error"]["details"]["limit"] == 10**7
    tight = ghost("query", "counter", "get", "--network", "local", "--gas-limit", "21001",
                  "--json")
    assert tight.code == 6 and tight.json["error"]["code"] == "out_of_gas"


def test_network_add_list_use_remove(ghost, node, project, tmp_path):
    ca = node.bound["ca"]
    assert ghost("network", "add", "local", "--url", "quic://127.0.0.1:1", "--ca", ca,
                 "--chain-id", "42").code == 0  # with --chain-id the node is not asked
    listed = ghost("network", "list", "--json").json
    assert listed["default"] == "sandbox"
    local = next(n for n in listed["networks"] if n["name"] == "local")
    assert (local["kind"], local["chain_id"], local["ca"]) == ("node", 42, ca)
    unreachable = ghost("query", "counter", "get", "--network", "local")
    assert unreachable.code == 14 and "cannot reach the node" in unreachable.stderr

    assert ghost("network", "use", "local").code == 0
    refused = ghost("network", "remove", "local")
    assert refused.code == 2 and "is the default" in refused.stderr
    assert ghost("network", "use", "sandbox").code == 0
    assert ghost("network", "remove", "local").code == 0
    assert not re.search(r"^\[networks\.local\]", (project / "ghost.toml").read_text(), re.M)
    assert ghost("network", "use", "local").code == 7

    no_ca = ghost("network", "add", "x", "--url", "quic://127.0.0.1:1", "--chain-id", "1")
    assert no_ca.code == 2 and "needs --ca" in no_ca.stderr
    bad_name = ghost("network", "add", "bad name", "--url", "quic://127.0.0.1:1", "--chain-id",
                     "1", "--ca", str(tmp_path / "none.pem"))
    assert bad_name.code == 2 and "a network name is letters" in bad_name.stderr
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    bad_ca = ghost("network", "add", "x", "--url", "quic://127.0.0.1:1", "--ca", str(not_pem))
    assert bad_ca.code == 11 and "no PEM certificate" in bad_ca.stderr


def test_a_node_on_another_chain_is_refused_before_signing(ghost, node):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "other", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"], "--chain-id", "99").code == 0
    refused = ghost("deploy", "--network", "other", "--key", "alice", "--json")
    assert refused.code == 3
    assert "chain 99 in ghost.toml, but the node" in refused.json["error"]["message"]


def test_offline_transactions_are_sent_to_a_node(ghost, node, tmp_path):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--http-url", f"http://{node.bound['http']}", "--ca", node.bound["ca"]).code == 0
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    tx = tmp_path / "tx.json"
    built = ghost("tx", "build", "call", "counter", "add", "3", "--from", "alice",
                  "--network", "local", "--out", str(tx))
    assert built.code == 0, built.stderr
    assert ghost("tx", "sign", str(tx), "--key", "alice").code == 0
    sent = ghost("tx", "send", str(tx), "--network", "local", "--transport", "http", "--json")
    assert sent.code == 0, sent.stderr
    assert sent.json["result"] == 3
    replay = ghost("tx", "send", str(tx), "--network", "local", "--json")
    assert replay.code == 13 and replay.json["error"]["code"] == "bad_nonce"
