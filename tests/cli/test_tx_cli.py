"""Keys sign deploys and calls; a 2-of-3 multi-sig of mixed schemes collects signatures
offline with `ghost tx`; replays, wrong passphrases and short signature sets are refused."""

import json

import pytest


@pytest.fixture
def env(tmp_path):
    return {"GHOST_HOME": str(tmp_path / "home"), "GHOST_PASSPHRASE": "correct horse"}


def test_keys_sign_deploys_and_calls(project, run_ghost, env):
    assert run_ghost("keys", "new", "alice", cwd=project, env=env).code == 0
    alice = run_ghost("keys", "show", "alice", "--json", cwd=project, env=env).json["key"][
        "address"]
    deployed = run_ghost("deploy", "--key", "alice", "--json", cwd=project, env=env)
    assert deployed.code == 0, deployed.stderr
    call = run_ghost("call", "counter", "increment", "--key", "alice", "--json",
                     cwd=project, env=env)
    assert call.code == 0, call.stderr
    # The event's caller topic is alice's address: the call was signed by her key.
    assert call.json["events"][0]["topics"][1][2:42] == alice[2:].lower()
    wrong = run_ghost("call", "counter", "increment", "--key", "alice", "--json", cwd=project,
                      env={**env, "GHOST_PASSPHRASE": "wrong"})
    assert wrong.code == 12 and wrong.json["error"]["code"] == "wrong_passphrase"
    assert run_ghost("query", "counter", "get", "--json", cwd=project, env=env).json[
        "result"] == 1


def test_multisig_treasury_collects_signatures_offline(project, run_ghost, env, tmp_path):
    for name, scheme in (("alice", "ml-dsa-65"), ("bob", "ed25519"),
                         ("carol", "schnorr-secp256k1")):
        assert run_ghost("keys", "new", name, "--scheme", scheme, cwd=project,
                         env=env).code == 0
    assert run_ghost("keys", "multisig", "create", "treasury", "--threshold", "2", "alice",
                     "bob", "carol", cwd=project, env=env).code == 0
    assert run_ghost("deploy", cwd=project, env=env).code == 0

    built = run_ghost("tx", "build", "call", "counter", "add", "10", "--from", "treasury",
                      cwd=project, env=env)
    assert built.code == 0, built.stderr
    tx = tmp_path / "tx.json"
    tx.write_text(built.stdout)
    assert json.loads(built.stdout)["auth"]["signatures"] == []
    # --json wraps the same document; with --out it names the file instead.
    as_json = run_ghost("tx", "build", "call", "counter", "add", "10", "--from", "treasury",
                        "--json", cwd=project, env=env)
    assert as_json.code == 0, as_json.stderr
    assert as_json.json["tx"]["format"] == "ghost-tx" and as_json.json["kind"] == "call"
    assert as_json.json["hash"] == as_json.json["tx"]["hash"]
    written = tmp_path / "written.json"
    to_file = run_ghost("tx", "build", "call", "counter", "add", "10", "--from", "treasury",
                        "-o", str(written), "--json", cwd=project, env=env)
    assert to_file.json["out"] == str(written) and "tx" not in to_file.json
    assert json.loads(written.read_text())["format"] == "ghost-tx"

    # GHOST_KEY names the signing key when --key is not given (cli.md).
    assert run_ghost("tx", "sign", str(tx), cwd=project, env={**env, "GHOST_KEY": "carol"}
                     ).code == 0
    short = run_ghost("tx", "send", str(tx), "--json", cwd=project, env=env)
    assert short.code == 13 and "2 of 3 signatures required, 1 given" in short.stderr
    again = run_ghost("tx", "sign", str(tx), "--key", "carol", cwd=project, env=env)
    assert again.code == 13 and "already signed" in again.stderr

    assert run_ghost("tx", "sign", str(tx), "--key", "alice", cwd=project, env=env).code == 0
    sent = run_ghost("tx", "send", str(tx), "--json", cwd=project, env=env)
    assert sent.code == 0, sent.stderr
    assert sent.json["result"] == 10
    replay = run_ghost("tx", "send", str(tx), "--json", cwd=project, env=env)
    assert replay.code == 13 and replay.json["error"]["code"] == "bad_nonce"

    # A tampered file is refused and changes nothing.
    doc = json.loads(tx.read_text())
    doc["tx"] = doc["tx"][:-2] + ("00" if doc["tx"][-2:] != "00" else "01")
    tx.write_text(json.dumps(doc))
    assert run_ghost("tx", "send", str(tx), cwd=project, env=env).code == 13
    assert run_ghost("query", "counter", "get", "--json", cwd=project, env=env).json[
        "result"] == 10


def test_a_deploy_with_its_nonce_builds_offline(project, run_ghost, env, tmp_path):
    """With --nonce nothing is asked of the network, so a deploy is built (and signed)
    with no node reachable; without it, the node is asked for the nonce (exit 14)."""
    assert run_ghost("keys", "new", "alice", "--scheme", "ed25519", cwd=project,
                     env=env).code == 0
    import certifi  # any readable PEM certificate: no handshake ever gets to use it

    assert run_ghost("network", "add", "away", "--url", "quic://127.0.0.1:1",
                     "--ca", certifi.where(),
                     "--chain-id", "77", cwd=project, env=env).code == 0
    built = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "5",
                      "--network", "away", "--json", cwd=project, env=env)
    assert built.code == 0, built.stderr
    summary = built.json["tx"]["summary"]
    assert (summary["chain_id"], summary["nonce"], summary["kind"]) == (77, 5, "deploy")
    # Built offline for the sandbox, signed and sent: for people, `tx send` (and `ghost
    # receipt`) names where the contract went, as `--json`'s `address` does.
    tx = tmp_path / "deploy.json"
    assert run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "0",
                     "-o", str(tx), cwd=project, env=env).code == 0
    assert run_ghost("tx", "sign", str(tx), "--key", "alice", cwd=project, env=env).code == 0
    sent = run_ghost("tx", "send", str(tx), cwd=project, env=env)
    address = run_ghost("receipt", json.loads(tx.read_text())["hash"], "--json",
                        cwd=project, env=env).json["address"]
    assert sent.code == 0 and sent.stdout == ""
    assert f"deployed at {address}" in sent.stderr.splitlines()
    asked = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--network",
                      "away", "--json", cwd=project, env=env)
    assert asked.code == 14, asked.stderr
    bad = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "-1",
                    "--json", cwd=project, env=env)
    assert bad.code == 2 and bad.json["error"]["code"] == "usage"
    # A gas limit above the cap is refused when built, as `ghost call` refuses it, not
    # after the signatures are collected (cli.md).
    for extra, extra_env in ((["--gas-limit", "1000000001"], {}),
                             ([], {"GHOST_GAS_LIMIT": "1000000001"})):
        over = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "0",
                         "--json", *extra, cwd=project, env={**env, **extra_env})
        assert over.code == 13 and over.json["error"]["code"] == "gas_limit_too_high"
    at_cap = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "0",
                       "--gas-limit", "1000000000", "--json", cwd=project, env=env)
    assert at_cap.code == 0 and at_cap.json["tx"]["summary"]["gas_limit"] == 1_000_000_000


def test_a_crafted_transaction_file_is_refused_not_a_traceback(project, run_ghost, env,
                                                               tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    shown = run_ghost("tx", "show", str(deep), "--json", cwd=project, env=env)
    assert shown.code == 13 and "nested too deeply" in shown.json["error"]["message"]


def test_a_file_naming_a_member_twice_or_holding_nan_is_refused(project, run_ghost, env,
                                                                tmp_path):
    """JSON libraries disagree on which of two same-named members counts, so a file with
    `auth` twice could show a reviewer's tool one thing and `tx send` another; `NaN` is
    not JSON. Both are refused as unreadable (exit 13), as the node refuses such a body."""
    assert run_ghost("keys", "new", "alice", "--scheme", "ed25519", cwd=project,
                     env=env).code == 0
    built = run_ghost("tx", "build", "deploy", "counter", "--from", "alice", "--nonce", "0",
                      cwd=project, env=env)
    assert built.code == 0, built.stderr
    tx = tmp_path / "tx.json"
    tx.write_text(built.stdout)
    assert run_ghost("tx", "show", str(tx), cwd=project, env=env).code == 0
    for text, why in (
            (built.stdout.replace('"format"', '"auth": {"kind": "single"}, "format"', 1),
             "an object names member 'auth' twice"),
            (built.stdout.replace('"version": 1', '"version": NaN', 1), "NaN is not JSON")):
        tx.write_text(text)
        for command in ("show", "send"):
            refused = run_ghost("tx", command, str(tx), "--json", cwd=project, env=env)
            assert refused.code == 13, (command, refused.stdout)
            assert refused.json["error"]["code"] == "tx_rejected"
            assert why in refused.json["error"]["message"]
            assert len(refused.stderr.strip().splitlines()) == 1


def test_a_call_over_the_request_limits_is_refused_when_built(kinds, ghost_at):
    """Call data over 64 KiB is too_large on every network (transactions.md), so `tx
    build` refuses it (exit 2) rather than write a file whose signatures are wasted."""
    assert ghost_at(kinds, "keys", "new", "alice", "--scheme", "ed25519").code == 0
    assert ghost_at(kinds, "deploy", "kinds").code == 0
    for size, code in ((65_532, 0), (65_533, 2)):  # 4 bytes of length, then the bytes
        built = ghost_at(kinds, "tx", "build", "call", "kinds", "echo_bytes", "0x" + "ab" * size,
                         "--from", "alice", "--nonce", "0", "--json")
        assert built.code == code, built.stdout
    assert built.json["error"]["code"] == "too_large"
    assert "call data of 65537 bytes is over the limit of 65536 bytes" in built.stdout
