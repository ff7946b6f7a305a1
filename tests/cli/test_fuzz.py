"""Fuzzing and invariant testing (docs/testing.md "Fuzzing", "Invariants"): planted bugs
in a small contract are found and shrunk within the default budgets on wasm and ZVM, the
replay lines reproduce them with `ghost call`, and `ghost test` runs the fixtures."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghost_cli.abi import format_address, parse_arg, parse_type
from ghost_cli.abi.strategies import abi_types
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import OutOfGasError, PanicError, TrapError, UsageError
from ghost_cli.scaffold import new_project
from ghost_cli.testing.env import GhostEnv
from ghost_cli.testing.fuzz import Fuzz, FuzzFailure, FuzzSettings
from ghost_cli.testing.invariants import Invariants
from ghost_cli.testing.strategies import Dictionary, cli_value, int_boundaries, strategy_for
from ghost_cli.toolchain.build import build_project

#: Bugs only one argument value, or one order of three calls, reaches.
PLANTED = '''//! Planted bugs for the fuzzer.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Moves nothing, and comes first in the ABI: a shrinker that makes calls simpler
/// (towards the first function) instead of dropping them leaves it all over a sequence.
pub fn idle(who: ghost.Address) u64 {
    return who[0];
}

/// Panics for exactly one input.
pub fn check(x: u64, flag: bool) u64 {
    if (x == 1337) @panic("planted: x == 1337");
    return if (flag) x else 0;
}

/// Overflows (a safety-checked trap) only for a = 2^32 - 1 and b != 0.
pub fn widen(a: u32, b: u8) u32 {
    if (a == 0xFFFF_FFFF) return a + b;
    return a;
}

/// The stages move 0 -> 1 -> 2 -> 3 only by arm(), then load(7), then fire(), in order.
pub fn arm() void {
    if (ghost.storage.get(u64, "stage") == 0) ghost.storage.set(u64, "stage", 1);
}

pub fn load(n: u64) void {
    if (ghost.storage.get(u64, "stage") == 1 and n == 7) ghost.storage.set(u64, "stage", 2);
}

pub fn fire() void {
    if (ghost.storage.get(u64, "stage") == 2) ghost.storage.set(u64, "stage", 3);
}

/// Moves nothing: noise in the sequences.
pub fn note(x: u64) u64 {
    return x +% 1;
}

/// The invariant: stage 3 is never reached.
pub fn safe() bool {
    return ghost.storage.get(u64, "stage") != 3;
}
'''

#: Failures only some senders, some state or one address reach, for the replay lines.
MARKS = '''//! Failures behind the state, the sender or the contract's own address.
const ghost = @import("ghost");
const std = @import("std");

comptime {
    ghost.exportContract(@This());
}

const owner = ghost.Value(ghost.Address, "owner");

pub fn init() void {
    owner.set(ghost.caller());
}

pub fn add(n: u64) void {
    ghost.storage.set(u64, "v", ghost.storage.get(u64, "v") + n);
}

/// Panics for one input while nothing was added.
pub fn probe(x: u64) void {
    if (ghost.storage.get(u64, "v") == 0 and x == 1337) @panic("still zero");
}

/// Panics for one input from anyone but the deployer.
pub fn hit(x: u64) void {
    const who = ghost.caller();
    if (x == 1337 and !std.mem.eql(u8, &who, &owner.get())) @panic("not the deployer");
}

/// Panics when given its own address.
pub fn mine(a: ghost.Address) void {
    const me = ghost.selfAddress();
    if (std.mem.eql(u8, &a, &me)) @panic("its own address");
}
'''

TARGETS = ("wasm", "zvm")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A project holding the planted contract next to the counter, built for both
    targets once."""
    root = new_project("lab", "counter", tmp_path_factory.mktemp("fuzz") / "lab")
    (root / "src" / "planted.zig").write_text(PLANTED)
    (root / "src" / "marks.zig").write_text(MARKS)
    with (root / "ghost.toml").open("a") as f:
        f.write('\n[contracts.planted]\nsource = "src/planted.zig"\n'
                '\n[contracts.marks]\nsource = "src/marks.zig"\n')
    project = load_project(root)
    artifacts = {t: {r.name: r.path for r in build_project(project, target=t)}
                 for t in TARGETS}
    return root, project, artifacts


@pytest.fixture(params=TARGETS)
def env(request, lab):
    root, project, artifacts = lab
    sandbox = Sandbox(":memory:")
    env = GhostEnv(sandbox, artifacts[request.param], target=request.param)
    env.sources = [root / "src" / "planted.zig"]
    with env.isolated():
        yield env
    sandbox.close()


def _deploy_line(env, name: str = "planted") -> str:
    """The replay's deploy: the lab's ghost.toml targets are wasm, so a ZVM run says so."""
    return f"ghost deploy {name}" + ("" if env.target == "wasm" else " --target zvm")


def test_boundaries_hold_limits_powers_of_two_and_literals():
    values = int_boundaries("u8", [200, 999])
    assert values[:3] == [0, 1, 2]
    assert {255, 254, 128, 127, 64, 200, 199, 201} <= set(values)
    assert 999 not in values and all(0 <= v <= 255 for v in values)
    signed = int_boundaries("i16")
    assert {-1, -32768, 32767, -32767} <= set(signed)


def test_literals_come_from_the_source():
    d = Dictionary()
    d.add_source('if (x == 1337) @panic("boom"); const k = 0xFF_FF; const s = "admin";')
    assert {1337, 0xFFFF} <= d.ints and "admin" in d.strings


@settings(max_examples=60, deadline=None, database=None)
@given(abi_types(), st.data())
def test_any_abi_type_gets_values_that_encode_and_replay_as_ghost_call_arguments(decl, data):
    text, types = decl
    dictionary = Dictionary(ints={7, 1337}, strings={"admin"}, addresses=[b"\x01" * 20])
    value = data.draw(strategy_for(text, dictionary, types))
    ty = parse_type(text, types)
    encoded = ty.encode(value)  # the codec takes every drawn value
    # the replay line's argument parses back to the same encoding
    [argument] = shlex.split(cli_value(text, value, types))
    assert ty.encode(parse_arg(text, argument, types)) == encoded


def test_a_panic_behind_one_argument_value_is_found_and_shrunk(env):
    c = env.deploy("planted")
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(c.check)
    text = str(caught.value)
    assert "planted: x == 1337" in text
    assert f"{_deploy_line(env)}\n  ghost call planted check 1337 false" in text
    assert isinstance(caught.value.error, PanicError)
    assert c.check(5, True) == 5  # every example was rolled back; the contract still works


def test_a_trap_needing_two_exact_values_is_found(env):
    c = env.deploy("planted")
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(c.widen)
    assert "ghost call planted widen 4294967295 1" in str(caught.value)
    assert isinstance(caught.value.error, TrapError)


def test_a_property_sees_the_generated_arguments(env):
    c = env.deploy("counter")
    c.add(10)
    seen = []
    fuzz = Fuzz(env, FuzzSettings(runs=40))

    @fuzz.given(c.add)
    def adds(n):
        seen.append(n)
        before = c.get.query()
        if n > 2**64 - 1 - before:
            return  # would overflow
        assert c.add(n) == before + n

    assert len(seen) >= 40 and 0 in seen and max(seen) > 2**32
    assert c.get.query() == 10  # each example started from, and went back to, 10

    with pytest.raises(FuzzFailure) as caught:
        @Fuzz(env, FuzzSettings()).given(c.add)
        def wrong(n):
            assert c.add(n) < 2**63
    # the setup is part of the replay; the input is shrunk to a small failing one
    *_, setup, failing = str(caught.value).splitlines()
    assert setup.strip() == "ghost call counter add 10"
    assert failing.strip().startswith("ghost call counter add ")
    assert 2**63 - 10 <= int(failing.split()[-1]) < 2**63


def test_a_property_check_or_sender_that_cannot_work_is_a_usage_error_up_front(env):
    from ghost_cli.exceptions import NotFoundError

    c = env.deploy("counter")
    fuzz, invariants = Fuzz(env, FuzzSettings(runs=5)), Invariants(env, FuzzSettings())
    # each came out as a failing input or a broken invariant, with replay lines of calls
    # that fail nothing
    with pytest.raises(UsageError, match=r"the property prop\(\) does not take the 1 "
                                         r"argument\(s\) of the functions given \(n: u64\)"):
        @fuzz.given(c.add)
        def prop():
            pass
    with pytest.raises(UsageError, match="takes the contract functions"):
        fuzz.given()
    with pytest.raises(UsageError, match="an invariant check is a function .* not 5"):
        invariants(c, 5)
    with pytest.raises(NotFoundError, match="not one of the sandbox's development keys"):
        invariants(c, lambda: True, senders=[bytes(20)])

    @fuzz.given(c.add, c.add)  # *args takes any count
    def pairs(*args):
        assert len(args) == 2


def test_reverts_as_one_string_is_that_reason_not_a_substring(env):
    c = env.deploy("counter")
    c.add(2**64 - 1)  # every add(n > 0) reverts with Overflow from here
    Fuzz(env, FuzzSettings(runs=10))(c.add, reverts="Overflow")
    with pytest.raises(FuzzFailure, match="reverted: Overflow"):  # "Overflow" in it, as a str
        Fuzz(env, FuzzSettings(runs=10))(c.add, reverts="NoOverflowHere")


def test_a_failure_raised_by_the_tests_own_python_names_its_line(env):
    import inspect

    c = env.deploy("counter")

    def in_range():
        assert c.get.query() < 3, "past 3"

    line = inspect.getsourcelines(in_range)[1] + 1
    here = f"{Path(__file__).name}:{line} (in in_range)"
    # the failure is raised from the invariants/fuzz call, from None: pytest shows that
    # line only, so the check's (or property's) own line is in the message
    with pytest.raises(FuzzFailure) as caught:
        Invariants(env, FuzzSettings(invariant_runs=5))(c, in_range, exclude=["add"])
    [where] = [x for x in str(caught.value).splitlines() if "raised at" in x]
    assert where.endswith(here), str(caught.value)
    with pytest.raises(FuzzFailure) as caught:
        @Fuzz(env, FuzzSettings(runs=20)).given(c.add)
        def small(n):
            c.add(n)
            in_range()
    assert f"{here}\nreplay (fresh sandbox):" in str(caught.value)
    # a contract's own failure names its Zig line instead, and no Python one
    planted = env.deploy("planted")
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(planted.check)
    assert "raised at" not in str(caught.value)


def test_two_distinct_failures_report_the_simplest_with_its_own_replay(env):
    c = env.deploy("counter")
    with pytest.raises(FuzzFailure) as caught:
        @Fuzz(env, FuzzSettings(runs=100)).given(c.add)
        def two_bugs(n):
            if n == 2:
                raise ValueError("two")
            assert n != 1, "one"
    # not hypothesis' "found 2 distinct failures", which the replay lines cannot show
    first, *_, failing = str(caught.value).splitlines()
    assert "distinct failures" not in first
    assert failing.strip() == "ghost call counter add 1" and "one" in first
    assert isinstance(caught.value.error, AssertionError)


def test_a_cheatcode_before_fuzzing_is_a_comment_where_it_happened(env):
    c = env.deploy("planted")
    env.warp(1_900_000_000)
    env.store(c, "stage", b"\x01")
    c.note(1)
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(c.check)
    assert str(caught.value).splitlines()[-5:] == [
        f"  {_deploy_line(env)}",
        "  # ghost_env.warp(1900000000): a cheatcode; replay this case in a test",
        "  # ghost_env.store(planted, 'stage', b'\\x01'): a cheatcode; replay this case in a test",
        "  ghost call planted note 1",
        "  ghost call planted check 1337 false"]


def test_the_same_examples_every_run_and_another_seed_changes_them(env):
    c = env.deploy("counter")

    def draws(settings):
        seen = []
        Fuzz(env, settings).given(c.add)(lambda n: seen.append(n))
        return seen

    first = draws(FuzzSettings(runs=30))
    assert draws(FuzzSettings(runs=30)) == first
    assert draws(FuzzSettings(runs=30, seed=7)) != first


def test_an_invariant_broken_by_three_calls_in_order_is_shrunk_to_them(env):
    c = env.deploy("planted")
    with pytest.raises(FuzzFailure) as caught:
        Invariants(env, FuzzSettings())(c, c.safe, exclude=["check", "widen"])
    text = str(caught.value)
    assert "invariant broken after 3 call(s)" in text
    lines = [line.strip() for line in text.splitlines() if "ghost call" in line]
    assert [shlex.split(line.split("#")[0])[2:] for line in lines] == [
        ["planted", "arm"], ["planted", "load", "7"], ["planted", "fire"]]
    assert c.safe.query() is True


def test_python_invariants_and_senders(env):
    c = env.deploy("counter")
    callers = set()

    def never_overflows():
        callers.add(bytes(env.last_receipt.sender) if env.last_receipt else None)
        return c.get.query() < 2**64

    Invariants(env, FuzzSettings(invariant_runs=5, depth=20))(c, never_overflows)
    assert len(callers - {None}) >= 2  # the calls came from several accounts

    with pytest.raises(FuzzFailure) as caught:
        Invariants(env, FuzzSettings())(c, lambda: c.get.query() < 3)
    assert "invariant broken" in str(caught.value)


def test_an_assume_no_input_satisfies_says_so_without_replay_lines(env):
    from hypothesis import assume

    c = env.deploy("counter")
    with pytest.raises(FuzzFailure) as caught:
        @Fuzz(env, FuzzSettings(runs=20)).given(c.add)
        def never(n):
            assume(False)
    text = str(caught.value)
    # no input ran, so there is no failing one to print, nor a `ghost call` to replay
    assert text.startswith("fuzzing tried no input: every one drawn was rejected by assume()")
    assert "ghost call" not in text and "found a failing input" not in text


def test_runs_and_depth_below_one_and_an_unknown_exclude_are_usage_errors(env):
    c = env.deploy("counter")
    fuzz, invariants = Fuzz(env, FuzzSettings()), Invariants(env, FuzzSettings())
    # 0 used to mean "not given" (the default 256 ran) and -1 came out as a failing input
    for runs in (0, -1, True, 2.5):
        with pytest.raises(UsageError, match="runs must be a whole number >= 1"):
            fuzz(c.add, runs=runs)
        with pytest.raises(UsageError, match="runs must be a whole number >= 1"):
            invariants(c, lambda: True, runs=runs)
    with pytest.raises(UsageError, match="depth must be a whole number >= 1, not 0"):
        invariants(c, lambda: True, depth=0)
    # a misspelt name left its function in the sequences; a bare str was read by substring
    with pytest.raises(UsageError, match="no function 'incremnt' in the targets"):
        invariants(c, lambda: True, exclude=["incremnt"])
    with pytest.raises(UsageError, match="no function 'counter.nope'"):
        invariants(c, lambda: True, exclude=["counter.nope"])
    invariants(c, lambda: True, exclude="add", runs=2, depth=3)
    with pytest.raises(UsageError, match="targets deployed contracts .* not 'counter'"):
        invariants("counter", lambda: True)  # was an AttributeError: no `_abi` on a str
    assert {step.function for step in invariants.calls} <= {"increment", "get"}


# ---- `ghost test` with the fixtures, and the replay lines run by `ghost call` ------------

USER_TESTS = '''
import pytest


def test_fuzz_check(deploy, fuzz):
    fuzz(deploy("planted").check)


def test_invariant_stage(deploy, invariants):
    planted = deploy("planted")
    invariants(planted, planted.safe, exclude=["check", "widen"])
'''

PASSING = '''
def test_fuzz_counter(deploy, fuzz):
    counter = deploy("counter")
    counter.increment()
    fuzz(counter.add)


def test_plain(deploy):
    deploy("counter").increment()
'''


@pytest.fixture
def lab_copy(lab, tmp_path):
    import shutil

    root = tmp_path / "lab"
    shutil.copytree(lab[0], root, ignore=shutil.ignore_patterns(".ghost", "__pycache__"))
    for old in (root / "tests").glob("test_*.py"):
        old.unlink()
    return root


def _replay_lines(output: str, test: str) -> list[str]:
    """The `ghost ...` lines printed under the failure of `test`."""
    block = output[output.index(test):]
    block = block[block.index("replay (fresh sandbox):"):]
    lines = []
    for line in block.splitlines()[1:]:
        text = line.lstrip("E").strip()
        if not text.startswith("ghost "):
            break
        lines.append(text)
    return lines


def test_ghost_test_finds_both_bugs_and_the_replay_reproduces(
        lab_copy, run_ghost):
    (lab_copy / "tests" / "test_planted.py").write_text(USER_TESTS)
    # found on ZVM through `ghost test` (both targets are covered above, in-process) ...
    result = run_ghost("test", "--target", "zvm", "-p", "no:randomly", cwd=lab_copy)
    assert result.code == 10, result.stdout + result.stderr
    out = result.stdout
    # planted's target in ghost.toml is wasm: the deploy asks for the engine that failed
    assert _replay_lines(out, "test_fuzz_check") == [
        "ghost deploy planted --target zvm", "ghost call planted check 1337 false"]
    stage = _replay_lines(out, "test_invariant_stage")
    assert [line.split("   #")[0] for line in stage] == [
        "ghost deploy planted --target zvm", "ghost call planted arm",
        "ghost call planted load 7", "ghost call planted fire"]
    assert "2 failed" in out

    # ... and the printed lines, run as they are, reproduce the failures on the sandbox,
    # on ZVM again.
    assert run_ghost("build", "--target", "zvm", cwd=lab_copy).code == 0
    deploy, call = (shlex.split(line)[1:] for line in _replay_lines(out, "test_fuzz_check"))
    assert run_ghost(*deploy, cwd=lab_copy).code == 0
    failed = run_ghost(*call, cwd=lab_copy)
    assert failed.code == 6 and "planted: x == 1337" in failed.stderr
    for line in stage[1:]:
        assert run_ghost(*shlex.split(line.split("#")[0])[1:], cwd=lab_copy).code == 0
    assert run_ghost("query", "planted", "safe", cwd=lab_copy).stdout.strip() == "false"


def test_fuzz_calls_stay_out_of_the_gas_snapshot_unless_asked(lab_copy, run_ghost):
    (lab_copy / "tests" / "test_passing.py").write_text(PASSING)
    assert run_ghost("test", "--snapshot", "--fuzz-runs", "20", "--seed", "3",
                     cwd=lab_copy).code == 0
    snapshot = json.loads((lab_copy / ".gas-snapshot.json").read_text())["tests"]
    fuzz_test = "tests/test_passing.py::test_fuzz_counter"
    plain = snapshot["tests/test_passing.py::test_plain"]
    assert snapshot[fuzz_test] == plain  # only the increment before fuzzing
    assert run_ghost("test", "--check", "--fuzz-runs", "30", cwd=lab_copy).code == 0

    assert run_ghost("test", "--snapshot", "--fuzz-gas", "--fuzz-runs", "20",
                     cwd=lab_copy).code == 0
    with_fuzz = json.loads((lab_copy / ".gas-snapshot.json").read_text())["tests"]
    assert with_fuzz[fuzz_test] > plain * 10


def test_bad_fuzz_counts_are_usage_errors(lab_copy, run_ghost):
    result = run_ghost("test", "--fuzz-runs", "0", "--json", cwd=lab_copy)
    assert result.code == 2
    assert result.json["error"]["message"] == "--fuzz-runs must be at least 1, not 0"


MARKS_MISUSED = '''
import pytest


@pytest.mark.fuzz(runz=5)
def test_typo(deploy, fuzz):
    fuzz(deploy("counter").add)


@pytest.mark.fuzz(5)
def test_bare_number(deploy, fuzz):
    fuzz(deploy("counter").add)


@pytest.mark.fuzz(runs=True)
def test_bool(deploy, fuzz):
    fuzz(deploy("counter").add)
'''


def test_a_fuzz_mark_it_cannot_read_is_an_error_not_the_defaults(lab_copy, run_ghost):
    # each of these ran quietly: the typo and the bare number with the default 256 runs,
    # True as one run
    (lab_copy / "tests" / "test_marks_misused.py").write_text(MARKS_MISUSED)
    result = run_ghost("test", "-p", "no:randomly", "tests/test_marks_misused.py",
                       cwd=lab_copy)
    out = result.stdout
    assert result.code == 10 and "3 error" in out, out + result.stderr
    assert ("@pytest.mark.fuzz takes runs=, seed=, invariant_runs= and depth= only, "
            "not runz=") in out
    assert "and depth= only, not 5" in out
    assert "fuzz runs must be a whole number >= 1, not True" in out


def test_reverts_pass_unless_refused_or_not_listed(env):
    c = env.deploy("counter")
    with env.as_caller(env.accounts[2]):
        c.add(2**64 - 1)  # from here every add(n > 0) reverts with Overflow
    settings = FuzzSettings(runs=30)
    Fuzz(env, settings)(c.add)
    Fuzz(env, settings)(c.add, reverts=["Overflow"])
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, settings)(c.add, reverts=False)
    assert str(caught.value).splitlines()[-2:] == [
        f"  ghost call counter add 18446744073709551615   # as {env.show(env.accounts[2])}",
        "  ghost call counter add 1"]
    with pytest.raises(FuzzFailure, match="Overflow"):
        Fuzz(env, settings)(c.add, reverts=["NotOwner"])


def test_a_panic_inside_a_sequence_is_shrunk_to_the_one_call(env):
    c = env.deploy("planted")
    with pytest.raises(FuzzFailure) as caught:
        Invariants(env, FuzzSettings(depth=10))(c, c.safe, exclude=["widen", "arm", "idle"])
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("call 1 of the sequence failed: panic: planted: x == 1337")
    assert lines[-2:] == [f"  {_deploy_line(env)}", "  ghost call planted check 1337 false"]
    assert isinstance(caught.value.error, PanicError)


# ---- what the replay lines leave out, keep and note ------------------------------------

def _replay(ghost_at, root, failure: FuzzFailure) -> list[tuple[str, object]]:
    """Run a failure's replay lines as they are (comments are not run) on the fresh
    sandbox of the project `root`: each line with its result."""
    lines = str(failure).split("replay (fresh sandbox):\n", 1)[1].splitlines()
    return [(line, ghost_at(root, *shlex.split(line, comments=True)[1:]))
            for line in (text.strip() for text in lines) if not line.startswith("#")]


def _reproduces(replayed: list[tuple[str, object]], error: str) -> None:
    """The last line fails with `error` (exit 6); the others succeed, but those noted as
    failing in the test too."""
    *before, (_, last) = replayed
    for line, result in before:
        assert result.code == (6 if "# fails as in the test" in line else 0), \
            (line, result.stderr)
    assert last.code == 6 and error in last.stderr, last.stderr


def test_calls_that_failed_or_were_rolled_back_are_not_replayed(env, lab_copy, ghost_at):
    m = env.deploy("marks")
    with pytest.raises(OutOfGasError):
        m.add(5, gas_limit=30_000)  # refused: nothing was added
    with env.isolated():  # tried, then rolled back
        m.add(2**64 - 1)
        with pytest.raises(PanicError):
            m.add(1)  # overflows
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(m.probe)
    assert str(caught.value).splitlines()[-2:] == [
        f"  {_deploy_line(env, 'marks')}",
        "  ghost call marks probe 1337"]
    _reproduces(_replay(ghost_at, lab_copy, caught.value), "still zero")


def test_a_failed_call_whose_nonce_a_later_deploy_counts_on_is_replayed_failing(
        env, lab_copy, ghost_at):
    first = env.deploy("marks")
    with pytest.raises(OutOfGasError):
        first.add(5, gas_limit=30_000)  # a failed transaction: accounts[0]'s nonce 1
    second = env.deploy("marks")  # its address comes from accounts[0] and nonce 2
    with pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(second.mine)
    assert str(caught.value).splitlines()[-3:] == [
        "  ghost call marks add --gas-limit 30000 5"
        "   # fails as in the test: a later deploy's address counts its nonce",
        f"  {_deploy_line(env, 'marks')}",
        f"  ghost call marks mine {format_address(second._address)}"]
    _reproduces(_replay(ghost_at, lab_copy, caught.value), "its own address")


@pytest.mark.parametrize("cheat", ["as_caller", "prank"])
def test_a_failing_fuzz_call_from_another_sender_names_it(env, cheat):
    m = env.deploy("marks")
    other = env.accounts[2]
    with getattr(env, cheat)(other), pytest.raises(FuzzFailure) as caught:
        Fuzz(env, FuzzSettings())(m.hit)  # panics for 1337 from anyone but the deployer
    assert str(caught.value).splitlines()[-1] == \
        f"  ghost call marks hit 1337   # as {env.show(other)}"


def test_a_check_raising_another_error_than_an_assert_is_a_broken_invariant(env):
    c = env.deploy("counter")

    def still_zero():
        if c.get.query() != 0:
            raise ValueError("not an assert")

    with pytest.raises(FuzzFailure) as caught:
        Invariants(env, FuzzSettings(depth=10))(c, still_zero)
    # the check failed, not the call: "call 1 of the sequence failed" would say otherwise
    assert str(caught.value).splitlines()[0] == \
        "invariant broken after 1 call(s): not an assert"
    assert isinstance(caught.value.error, ValueError)
