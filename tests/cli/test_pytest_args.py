"""`ghost test` hands pytest its extra arguments; a test path among them narrows the run
to it, as pytest does, instead of adding it to all of `tests/`."""

from pathlib import Path

from ghost_cli.cli.test_cmd import _pytest_args


def test_test_paths_narrow_the_run_and_become_absolute(tmp_path, monkeypatch):
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "test_a.py").write_text("")
    (tmp_path / "out.xml").write_text("")
    monkeypatch.chdir(tmp_path)
    a = str((tmp_path / "tests" / "test_a.py").resolve())
    assert _pytest_args(["-x", "-q"], tmp_path) == (["-x", "-q"], False)
    assert _pytest_args(["-s", "tests/test_a.py"], tmp_path) == (["-s", a], True)
    assert _pytest_args(["tests/test_a.py::test_one"], tmp_path) == ([a + "::test_one"], True)
    assert _pytest_args(["tests/unit"], tmp_path)[1] is True
    # values of options are not test paths, nor are words that name nothing
    assert _pytest_args(["--junitxml", "out.xml", "-k", "tests"], tmp_path) == (
        ["--junitxml", "out.xml", "-k", "tests"], False)
    assert _pytest_args(["nosuch.py"], tmp_path) == (["nosuch.py"], False)
    assert _pytest_args(["--deselect", "tests/test_a.py::test_one"], tmp_path)[1] is False
    assert Path(a).is_absolute()
