"""`new_project`: templates, name checks, placeholders, and the template tests themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.config.project import load_project
from ghost_cli.exceptions import UsageError
from ghost_cli.scaffold import available_templates, new_project, templates_root

REPO = Path(__file__).resolve().parents[2]


def test_available_templates() -> None:
    assert {"counter", "token", "storage", "arithmetic", "ballot"} <= set(available_templates())
    assert "sdk" not in available_templates()


def test_new_counter_project(tmp_path: Path) -> None:
    root = new_project("hello", "counter", tmp_path / "hello")
    assert root == (tmp_path / "hello").resolve()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore", "ghost.toml", "lib/ghost.zig", "src/counter.zig", "tests/test_counter.py",
    ]
    assert (root / "lib" / "ghost.zig").read_bytes() == (
        REPO / "templates" / "sdk" / "ghost.zig").read_bytes()
    assert "build/" in (root / ".gitignore").read_text()
    assert ".ghost/" in (root / ".gitignore").read_text()
    project = load_project(root)
    assert project.name == "hello"
    assert list(project.contracts) == ["counter"]
    assert "{{" not in (root / "ghost.toml").read_text()
    assert "# " in (root / "ghost.toml").read_text()  # the comments came along


def test_placeholders_are_filled(tmp_path: Path) -> None:
    root = new_project("coin", "token", tmp_path / "coin")
    for path in root.rglob("*"):
        if path.is_file():
            assert "{{" not in path.read_text(), path
    assert 'const token_name = "coin";' in (root / "src" / "token.zig").read_text()
    assert '== "coin"' in (root / "tests" / "test_token.py").read_text()


def test_a_hyphenated_name_keeps_its_name_and_gets_an_identifier(tmp_path: Path) -> None:
    from ghost_cli.scaffold import identifier_for, validate_name

    assert validate_name("my-app") == identifier_for("my-app") == "my_app"
    root = new_project("my-coin", "token", tmp_path / "my-coin")
    assert load_project(root).name == "my-coin"
    assert list(load_project(root).contracts) == ["token"]
    assert 'const token_name = "my-coin";' in (root / "src" / "token.zig").read_text()


def test_default_destination_is_the_name_in_the_cwd(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert new_project("here") == (tmp_path / "here").resolve()
    assert (tmp_path / "here" / "src" / "counter.zig").is_file()


def test_empty_existing_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    new_project("ok", "counter", tmp_path / "empty")
    assert (tmp_path / "empty" / "ghost.toml").is_file()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("my token", "invalid project name 'my token'.*try 'my_token'"),
        ("1abc", "invalid project name '1abc'"),
        ("-app", "invalid project name '-app'.*try 'app'"),
        ("my.app", "invalid project name 'my.app'.*letters, digits, _ or -"),
        ("", "invalid project name ''"),
        ("a b", "invalid project name 'a b'"),
        ("x" * 65, "at most 64 characters"),
        ("const", "Zig or Python keyword"),
        ("import", "Zig or Python keyword"),
    ],
)
def test_bad_names(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected) as info:
        new_project(name, "counter", tmp_path / "p")
    assert "\n" not in info.value.message
    assert not (tmp_path / "p").exists()


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    with pytest.raises(UsageError, match="already exists and is not an empty directory"):
        new_project("taken", "counter", tmp_path / "taken")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UsageError, match="already exists"):
        new_project("afile", "counter", tmp_path / "afile")
    assert (tmp_path / "taken" / "file").read_text() == "mine"


def test_unknown_template_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown template 'dao' \(templates: .*counter.*token"):
        new_project("x", "dao", tmp_path / "x")


def test_templates_resolve_through_the_package() -> None:
    root = templates_root()
    assert (root / "sdk" / "ghost.zig").is_file()
    assert (root / "counter" / "ghost.toml").is_file()


@pytest.mark.parametrize("template", ["counter", "token", "storage", "arithmetic"])
def test_template_tests_pass(template: str, request, tmp_path: Path) -> None:
    """Run each template's own pytest suite, as `ghost test` would, in a fresh project."""
    built = request.getfixturevalue(f"built_{template}")
    root = tmp_path / "proj"
    import shutil

    shutil.copytree(built.project.root, root, ignore=shutil.ignore_patterns(".ghost"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


@pytest.mark.parametrize("template", available_templates())
def test_every_template_ignores_what_ghost_test_leaves(template: str, tmp_path: Path) -> None:
    """`ghost test` leaves pytest's cache and hypothesis' constants in the project."""
    root = new_project("p", template, tmp_path / "p")
    ignored = (root / ".gitignore").read_text().split()
    assert {"build/", ".ghost/", "__pycache__/", ".pytest_cache/", ".hypothesis/"} <= set(ignored)
