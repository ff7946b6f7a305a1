"""`ghost new` with a name that is not a Zig identifier, from scaffold to a passing test run."""

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


def test_the_next_step_line_quotes_a_path_for_the_shell(tmp_path, run_ghost):
    import shlex

    where = tmp_path / "my projects" / "[x]"
    result = run_ghost("new", "app", "--dir", str(where), cwd=tmp_path)
    assert result.code == 0, result.stderr
    next_line = result.stdout.splitlines()[-1]
    assert shlex.split(next_line)[:3] == ["Next:", "cd", str(where)]
