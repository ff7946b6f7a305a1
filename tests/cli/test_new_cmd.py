"""`ghost new` with a name that is not a Zig identifier, from scaffold to a passing test run."""

import json
import tomllib


def test_ghost_new_my_app_builds_and_tests(tmp_path, run_ghost):
    created = run_ghost("new", "my-app", "--json", cwd=tmp_path)
    assert created.code == 0, created.stderr
    assert created.json["project"] == "my-app" and created.json["identifier"] == "my_app"
    root = tmp_path / "my-app"
    config = tomllib.loads((root / "ghost.toml").read_text())
    assert config["project"]["name"] == "my-app"
    assert run_ghost("build", cwd=root).code == 0
    tested = run_ghost("test", "--json", cwd=root)
    assert tested.code == 0, tested.stderr
    assert tested.json["tests"]["passed"] == 7


def test_a_name_that_cannot_be_made_an_identifier_is_refused(tmp_path, run_ghost):
    result = run_ghost("new", "2fast", "--json", cwd=tmp_path)
    assert result.code == 2
    assert result.json["error"]["message"].startswith("invalid project name '2fast'")
    assert not (tmp_path / "2fast").exists()


def test_a_dir_through_a_file_is_a_usage_error(tmp_path, run_ghost):
    (tmp_path / "notes.txt").write_text("x")
    result = run_ghost("new", "app", "--dir", "notes.txt/app", "--json", cwd=tmp_path)
    assert result.code == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error == {"code": "usage", "message": f"cannot create the project in "
                     f"{tmp_path}/notes.txt/app: {tmp_path}/notes.txt is not a directory"}
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_next_step_line_quotes_a_path_for_the_shell(tmp_path, run_ghost):
    import shlex

    where = tmp_path / "my projects" / "[x]"
    result = run_ghost("new", "app", "--dir", str(where), cwd=tmp_path)
    assert result.code == 0, result.stderr
    next_line = result.stdout.splitlines()[-1]
    assert shlex.split(next_line)[:3] == ["Next:", "cd", str(where)]


def _new_with_file_size_limit(tmp_path, *args):
    """`ghost new ARGS` where no file may grow past 20,000 bytes: the SDK (lib/ghost.zig,
    larger) fails midway through its write, as on a full disk."""
    import resource
    import signal
    import subprocess
    import sys

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))

    return subprocess.run([sys.executable, "-m", "ghost_cli", "new", *args], cwd=tmp_path,
                          capture_output=True, text=True, preexec_fn=limit, timeout=120)


def test_a_failed_write_leaves_no_half_project(tmp_path, run_ghost):
    failed = _new_with_file_size_limit(tmp_path, "app", "--dir", "deep/app", "--json")
    assert failed.returncode == 1, failed.stderr
    error = json.loads(failed.stdout)["error"]
    assert error["message"].startswith(f"cannot create the project in {tmp_path}/deep/app")
    assert len(failed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "deep").exists()  # the directories it made are gone too
    assert run_ghost("new", "app", "--dir", "deep/app", cwd=tmp_path).code == 0


def test_a_failed_write_empties_the_directory_it_was_given(tmp_path):
    (tmp_path / "app").mkdir()
    failed = _new_with_file_size_limit(tmp_path, "app")
    assert failed.returncode == 1, failed.stderr
    assert (tmp_path / "app").is_dir() and not any((tmp_path / "app").iterdir())
