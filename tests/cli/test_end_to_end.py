"""The user's path through the CLI, as real processes: new, build, deploy, call, query."""


def test_new_build_deploy_call_query(project, run_ghost):
    deployed = run_ghost("deploy", "--json", cwd=project)
    assert deployed.code == 0, deployed.stderr
    [entry] = deployed.json["deployed"]
    assert entry["name"] == "counter" and entry["address"].startswith("0x")

    call = run_ghost("call", "counter", "increment", "--json", cwd=project)
    assert call.code == 0, call.stderr
    doc = call.json
    assert doc["ok"] is True and doc["result"] == 1
    assert doc["gas_used"] > 21_000
    assert [e["name"] for e in doc["events"]] == ["Incremented"]

    # State persists between processes; the contract is found by its address too.
    assert run_ghost("call", entry["address"], "add", "41", "--json", cwd=project).json[
        "result"] == 42
    query = run_ghost("query", "counter", "get", "--json", cwd=project)
    assert query.json["result"] == 42 and query.json["tx_hash"] is None
    # The human form prints the decoded value on stdout, gas on stderr.
    plain = run_ghost("query", "counter", "get", cwd=project)
    assert plain.stdout.strip() == "42" and "gas used" in plain.stderr


def test_revert_exits_6_and_changes_nothing(project, run_ghost):
    run_ghost("deploy", cwd=project)
    assert run_ghost("call", "counter", "add", str(2**64 - 1), cwd=project).code == 0
    failed = run_ghost("call", "counter", "add", "1", "--json", cwd=project)
    assert failed.code == 6
    assert failed.json["error"]["code"] == "reverted"
    assert "Overflow" in failed.json["error"]["message"]
    assert failed.stderr.count("\n") == 1 and "error: reverted: Overflow" in failed.stderr
    assert run_ghost("query", "counter", "get", "--json", cwd=project).json["result"] == 2**64 - 1


def test_bad_arguments_are_refused_before_running(project, run_ghost):
    run_ghost("deploy", cwd=project)
    wrong_count = run_ghost("call", "counter", "add", "--json", cwd=project)
    assert wrong_count.code == 2 and wrong_count.json["error"]["code"] == "bad_arguments"
    wrong_type = run_ghost("call", "counter", "add", "many", cwd=project)
    assert wrong_type.code == 2 and "expected an integer" in wrong_type.stderr
    unknown_fn = run_ghost("call", "counter", "nope", cwd=project)
    assert unknown_fn.code == 7 and "functions:" in unknown_fn.stderr
    assert run_ghost("query", "counter", "get", "--json", cwd=project).json["result"] == 0


def test_unknown_contract_and_missing_artifact(project, tmp_path, run_ghost):
    assert run_ghost("call", "ghosty", "get", cwd=project).code == 7
    # the byte 0xff on the command line (not UTF-8): a one-line error, no traceback
    for args in (("call", "\udcff", "get"), ("query", "\udcff", "get")):
        bad = run_ghost(*args, cwd=project)
        assert bad.code == 7 and "no contract named" in bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    (project / "build" / "counter.wasm").unlink()
    missing = run_ghost("deploy", cwd=project)
    assert missing.code == 7 and "ghost build" in missing.stderr


def test_outside_a_project_is_a_config_error(tmp_path, run_ghost):
    result = run_ghost("build", "--json", cwd=tmp_path)
    assert result.code == 3 and result.json["error"]["code"] == "config"


def test_corrupt_module_is_refused_at_deploy(project, run_ghost):
    (project / "build" / "counter.wasm").write_bytes(b"\0asm\x01\0\0\0garbage")
    result = run_ghost("deploy", "--json", cwd=project)
    assert result.code == 5 and result.json["error"]["code"] == "invalid_module"


def test_help_is_fast_to_load_and_lists_exit_codes(tmp_path, run_ghost):
    result = run_ghost("--help", cwd=tmp_path)
    assert result.code == 0
    for command in ("new", "build", "deploy", "call", "query", "test"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout
