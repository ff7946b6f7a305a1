"""The test environment's helpers and targets, as a user's tests use them through
`ghost test`: expect-revert, expect-event, keys of other schemes, --target / GHOST_TARGET."""

import json
import re

HELPERS = r'''
import re

import pytest


def test_reverts_with_the_exact_reason(deploy, reverts):
    counter = deploy("counter")
    counter.add(2**64 - 1)
    with reverts("Overflow") as caught:
        counter.add(1)
    assert caught.reason == "Overflow"
    with reverts(re.compile("Over")):
        counter.increment()
    with reverts():
        counter.add(5)


def test_reverts_fails_on_another_reason(deploy, reverts):
    counter = deploy("counter")
    counter.add(2**64 - 1)
    with pytest.raises(AssertionError, match="reverted with 'Overflow', expected 'NotOwner'"):
        with reverts("NotOwner"):
            counter.add(1)


def test_reverts_fails_without_a_revert(deploy, reverts):
    counter = deploy("counter")
    with pytest.raises(AssertionError, match="did not revert"):
        with reverts("Overflow"):
            counter.add(1)


def test_expect_event(deploy, accounts, expect_event):
    counter = deploy("counter")
    receipt = counter.increment.transact()
    event = expect_event(receipt, "Incremented", by=accounts[0], emitter=counter)
    assert event["fields"]["by"].lower() == "0x" + accounts[0].hex()
    other = r"no event Incremented with \{'by': '0x[0-9a-fA-F]{40}'\} .*it holds: Incremented"
    with pytest.raises(AssertionError, match=other):
        expect_event(receipt, "Incremented", by=accounts[1])
    with pytest.raises(AssertionError, match="no event Transfer"):
        expect_event(receipt, "Transfer")


def test_keys_of_another_scheme_sign(ghost_env, deploy, keys, expect_event):
    counter = deploy("counter")
    [alice] = keys("ed25519", 1)
    assert alice.scheme == "ed25519"
    with ghost_env.as_caller(alice):
        receipt = counter.increment.transact()
    assert receipt.sender == alice.address
    expect_event(receipt, "Incremented", by=alice.address)
    assert [e["name"] for e in ghost_env.events(counter)] == ["Incremented"]
    assert ghost_env.receipt(receipt.tx_hash).result == 1
'''

TARGET = '''
def test_runs_on(ghost_env, ghost_target):
    suffixes = sorted(p.suffix for p in ghost_env.artifacts.values())
    print("TARGET", ghost_target, ghost_env.target, suffixes)
'''

DIFFERS = '''
def test_same_everywhere(deploy):
    counter = deploy("counter")
    assert counter.increment() == 1

def test_differs(deploy, ghost_target):
    counter = deploy("counter")
    counter.add(1 if ghost_target == "wasm" else 2)
'''


def test_revert_event_and_key_helpers(project, run_ghost):
    (project / "tests" / "test_helpers.py").write_text(HELPERS)
    result = run_ghost("test", "tests/test_helpers.py", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert "test_helpers.py ....." in result.stdout


def test_fixtures_are_documented(project, run_ghost):
    result = run_ghost("test", "--fixtures", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    for name in ("ghost_env", "deploy", "accounts", "keys", "reverts", "expect_event",
                 "ghost_target", "ghost_project"):
        block = result.stdout.split(f"\n{name}", 1)[1].split("\n\n", 1)[0]
        assert "no docstring available" not in block, block


def _targets_seen(stdout: str) -> list[str]:
    return re.findall(r"TARGET (.*?\])", stdout)


def test_target_option_and_environment_variable(project, run_ghost):
    (project / "tests" / "test_target.py").write_text(TARGET)
    args = ("test", "-s", "tests/test_target.py")
    assert _targets_seen(run_ghost(*args, "--target", "zvm", cwd=project).stdout) == [
        "zvm zvm ['.zvmc']"]
    assert _targets_seen(run_ghost(*args, cwd=project, env={"GHOST_TARGET": "zvm"}).stdout) == [
        "zvm zvm ['.zvmc']"]
    assert _targets_seen(run_ghost(*args, cwd=project).stdout) == ["None None ['.wasm']"]
    both = run_ghost(*args, "-v", cwd=project, env={"GHOST_TARGET": "both"})
    assert both.code == 0, both.stdout + both.stderr
    assert _targets_seen(both.stdout) == ["wasm wasm ['.wasm']", "zvm zvm ['.zvmc']"]
    assert "test_runs_on[wasm]" in both.stdout and "test_runs_on[zvm]" in both.stdout


def test_bad_target_is_a_usage_error(project, run_ghost):
    result = run_ghost("test", "--target", "evm", "--json", cwd=project)
    assert result.code == 2
    assert "unknown target 'evm'" in result.json["error"]["message"]


def test_both_targets_fail_on_a_difference(project, run_ghost):
    (project / "tests" / "test_differs.py").write_text(DIFFERS)
    result = run_ghost("test", "--target", "both", "--json", "tests/test_differs.py",
                       cwd=project)
    assert result.code == 10, result.stdout + result.stderr
    assert result.json["error"]["details"]["tests"] == {
        "passed": 3, "failed": 1, "skipped": 0, "errors": 0} or "1 failed" in \
        result.json["error"]["message"]
    assert "the targets differ: operation 2 (call counter.add" in result.stderr
    assert "result: wasm 1 != zvm 2" in result.stderr


def test_template_tests_pass_on_both_targets(project, run_ghost):
    result = run_ghost("test", "--target", "both", "--json", cwd=project)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["tests"]["passed"] == 8
