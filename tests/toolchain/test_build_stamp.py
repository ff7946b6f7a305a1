"""Build stamps (toolchain/stamp.py): a contract with nothing changed is not compiled again
(and Zig is not even started), anything it is built from changing compiles it, and
`force` always compiles. Real Zig compiles; a spy counts them."""

from __future__ import annotations

import json
import shutil

import pytest

from ghost_cli.config.project import load_project
from ghost_cli.toolchain import build, stamp, zig
from ghost_cli.toolchain.build import build_project


@pytest.fixture
def zig_runs(monkeypatch):
    """Every Zig process started (`zig version` and compiles), by its first argument."""
    seen: list[str] = []
    real = zig.run_zig

    def spy(args, **kwargs):
        seen.append(args[0])
        return real(args, **kwargs)

    monkeypatch.setattr(zig, "run_zig", spy)
    monkeypatch.setattr(build, "run_zig", spy)
    zig.zig_version.cache_clear()
    yield seen
    zig.zig_version.cache_clear()


@pytest.fixture
def project(built_counter, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(built_counter.project.root, root)  # stamps included: another location
    return load_project(root)


def _facts(r):
    return (r.name, r.path, r.size, r.sha256, r.imports, r.exports, r.abi, r.metadata,
            r.target, r.debug_path, r.warnings)


def test_unchanged_contract_is_not_compiled_and_zig_is_not_started(project, zig_runs):
    (first,) = build_project(project)  # a copy elsewhere: its out_dir differs, so it compiles
    assert zig_runs == ["version", "build-exe"]
    artifact = first.path.read_bytes()
    zig_runs.clear()
    messages: list[str] = []
    (again,) = build_project(project, progress=messages.append)
    assert zig_runs == []
    assert messages == ["counter is up to date"]
    assert _facts(again) == _facts(first)
    assert again.path.read_bytes() == artifact
    stamp_file = stamp.stamp_path(project, "counter", "wasm")
    assert json.loads(stamp_file.read_text())["result"]["sha256"] == first.sha256


def test_every_input_change_compiles_again(project, zig_runs, monkeypatch):
    build_project(project)
    root = project.root

    def compiles(**options) -> bool:
        zig_runs.clear()
        build_project(project, **options)
        return "build-exe" in zig_runs

    assert not compiles()
    source = root / "src" / "counter.zig"
    source.write_text(source.read_text() + "\n// a comment\n")
    assert compiles()
    assert not compiles()
    (root / "src" / "notes.txt").write_text("Zig may @embedFile any file")
    assert compiles()
    sdk = root / "lib" / "ghost.zig"
    sdk.write_text(sdk.read_text() + "\n")
    assert compiles()
    assert compiles(optimize="Debug")  # another mode: another key
    assert not compiles(optimize="Debug")
    assert compiles()  # back to the project's mode: the Debug build replaced the artifact
    assert compiles(force=True)
    assert not compiles()
    monkeypatch.setattr(stamp, "ghost_fingerprint", lambda: "an edited ghost toolchain")
    assert compiles()
    assert not compiles()


def test_an_edited_or_missing_artifact_is_rebuilt(project, zig_runs):
    (first,) = build_project(project)
    good = first.path.read_bytes()
    first.path.write_bytes(good + b"\0")
    zig_runs.clear()
    (again,) = build_project(project)
    assert "build-exe" in zig_runs
    assert again.path.read_bytes() == good
    first.debug_path.unlink()
    zig_runs.clear()
    build_project(project)
    assert "build-exe" in zig_runs and first.debug_path.is_file()


def test_a_broken_stamp_only_costs_the_skip(project, zig_runs):
    build_project(project)
    stamp.stamp_path(project, "counter", "wasm").write_text("{not json")
    zig_runs.clear()
    (r,) = build_project(project)
    assert "build-exe" in zig_runs and r.size > 0
    zig_runs.clear()
    build_project(project)
    assert zig_runs == []  # the rebuild wrote a good stamp
    path = stamp.stamp_path(project, "counter", "wasm")
    doc = json.loads(path.read_text())
    del doc["result"]["abi"]  # the right key and hashes, a field missing
    path.write_text(json.dumps(doc))
    zig_runs.clear()
    (r,) = build_project(project)
    assert "build-exe" in zig_runs and r.abi.functions


def test_too_many_inputs_means_always_compiling(project, zig_runs, monkeypatch):
    monkeypatch.setattr(stamp, "MAX_INPUT_FILES", 1)  # the counter has two: source and SDK
    for _ in range(2):
        zig_runs.clear()
        build_project(project)
        assert "build-exe" in zig_runs


def test_a_source_edited_while_it_compiles_gets_no_stamp(project, monkeypatch):
    """The key is read before Zig runs: a stamp under it would serve the edited build once
    the edit is undone."""
    source = project.root / "src" / "counter.zig"
    before = source.read_text()
    edited = before.replace('const count_key = "count";', 'const count_key = "other";')
    assert edited != before
    real = build.run_zig

    def edit_then_compile(args, **kwargs):
        if args[0] == "build-exe":
            source.write_text(edited)  # saved in an editor as Zig starts
        return real(args, **kwargs)

    monkeypatch.setattr(build, "run_zig", edit_then_compile)
    (during,) = build_project(project)
    assert any("changed while it was built" in w for w in during.warnings)
    monkeypatch.setattr(build, "run_zig", real)
    source.write_text(before)  # the edit undone
    (after,) = build_project(project)
    (fresh,) = build_project(project, force=True)
    assert after.sha256 == fresh.sha256 != during.sha256
    assert after.warnings == fresh.warnings == ()
