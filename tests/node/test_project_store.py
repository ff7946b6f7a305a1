"""`[node] store` in ghost.toml: the store `ghost node start` uses inside a project when
neither --store nor GHOST_NODE_STORE says otherwise."""

from pathlib import Path

import httpx
from node_helpers import start_node

from ghost_cli.config.project import parse_project

HEAD = '[project]\nname = "p"\n'


def test_a_relative_store_path_is_from_the_project_root_and_a_url_is_kept(tmp_path) -> None:
    path = tmp_path / "ghost.toml"
    assert parse_project(HEAD, path).node_store is None
    rel = parse_project(HEAD + '[node]\nstore = "chain/state.db"\n', path)
    assert rel.node_store == str(tmp_path / "chain" / "state.db")
    url = parse_project(HEAD + '[node]\nstore = "postgresql://ghost@db1/ghost"\n', path)
    assert url.node_store == "postgresql://ghost@db1/ghost"


def test_a_relative_sqlite_url_is_from_the_project_root_too(tmp_path) -> None:
    """Else a node started in a subdirectory would open (and create) another chain."""
    path = tmp_path / "ghost.toml"
    rel = parse_project(HEAD + '[node]\nstore = "sqlite:///chain/state.db"\n', path)
    assert rel.node_store == str(tmp_path / "chain" / "state.db")
    absolute = parse_project(HEAD + '[node]\nstore = "sqlite:////srv/state.db"\n', path)
    assert absolute.node_store == "/srv/state.db"


def test_node_start_in_a_project_uses_its_store(tmp_path, monkeypatch) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "ghost.toml").write_text(HEAD + '[node]\nstore = "chain/state.db"\n')
    (project / "chain").mkdir()
    monkeypatch.chdir(project)
    node = start_node(tmp_path / "data")
    try:
        assert Path(node.bound["store"]) == project / "chain" / "state.db"
        assert httpx.get(f"{node.url}/health", timeout=10.0).json()["store"] == "sqlite"
        assert (project / "chain" / "state.db").is_file()
        assert not (tmp_path / "data" / "state.db").exists()
    finally:
        node.stop()


def test_the_command_line_wins_over_the_project(tmp_path, monkeypatch) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "ghost.toml").write_text(HEAD + '[node]\nstore = "elsewhere.db"\n')
    monkeypatch.chdir(project)
    node = start_node(tmp_path / "data", "--store", str(tmp_path / "cli.db"))
    try:
        assert Path(node.bound["store"]) == tmp_path / "cli.db"
        assert not (project / "elsewhere.db").exists()
    finally:
        node.stop()
