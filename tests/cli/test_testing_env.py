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
    # a reason no revert can have (an int) is refused up front, not compared and failed
    from ghost_cli.exceptions import UsageError
    with pytest.raises(UsageError, match="reverts\\(\\) takes a reason \\(str\\)"):
        with reverts(5):
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
    [event] = ghost_env.events(counter)
    assert event["name"] == "Incremented"  # fields decoded, as `ghost events --json` has them
    assert event["fields"]["by"].lower() == "0x" + alice.address.hex()
    assert ghost_env.receipt(receipt.tx_hash).result == 1
    from ghost_cli.exceptions import UsageError
    for count in (0, -1, "2"):  # -1 gave a list quietly, "2" a TypeError
        with pytest.raises(UsageError, match="keys\\(\\) takes a count of keys >= 1"):
            keys("ed25519", count)


def test_a_failed_calls_receipt_by_the_hash_its_error_names(ghost_env, deploy):
    from ghost_cli.exceptions import RevertError, UsageError

    counter = deploy("counter")
    counter.add(2**64 - 1)
    with pytest.raises(RevertError) as caught:
        counter.add(1)
    tx_hash = caught.value.details["tx_hash"]  # 0x hex, as in --json
    failed = ghost_env.receipt(tx_hash)
    assert failed.tx_hash.hex() == tx_hash[2:] and failed.result is None
    with pytest.raises(UsageError, match="a transaction hash is 32 bytes"):
        ghost_env.receipt("0x1234")


def test_expect_event_on_a_result_instead_of_a_receipt(deploy, expect_event):
    from ghost_cli.exceptions import UsageError

    counter = deploy("counter")
    # c.increment() returns the count: this was "AttributeError: 'int' object has no
    # attribute 'decoded_events'"
    with pytest.raises(UsageError, match=r"expect_event takes a Receipt \(c.fn.transact"
                                         r"\(...\), or ghost_env.last_receipt\), not 1$"):
        expect_event(counter.increment(), "Incremented")


def test_nested_isolation_rolls_back(ghost_env, deploy):
    counter = deploy("counter")
    with ghost_env.isolated():
        counter.add(5)
        assert counter.get() == 5
    assert counter.get() == 0


def test_a_gas_limit_that_is_no_number_is_refused(deploy):
    from ghost_cli.exceptions import UsageError

    # each was a TypeError from a comparison inside the executor
    with pytest.raises(UsageError, match="gas_limit is a whole number of gas, not 'x'"):
        deploy("counter", gas_limit="x")
    counter = deploy("counter")
    for send in (counter.add, counter.add.transact, counter.add.query):
        with pytest.raises(UsageError, match="not 1.5"):
            send(1, gas_limit=1.5)
    assert counter.add(1, gas_limit=200_000) == 1
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
    assert "test_helpers.py ........" in result.stdout


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
    result = run_ghost("test", "--target", "both", "--gas-report", "--json", cwd=project)
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tests"]["passed"] == 14  # 7 template tests on each target
    contracts = {row["contract"] for row in doc["gas_report"]}
    assert contracts == {"counter[wasm]", "counter[zvm]"}
    assert any(t.endswith("test_increment[zvm]") for t in doc["gas_per_test"])


CLOCK_ZIG = '''//! Reads the block and the caller, for the cheatcode tests.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// The block this call runs in.
pub fn height() u64 {
    return ghost.blockHeight();
}

/// That block's time.
pub fn time() u64 {
    return ghost.blockTime();
}

/// Who called.
pub fn who() ghost.Address {
    return ghost.caller();
}

/// Store the block time under "stamp" and return the height.
pub fn stamp() u64 {
    ghost.storage.set(u64, "stamp", ghost.blockTime());
    return ghost.blockHeight();
}

/// What "stamp" holds.
pub fn stamped() u64 {
    return ghost.storage.get(u64, "stamp");
}

/// Only 0x00..0042 may call this.
pub fn guarded() void {
    var boss: ghost.Address = @splat(0);
    boss[19] = 0x42;
    if (!std_eql(ghost.caller(), boss)) ghost.revert("NotBoss");
}

fn std_eql(a: ghost.Address, b: ghost.Address) bool {
    for (a, b) |x, y| if (x != y) return false;
    return true;
}
'''

CHEATS = r'''
import pytest

from ghost_cli.exceptions import NotFoundError, UsageError

BOSS = bytes(19) + b"\x42"


def test_warp_and_roll(ghost_env, deploy):
    clock = deploy("clock")
    ghost_env.warp(1_000_000)
    assert clock.time() == 1_000_000 and clock.time.query() == 1_000_000
    ghost_env.roll(500)
    assert clock.height() == 500
    assert clock.height() == 501
    assert clock.height.query() == 501 == ghost_env.block_height
    with pytest.raises(UsageError, match="can only move forward"):
        ghost_env.roll(10)
    with pytest.raises(UsageError, match="a block height is a whole number, not '600'"):
        ghost_env.roll("600")
    with pytest.raises(UsageError, match="block time must be a whole number"):
        ghost_env.warp(True)
    # past the store's 64-bit integers these were sqlite's OverflowError (or, for a time
    # near 2^64, an "expiry ... is outside" error naming no warp)
    with pytest.raises(UsageError, match="below 2\\^62, not 4611686018427387904"):
        ghost_env.warp(2**62)
    with pytest.raises(UsageError, match="a block height must be below 2\\^62"):
        ghost_env.roll(2**63)
    ghost_env.warp(None)
    assert clock.time() > 1_700_000_000


def test_prank_without_a_key(ghost_env, deploy, reverts):
    clock = deploy("clock")
    with reverts("NotBoss"):
        clock.guarded()
    with ghost_env.prank(BOSS):
        clock.guarded()
        assert clock.who() == BOSS
        assert clock.who.query() == BOSS
        receipt = clock.guarded.transact()
    assert receipt.sender == BOSS
    assert clock.who() == ghost_env.accounts[0]
    with pytest.raises(NotFoundError):
        with ghost_env.as_caller(BOSS):  # a key is needed there, not here
            pass
    with pytest.raises(UsageError, match="an address is a Contract, a KeyPair"):
        with ghost_env.as_caller(3):  # was a TypeError from inside the key lookup
            pass


def test_load_and_store(ghost_env, deploy):
    clock = deploy("clock")
    ghost_env.warp(77)
    clock.stamp()
    assert ghost_env.load(clock, "stamp") == (77).to_bytes(8, "little")
    ghost_env.store(clock, "stamp", (123).to_bytes(8, "little"))
    assert clock.stamped() == 123
    ghost_env.store(clock, b"stamp", None)
    assert ghost_env.load(clock, "stamp") is None and clock.stamped() == 0
    with pytest.raises(NotFoundError):
        ghost_env.store(BOSS, "x", b"1")
    # bytes(5) is five zero bytes: an int key or address named something else, silently
    with pytest.raises(UsageError, match="a storage key is str or bytes, not int 5"):
        ghost_env.load(clock, 5)
    with pytest.raises(UsageError, match="a storage key is str or bytes"):
        ghost_env.store(clock, 5, b"1")
    with pytest.raises(UsageError, match="an address is a Contract, a KeyPair, 20 bytes"):
        ghost_env.label(5, "five")
    with pytest.raises(UsageError, match="an address is 20 bytes, got 3"):
        ghost_env.load(b"abc", "stamp")


def test_label_shows_in_assertions(ghost_env, deploy, accounts):
    clock = deploy("clock")
    ghost_env.label(BOSS, "boss")
    assert ghost_env.show(BOSS).endswith("0042 (boss)")
    assert ghost_env.show(clock).endswith("(clock)")
    assert ghost_env.show(accounts[1]).endswith("(accounts[1])")
    assert clock.who() == BOSS
'''


def _with_clock(project):
    (project / "src" / "clock.zig").write_text(CLOCK_ZIG)
    with open(project / "ghost.toml", "a") as f:
        f.write('\n[contracts.clock]\nsource = "src/clock.zig"\n')
    (project / "tests" / "test_cheats.py").write_text(CHEATS)


def test_cheatcodes_on_both_targets(project, run_ghost):
    _with_clock(project)
    result = run_ghost("test", "--target", "both", "-p", "no:randomly", "tests/test_cheats.py",
                       cwd=project)
    out = result.stdout
    # Everything passes on both engines, with the same results, except the label test,
    # which fails on purpose to show its message.
    assert result.code == 10, out + result.stderr
    assert "4 failed" not in out and "2 failed" in out, out
    for test in ("test_warp_and_roll", "test_prank_without_a_key", "test_load_and_store"):
        for target in ("wasm", "zvm"):
            assert f"FAILED tests/test_cheats.py::{test}[{target}]" not in out, out
    assert "the targets differ" not in out
    # The failing comparison names both addresses in checksum case, with labels.
    assert "(accounts[0]) == 0x0000000000000000000000000000000000000042 (boss)" in out, out
    assert "b'\\x00" not in out.split("test_label_shows_in_assertions")[-1].split("\n")[0]
