"""Shared, built-once projects for the toolchain tests (Zig compiles are the slow part)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghost_cli.config.project import Project, load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import BuildResult, build_project


@dataclass(frozen=True)
class Built:
    project: Project
    results: list[BuildResult]

    @property
    def result(self) -> BuildResult:
        (only,) = self.results
        return only

    @property
    def code(self) -> bytes:
        return self.result.path.read_bytes()


def _build_template(tmp_path_factory: pytest.TempPathFactory, template: str) -> Built:
    root = new_project("demo", template, tmp_path_factory.mktemp(template) / "demo")
    project = load_project(root)
    return Built(project, build_project(project))


@pytest.fixture(scope="session")
def built_counter(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build_template(tmp_path_factory, "counter")


@pytest.fixture(scope="session")
def built_token(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build_template(tmp_path_factory, "token")


@pytest.fixture(scope="session")
def built_storage(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build_template(tmp_path_factory, "storage")


@pytest.fixture(scope="session")
def built_arithmetic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build_template(tmp_path_factory, "arithmetic")


@pytest.fixture
def make_project(built_counter: Built, tmp_path: Path):
    """A new project holding the SDK and one contract `src/<name>.zig` with the given code."""

    def make(source: str, name: str = "probe") -> Project:
        root = tmp_path / name
        (root / "src").mkdir(parents=True)
        shutil.copytree(built_counter.project.sdk_dir, root / "lib")
        (root / "src" / f"{name}.zig").write_text(source)
        (root / "ghost.toml").write_text(
            f'[project]\nname = "{name}"\n\n[contracts.{name}]\nsource = "src/{name}.zig"\n'
        )
        return load_project(root)

    return make

