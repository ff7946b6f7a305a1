"""`ghost test` as a user runs it: pytest with ghost's plugin over the project's tests."""

import json

ISOLATION = '''
def test_a_changes_state(ghost_env, deploy):
    deploy("counter").increment()
    assert ghost_env.sandbox.store.height() == 2

def test_b_sees_none_of_it(ghost_env):
    assert ghost_env.sandbox.store.height() == 0
    assert ghost_env.sandbox.store.names() == {}

def test_callers_switch(ghost_env, deploy, accounts):
    counter = deploy("counter")
    with ghost_env.as_caller(accounts[3]):
        receipt = counter.increment.transact()
    assert receipt.events[0].topics[1][:20] == accounts[3]
    assert counter.get.query() == 1
'''


def test_template_tests_pass_with_json_summary(project, run_ghost):
    result = run_ghost("test", "--json", cwd=project)
    assert result.code == 0, result.stderr
    doc = result.json
    assert doc["ok"] is True and doc["tests"]["passed"] >= 4 and doc["tests"]["failed"] == 0
    assert "passed" in result.stderr  # pytest's own output goes to stderr with --json


def test_every_test_starts_from_a_clean_sandbox(project, run_ghost):
    (project / "tests" / "test_isolation.py").write_text(ISOLATION)
    result = run_ghost("test", "-p", "no:randomly", "tests/test_isolation.py", cwd=project)
    assert result.code == 0, result.stdout + result.stderr


def test_gas_report_lists_each_function(project, run_ghost):
    result = run_ghost("test", "--gas-report", cwd=project)
    assert result.code == 0
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if " gas report " in line)
    assert lines[header + 1].startswith("contract.function")  # right under its header
    for fn in ("counter.increment", "counter.add", "counter.get"):
        assert fn in result.stdout
    rows = {(r["contract"], r["function"]): r
            for r in run_ghost("test", "--json", cwd=project).json["gas_report"]}
    inc = rows[("counter", "increment")]
    assert inc["calls"] >= 3 and inc["min"] <= inc["median"] <= inc["max"]


def test_snapshot_then_check_and_detect_a_gas_change(project, run_ghost):
    missing = run_ghost("test", "--check", "--json", cwd=project)
    assert missing.code == 3 and "ghost test --snapshot" in missing.json["error"]["message"]

    assert run_ghost("test", "--snapshot", cwd=project).code == 0
    snapshot_file = project / ".gas-snapshot.json"
    snapshot = json.loads(snapshot_file.read_text())
    assert all(v > 0 for v in snapshot["tests"].values())
    assert run_ghost("test", "--check", cwd=project).code == 0

    # Pretend the recorded figures were 10% lower: gas "moved" beyond the 2% tolerance.
    test_id = next(iter(snapshot["tests"]))
    snapshot["tests"][test_id] = int(snapshot["tests"][test_id] * 0.9)
    snapshot_file.write_text(json.dumps(snapshot))
    moved = run_ghost("test", "--check", "--json", cwd=project)
    assert moved.code == 9
    assert moved.json["error"]["code"] == "gas_check_failed"
    assert test_id in moved.json["error"]["message"]
    # ... and within a wider tolerance it passes.
    assert run_ghost("test", "--check", "--tolerance", "0.2", cwd=project).code == 0


def test_a_failing_test_exits_10(project, run_ghost):
    (project / "tests" / "test_broken.py").write_text(
        "def test_wrong(deploy):\n    assert deploy('counter').get() == 5\n")
    result = run_ghost("test", "--json", cwd=project)
    assert result.code == 10
    assert result.json["error"]["code"] == "tests_failed"


def test_a_compile_error_is_reported_once_with_the_build_exit_code(project, run_ghost):
    source = project / "src" / "counter.zig"
    source.write_text(source.read_text().replace(
        "pub fn get() u64 {", "pub fn get() u64 {\n    undeclared_name += 1;"))
    for command in (("build",), ("test",)):
        result = run_ghost(*command, cwd=project)
        output = result.stdout + result.stderr
        assert result.code == 4, (command, output)
        assert output.count("use of undeclared identifier 'undeclared_name'") == 1, output
        assert "Traceback" not in output and "build_project" not in output, output
    as_json = run_ghost("test", "--json", cwd=project)
    assert as_json.code == 4 and as_json.json["error"]["code"] == "compile_error"


BURNER = '''
/// Read the count `rounds` times, then fail: a revert path whose cost grows with `rounds`.
pub fn burn(rounds: u64) !u64 {
    var i: u64 = 0;
    var total: u64 = 0;
    while (i < rounds) : (i += 1) total +%= ghost.storage.get(u64, count_key);
    if (total == 0) return error.Burnt;
    return total;
}
'''

REVERTING_TEST = '''
import pytest
from ghost_cli.exceptions import RevertError

def test_only_reverts(deploy):
    counter = deploy("counter")
    with pytest.raises(RevertError):
        counter.burn(ROUNDS)
'''


def test_reverted_calls_count_in_gas_report_snapshot_and_check(project, run_ghost):
    source = project / "src" / "counter.zig"
    source.write_text(source.read_text() + BURNER)
    test_file = project / "tests" / "test_reverts.py"
    test_file.write_text(REVERTING_TEST.replace("ROUNDS", "3"))
    test_id = "tests/test_reverts.py::test_only_reverts"

    assert run_ghost("test", "--snapshot", cwd=project).code == 0
    snapshot = json.loads((project / ".gas-snapshot.json").read_text())["tests"]
    assert snapshot[test_id] > 21_000  # at least the base cost of the reverted call
    doc = run_ghost("test", "--json", "--gas-report", "tests/test_reverts.py", cwd=project).json
    [row] = [r for r in doc["gas_report"] if r["function"] == "burn"]
    assert row["calls"] == 1 and row["failed"] == 1 and row["max"] == snapshot[test_id]
    assert run_ghost("test", "--check", cwd=project).code == 0

    # The revert path gets far more expensive (100x the storage reads, still within the
    # default gas limit at host-call prices): the check must notice.
    test_file.write_text(REVERTING_TEST.replace("ROUNDS", "300"))
    moved = run_ghost("test", "--check", "--json", cwd=project)
    assert moved.code == 9, moved.stdout + moved.stderr
    assert test_id in moved.json["error"]["message"]


def test_a_test_file_that_cannot_be_collected_counts_as_an_error(project, run_ghost):
    (project / "tests" / "test_syntax.py").write_text("def test_x(:\n")
    result = run_ghost("test", "--json", cwd=project)
    assert result.code == 10
    assert result.json["error"]["details"]["tests"]["errors"] == 1
    assert result.json["error"]["message"].startswith("0 failed, 1 errors")


def test_a_project_without_tests_runs_none(project, run_ghost):
    import shutil

    shutil.rmtree(project / "tests")
    result = run_ghost("test", "--json", cwd=project)
    assert result.code == 10, result.stderr
    assert result.json["error"]["message"].startswith("no tests ran: ")


MODE_TEST = '''
from ghost_cli.vm.wasm_module import read_metadata

def test_runs_the_mode(ghost_env):
    code = ghost_env.artifacts["counter"].read_bytes()
    assert read_metadata(code)["toolchain"]["optimize"] == "ReleaseSmall"
'''


def _built_mode(project) -> str:
    from ghost_cli.vm.wasm_module import read_metadata

    code = (project / "build" / "counter.wasm").read_bytes()
    return read_metadata(code)["toolchain"]["optimize"]


def test_ghost_test_builds_and_runs_in_the_mode_ghost_optimize_names(project, run_ghost):
    (project / "tests" / "test_mode.py").write_text(MODE_TEST)
    small = {"GHOST_OPTIMIZE": "ReleaseSmall"}
    assert run_ghost("build", cwd=project, env=small).code == 0
    result = run_ghost("test", "tests/test_mode.py", cwd=project, env=small)
    assert result.code == 0, result.stdout + result.stderr
    assert _built_mode(project) == "ReleaseSmall"  # the user's build is left as it was
    # the tests run without safety checks, and ghost test says so as ghost build does
    warning = "warning: counter: Zig's safety checks are off (ReleaseSmall)"
    assert result.stderr.count(warning) == 1, result.stderr
    both = run_ghost("test", "--target", "both", "tests/test_mode.py", cwd=project,
                     env=small)
    assert both.stderr.count(warning) == 1, both.stderr  # once, not once per target
    # plain pytest with ghost's plugin (as `ghost test --watch` runs it) builds alike
    (project / "build" / "counter.wasm").unlink()
    plain = run_ghost_pytest(project, small)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert _built_mode(project) == "ReleaseSmall"


def test_an_unknown_ghost_optimize_mode_stops_ghost_test(project, run_ghost):
    result = run_ghost("test", "--json", cwd=project, env={"GHOST_OPTIMIZE": "Fast"})
    assert result.code == 2, result.stdout + result.stderr
    assert "unknown optimize mode 'Fast'" in result.json["error"]["message"]


def run_ghost_pytest(project, env: dict):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_mode.py"], cwd=project, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600)


REWRITING = '''
import sys

def loader(name):
    return type(sys.modules[name].__loader__).__name__

def test_only_the_projects_tests_are_rewritten(deploy, fuzz):
    deploy("counter")  # the sandbox, the engines and hypothesis are imported by now
    import hypothesis.strategies  # noqa: F401
    for name in ("ghost_cli.chain.sandbox", "ghost_cli.vm.wasm.engine",
                 "hypothesis.strategies"):
        assert loader(name) != "AssertionRewritingHook", name
    assert loader(__name__) == "AssertionRewritingHook"

def test_a_failed_assert_still_shows_its_values(deploy):
    got = deploy("counter").get()
    assert got == 5
'''


def test_asserts_are_rewritten_in_tests_not_in_ghost_or_its_plugins(project, run_ghost):
    """pytest rewrites every module of a package with a pytest plugin; the plugin takes
    ghost_cli, hypothesis and anyio out of that, and the project's tests keep pytest's
    assertion messages."""
    (project / "tests" / "test_rewriting.py").write_text(REWRITING)
    result = run_ghost("test", "tests/test_rewriting.py", cwd=project)
    assert result.code == 10, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "assert 0 == 5" in result.stdout
