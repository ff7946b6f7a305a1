"""`ghost deploy --args` runs the contract's constructor (`pub fn init`) inside the deploy
transaction, as a user runs it: real processes, a real token build, the sandbox."""

import json
import shutil

import pytest

from ghost_cli.chain.transaction import from_json


@pytest.fixture
def coin(built_token, tmp_path):
    dest = tmp_path / "coin"
    shutil.copytree(built_token, dest, ignore=shutil.ignore_patterns(".ghost"))
    return dest


def test_deploy_runs_the_constructor_with_typed_args_and_the_deployer_as_caller(coin,
                                                                               run_ghost):
    deployed = run_ghost("deploy", "token", "--args", "1000", "--json", cwd=coin)
    assert deployed.code == 0, deployed.stderr
    [row] = deployed.json["deployed"]
    assert row["block_height"] == 1  # one transaction: code and constructor together
    owner = run_ghost("query", "token", "owner", "--json", cwd=coin).json["result"]
    assert run_ghost("query", "token", "total_supply", "--json", cwd=coin).json["result"] == 1000
    assert run_ghost("query", "token", "balance_of", owner, "--json", cwd=coin).json[
        "result"] == 1000
    # The constructor is refused as a function, with a clear message, before anything runs.
    again = run_ghost("call", "token", "init", "5", "--json", cwd=coin)
    assert again.code == 7
    assert "'init' is the contract's constructor" in again.json["error"]["message"]
    assert run_ghost("query", "token", "total_supply", "--json", cwd=coin).json["result"] == 1000


def test_constructor_arguments_are_checked_before_anything_is_sent(coin, run_ghost):
    missing = run_ghost("deploy", "token", "--json", cwd=coin)
    assert missing.code == 2 and "init takes 1 argument(s)" in missing.json["error"]["message"]
    wrong = run_ghost("deploy", "token", "--args", "lots", "--json", cwd=coin)
    assert wrong.code == 2 and wrong.json["error"]["code"] == "bad_arguments"
    huge = run_ghost("deploy", "token", "--args", str(2**64), "--json", cwd=coin)
    assert huge.code == 2
    # Nothing was deployed, and no nonce was used (the deploy below lands at height 1).
    assert run_ghost("deploy", "token", "--args", "7", "--json", cwd=coin).json[
        "deployed"][0]["block_height"] == 1


def test_a_contract_without_constructor_takes_no_args(project, run_ghost):
    refused = run_ghost("deploy", "counter", "--args", "5", "--json", cwd=project)
    assert refused.code == 2 and "no constructor" in refused.json["error"]["message"]


def test_tx_build_deploy_carries_the_constructor_call_data(coin, run_ghost, tmp_path):
    env = {"GHOST_HOME": str(tmp_path / "home"), "GHOST_PASSPHRASE": "correct horse"}
    assert run_ghost("keys", "new", "alice", cwd=coin, env=env).code == 0
    built = run_ghost("tx", "build", "deploy", "token", "--from", "alice", "--args", "250",
                      cwd=coin, env=env)
    assert built.code == 0, built.stderr
    signed = from_json(json.loads(built.stdout))
    assert signed.tx.kind == "deploy" and signed.tx.args == (250).to_bytes(8, "little")
    tx = tmp_path / "tx.json"
    tx.write_text(built.stdout)
    assert run_ghost("tx", "sign", str(tx), "--key", "alice", cwd=coin, env=env).code == 0
    sent = run_ghost("tx", "send", str(tx), "--json", cwd=coin, env=env)
    assert sent.code == 0, sent.stderr
    assert run_ghost("query", "token", "total_supply", "--json", cwd=coin, env=env).json[
        "result"] == 250


def test_a_panicking_constructor_is_located_in_the_source(run_ghost, tmp_path):
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project("made", "counter", tmp_path / "made")
    (root / "src" / "made.zig").write_text(
        'const ghost = @import("ghost");\n'
        "comptime {\n    ghost.exportContract(@This());\n}\n"
        "pub fn init(x: u64) void {\n"
        '    if (x == 1) @panic("bad supply");\n'
        '    ghost.storage.set(u64, "x", x);\n'
        "}\n"
        "pub fn get() u64 {\n"
        '    return ghost.storage.get(u64, "x");\n'
        "}\n")
    with open(root / "ghost.toml", "a") as f:
        f.write('\n[contracts.made]\nsource = "src/made.zig"\n')
    build_project(load_project(root), ["made"])
    failed = run_ghost("deploy", "made", "--args", "1", "--json", cwd=root)
    assert failed.code == 6, failed.stderr
    error = failed.json["error"]
    assert error["message"] == "panic: bad supply (made.init at src/made.zig:6)"
    assert error["details"]["location"] == "src/made.zig:6"
    assert "at init (src/made.zig:6)" in run_ghost("deploy", "made", "--args", "1",
                                                   cwd=root).stderr
    # and in tests: the deploy fixture's failure names the line too
    (root / "tests" / "test_made.py").write_text(
        'def test_bad_supply(deploy):\n    deploy("made", 1)\n')
    tested = run_ghost("test", "tests/test_made.py", cwd=root)
    assert tested.code == 10
    assert "panic: bad supply (made.init at src/made.zig:6)" in tested.stdout + tested.stderr


def test_a_failed_deploy_names_the_contracts_deployed_before_it(project, run_ghost, tmp_path):
    dest = tmp_path / "two"
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".ghost"))
    with open(dest / "ghost.toml", "a") as f:
        f.write('\n[contracts.bad]\nsource = "src/bad.zig"\n')
    (dest / "build" / "bad.wasm").write_bytes(b"\0asm\x01\0\0\0junk")
    failed = run_ghost("deploy", "counter", "bad", "--json", cwd=dest)
    assert failed.code == 5, failed.stderr
    [counter] = failed.json["error"]["details"]["deployed"]
    assert counter["name"] == "counter" and counter["block_height"] == 1
    text = run_ghost("deploy", "counter", "bad", cwd=dest)
    assert text.code == 5 and text.stdout.startswith("Deployed counter at 0x")
    assert "(gas " in text.stdout and "block 2)" in text.stdout
