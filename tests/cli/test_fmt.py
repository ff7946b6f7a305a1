"""`ghost fmt`: the project's Zig sources through the ziglang package's `zig fmt`."""

UNFORMATTED = "const  ghost = @import(\"ghost\");\npub fn  f() u64 { return 1; }\n"


def test_fmt_check_lists_files_then_fmt_fixes_them(project, run_ghost):
    src = project / "src" / "counter.zig"
    clean = run_ghost("fmt", "--check", "--json", cwd=project)
    assert clean.code == 0, clean.stdout + clean.stderr
    assert clean.json["files"] == ["src/counter.zig"]  # lib/ghost.zig is left out
    assert clean.json["changed"] == []

    src.write_text(src.read_text().replace("pub fn get() u64 {", "pub fn   get()   u64 {"))
    (project / "src" / "extra.zig").write_text(UNFORMATTED)
    sdk_before = (project / "lib" / "ghost.zig").read_bytes()

    dirty = run_ghost("fmt", "--check", "--json", cwd=project)
    assert dirty.code == 15
    assert dirty.json["error"]["code"] == "format_check_failed"
    assert dirty.json["error"]["details"]["files"] == ["src/counter.zig", "src/extra.zig"]
    assert "pub fn   get()" in src.read_text()  # --check changes nothing
    human = run_ghost("fmt", "--check", cwd=project)
    assert human.code == 15 and "src/extra.zig" in human.stderr

    fixed = run_ghost("fmt", cwd=project)
    assert fixed.code == 0, fixed.stderr
    assert "src/counter.zig" in fixed.stdout and "2 file(s) checked, 2 reformatted" in fixed.stdout
    assert "pub fn get() u64 {" in src.read_text()
    assert (project / "lib" / "ghost.zig").read_bytes() == sdk_before
    assert run_ghost("fmt", "--check", cwd=project).code == 0
    assert run_ghost("build", cwd=project).code == 0  # still compiles


def test_fmt_sdk_only_when_asked(project, run_ghost):
    result = run_ghost("fmt", "--check", "--include-sdk", "--json", cwd=project)
    assert "lib/ghost.zig" in result.json.get("files", []) + result.json.get(
        "error", {}).get("details", {}).get("files", [])


def test_fmt_named_files_and_a_syntax_error(project, run_ghost):
    bad = project / "src" / "broken.zig"
    bad.write_text("const x = ;\n")
    result = run_ghost("fmt", "--json", "src/broken.zig", cwd=project)
    assert result.code == 4
    # named as `ghost build` names sources: relative to the project root
    assert result.json["error"]["message"].startswith("zig fmt cannot parse src/broken.zig:1:")
    assert bad.read_text() == "const x = ;\n"
    missing = run_ghost("fmt", "src/nothing.zig", cwd=project)
    assert missing.code == 2 and "no such file" in missing.stderr
    not_zig = run_ghost("fmt", "ghost.toml", cwd=project)
    assert not_zig.code == 2 and "not a Zig source file" in not_zig.stderr


def test_what_is_not_a_zig_file_is_no_source(project, run_ghost):
    (project / "src" / "gone.zig").symlink_to("generated.zig")  # not generated yet
    (project / "src" / "notes.zig").mkdir()
    result = run_ghost("fmt", "--check", "--json", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert result.json["files"] == ["src/counter.zig"]


def test_a_file_zig_fmt_cannot_write_is_no_parse_error(project):
    """A failure to write is Zig failing (`toolchain`), not a source it cannot parse."""
    import json
    import resource
    import signal
    import subprocess
    import sys

    big = project / "src" / "big.zig"
    big.write_text("".join(f"pub fn  f{i}()   u64 {{ return {i}; }}\n" for i in range(1000)))

    def limit():  # the reformatted file cannot be written whole, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))

    result = subprocess.run([sys.executable, "-m", "ghost_cli", "fmt", "--json"], cwd=project,
                            capture_output=True, text=True, preexec_fn=limit, timeout=120)
    assert result.returncode == 4, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "toolchain" and error["message"].startswith("zig fmt failed")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_source_whose_name_starts_with_a_dash_is_not_an_option(project, run_ghost):
    (project / "-draft.zig").write_text(UNFORMATTED)  # at the root: no directory before it
    dirty = run_ghost("fmt", "--check", "--json", cwd=project)
    assert dirty.code == 15, dirty.stdout + dirty.stderr
    assert dirty.json["error"]["details"]["files"] == ["-draft.zig"]
    fixed = run_ghost("fmt", "--json", cwd=project)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert fixed.json["changed"] == ["-draft.zig"]
    assert "pub fn f() u64" in (project / "-draft.zig").read_text()


def _zig_of_another_series(tmp_path, version: str = "0.13.0") -> dict:
    """An environment whose `ziglang` package is a stand-in: its `zig` says it is `version`
    and does nothing else (`zig fmt` would report every file formatted)."""
    import os
    import stat

    package = tmp_path / "other-zig" / "ziglang"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    zig = package / "zig"
    zig.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo {version}; fi\nexit 0\n')
    zig.chmod(zig.stat().st_mode | stat.S_IXUSR)
    path = os.pathsep.join(p for p in (str(package.parent), os.environ.get("PYTHONPATH"))
                           if p)
    return {**os.environ, "NO_COLOR": "1", "PYTHONPATH": path}


def test_fmt_refuses_another_zig_series_as_build_does(project, tmp_path):
    """`ghost fmt` formats with the Zig `ghost build` compiles with, or not at all: another
    series is exit 4, one line, the message `ghost build` gives."""
    from cli_helpers import run_ghost

    env = _zig_of_another_series(tmp_path)
    build = run_ghost("build", "--force", "--json", cwd=project, env=env)
    assert build.code == 4, build.stdout + build.stderr
    expected = build.json["error"]
    assert expected["code"] == "toolchain"
    assert expected["message"].startswith("Zig 0.13.0 is installed but the ghost SDK needs")

    for args in (("fmt", "--json"), ("fmt", "--check", "--json")):
        result = run_ghost(*args, cwd=project, env=env)
        assert result.code == 4, result.stdout + result.stderr
        assert result.json["error"] == expected
    text = run_ghost("fmt", cwd=project, env=env)
    assert text.code == 4
    assert text.stderr.splitlines() == [f"error: {expected['message']}"]
    assert text.stdout == ""

