"""`ghost test --coverage`: line coverage of a contract's Zig lines from what ran, on wasm
(a probed copy of the module, fuel refunded) and on ZVM (pcs counted), with the gas of
every call unchanged."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import OutOfGasError
from ghost_cli.scaffold import new_project
from ghost_cli.testing import coverage
from ghost_cli.testing.env import GhostEnv
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.coverage import collecting

# Line numbers matter: the tests below name them.
SOURCE = """\
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

const key = "n";

pub fn bump(by: u64) u64 {
    var n = ghost.storage.get(u64, key);
    if (by > 1000) {
        ghost.log("big step");
        n = 0;
    }
    n += by;
    ghost.storage.set(u64, key, n);
    return n;
}

pub fn get() u64 {
    return ghost.storage.get(u64, key);
}

pub fn spin(times: u64) u64 {
    var acc: u64 = ghost.storage.get(u64, key);
    var i: u64 = 0;
    while (i < times) : (i += 1) {
        acc = acc *% 31 +% i;
    }
    return acc;
}

pub fn never() u64 {
    return ghost.storage.get(u64, "z") *% 3;
}
"""
#: What the calls below run. Lines 12-13 are the dead branch (no test passes by > 1000);
#: 17 (`return n`) leaves no instruction of its own in the optimized code; `never` (line 34)
#: is never called.
COVERED = {10, 11, 15, 16, 21, 25, 27, 28}
MISSED = {12, 13, 34}
TARGETS = ("wasm", "zvm")


@pytest.fixture(scope="module")
def dead_branch(tmp_path_factory) -> Path:
    """A project whose contract has a branch no test takes, built for both targets."""
    root = new_project("dead", "counter", tmp_path_factory.mktemp("coverage") / "dead")
    (root / "src" / "counter.zig").write_text(SOURCE)
    project = load_project(root)
    for target in TARGETS:
        build_project(project, target=target)
    return root


def _calls(root: Path, target: str, collector=None) -> list:
    """Every call's gas (or failure) on a fresh sandbox, with coverage on or off."""
    project = load_project(root)
    sandbox = Sandbox(":memory:", chain_id=1337)
    env = GhostEnv(sandbox, {"counter": project.artifact_path("counter", target)},
                   target=target)
    seen: list = []

    def run() -> None:
        counter = env.deploy("counter")
        seen.append(env.last_receipt.gas_used)
        for by in (1, 5, 7):
            seen.append(counter.bump.transact(by).gas_used)
        seen.append(counter.get.query())
        spun = counter.spin.transact(50).gas_used
        seen.append(spun)
        # the gas limit right at what the loop needs passes, one less runs out: the
        # probes' fuel never counts towards running out
        seen.append(counter.spin.transact(50, gas_limit=spun).gas_used)
        with pytest.raises(OutOfGasError) as failed:
            counter.spin.transact(50, gas_limit=spun - 1)
        seen.append(("out of gas", failed.value.gas_used))

    try:
        if collector is None:
            run()
        else:
            with collecting(collector):
                run()
    finally:
        sandbox.close()
    return seen


@pytest.mark.parametrize("target", TARGETS)
def test_exact_lines_and_unchanged_gas(dead_branch, target):
    plain = _calls(dead_branch, target)
    collector = coverage.Collector()
    covered = _calls(dead_branch, target, collector)
    assert covered == plain  # every call's gas, result and failure identical

    rep = coverage.report(collector, load_project(dead_branch), (target,))
    assert rep.contracts == [f"counter ({target})"]
    assert list(rep.files) == ["src/counter.zig"]  # not the SDK, not Zig's std
    f = rep.files["src/counter.zig"]
    assert set(f.hit()) == COVERED
    assert set(f.missed()) == MISSED
    assert (rep.covered, rep.total) == (len(COVERED), len(COVERED) + len(MISSED))
    assert f.lines[16] == 3  # storage.set ran for bump 1, 5 and 7


def test_probes_only_where_the_project_has_lines(dead_branch):
    """`ghost test` probes only segments holding a line of the project's own sources: the
    same lines and gas, fewer probes, and modules that are no build of it run unprobed."""
    project = load_project(dead_branch)
    every, filtered = coverage.Collector(), coverage.Collector(coverage.project_filter(project))
    assert _calls(dead_branch, "wasm", filtered) == _calls(dead_branch, "wasm", every)
    a, b = (coverage.report(c, project, ("wasm",)) for c in (every, filtered))
    assert a.to_json() == b.to_json()
    [full], [few] = ([len(r.probed.segments) for r in c.wasm.values()] for c in (every, filtered))
    assert 0 < few < full
    assert filtered.wasm_record(b"\0asm\x01\0\0\0").probed is None  # not a build of it


def test_nothing_run_is_all_missed_and_probes_never_reach_deployed_bytes(dead_branch):
    project = load_project(dead_branch)
    artifact = project.artifact_path("counter", "wasm")
    before = artifact.read_bytes()
    rep = coverage.report(coverage.Collector(), project, TARGETS)
    f = rep.files["src/counter.zig"]
    assert f.hit() == [] and set(f.missed()) == COVERED | MISSED
    assert artifact.read_bytes() == before
    assert rep.contracts == ["counter (wasm)", "counter (zvm)"]


def _lcov_records(text: str) -> dict[str, dict]:
    records: dict[str, dict] = {}
    current: dict = {}
    for line in text.splitlines():
        kind, _, value = line.partition(":")
        if kind == "SF":
            current = records.setdefault(value, {"DA": {}})
        elif kind == "DA":
            number, count = value.split(",")
            current["DA"][int(number)] = int(count)
        elif kind in ("LF", "LH"):
            current[kind] = int(value)
        else:
            assert line in ("TN:", "end_of_record"), line
    return records


def test_lcov_html_and_text(dead_branch, tmp_path):
    collector = coverage.Collector()
    _calls(dead_branch, "wasm", collector)
    rep = coverage.report(collector, load_project(dead_branch))
    written = coverage.write(rep, tmp_path / "cov", dead_branch, coverage.REPORTS)
    assert sorted(p.name for p in written) == ["coverage.json", "index.html", "lcov.info"]

    records = _lcov_records((tmp_path / "cov" / "lcov.info").read_text())
    assert list(records) == ["src/counter.zig"]
    r = records["src/counter.zig"]
    assert {n for n, c in r["DA"].items() if c} == COVERED
    assert {n for n, c in r["DA"].items() if not c} == MISSED
    assert (r["LF"], r["LH"]) == (len(COVERED) + len(MISSED), len(COVERED))

    page = (tmp_path / "cov" / "index.html").read_text()
    assert "src/counter.zig" in page
    assert re.search(r"class='miss'><td class='n'>12</td><td class='n'>0</td>"
                     r"<td>\s+ghost\.log\(&quot;big step&quot;\);</td>", page)
    assert "<td class='n'>10</td><td class='n'>" in page

    [row, total] = coverage.text(rep)[1:]
    assert row.split() == ["src/counter.zig", "8/11", "72.7%", "12-13,", "34"]
    assert total.split() == ["total", "8/11", "72.7%"]


def test_ghost_test_coverage_min_and_reports(dead_branch, run_ghost):
    tests = dead_branch / "tests"
    for old in tests.glob("*.py"):
        old.unlink()
    (tests / "test_dead.py").write_text(
        "def test_bump(deploy):\n    assert deploy('counter').bump(3) == 3\n")
    below = run_ghost("test", "--coverage-min", "90", "--target", "both", "--json",
                      cwd=dead_branch)
    assert below.code == 16, below.stderr
    assert below.json["error"]["code"] == "coverage_below_minimum"
    cov = below.json["error"]["details"]["coverage"]
    assert (cov["lines_covered"], cov["lines_total"]) == (4, 11)  # bump's lines only
    assert cov["contracts"] == ["counter (wasm)", "counter (zvm)"]
    assert (dead_branch / "coverage" / "lcov.info").exists()
    assert (dead_branch / "coverage" / "index.html").exists()

    passed = run_ghost("test", "--coverage-report", "text", "--coverage-min", "35",
                       cwd=dead_branch)
    assert passed.code == 0, passed.stdout + passed.stderr
    assert re.search(r"src/counter\.zig\s+4/11\s+36\.4%", passed.stdout)
    # the table right under its header, as docs/testing.md shows it (no blank line)
    lines = passed.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if " coverage " in line)
    assert lines[header + 1].startswith("file "), lines[header:header + 2]
    # the first run's lcov and html are gone: read later, they would pass for this run's
    assert sorted(p.name for p in (dead_branch / "coverage").iterdir()) == ["coverage.json"]


def test_template_tests_run_with_coverage(project, run_ghost):
    result = run_ghost("test", "--coverage", "--snapshot", "--json", cwd=project)
    assert result.code == 0, result.stderr
    doc = result.json
    assert doc["tests"]["failed"] == 0 and doc["tests"]["passed"] >= 4
    [f] = doc["coverage"]["files"]
    assert f["path"] == "src/counter.zig"
    # the template's tests call every function, and its one-line overflow checks run
    assert f["lines_covered"] == f["lines_total"] >= 8
    assert (project / "coverage" / "lcov.info").read_text().startswith("TN:\nSF:src/")
    # each test's gas, recorded with coverage on, is exactly its gas without
    check = run_ghost("test", "--check", "--tolerance", "0", cwd=project)
    assert check.code == 0, check.stdout + check.stderr


def test_bad_coverage_options_are_usage_errors(project, run_ghost):
    for args in (["--coverage-report", "pdf"], ["--coverage-min", "150"]):
        result = run_ghost("test", *args, cwd=project)
        assert result.code == 2, result.stderr
        assert "pdf" in result.stderr or "0 to 100" in result.stderr


def test_a_coverage_dir_that_cannot_be_written_is_refused_before_the_tests(project, run_ghost):
    # it was met only once every test had run: a traceback from mkdir, exit 10 for a
    # session that passed, and no report
    (project / "taken").write_text("a file, not a directory\n")
    result = run_ghost("test", "--coverage", "--coverage-dir", "taken/cov", cwd=project)
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot write the coverage reports to {project / 'taken' / 'cov'}: "
        f"Not a directory")
    assert "Traceback" not in result.stdout + result.stderr
    assert "passed" not in result.stdout  # refused before any test ran
    # plain pytest with the plugin refuses it as a bad argument
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ghost_cli.testing.coverage_plugin",
         "--ghost-coverage", "taken/cov", "-p", "no:cacheprovider", "tests"],
        cwd=project, capture_output=True, text=True, timeout=600)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "ERROR: cannot write the coverage reports to" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
