from __future__ import annotations

from pathlib import Path

from ghost_cli.config import defaults


def test_env_flag() -> None:
    assert defaults.env_flag("GHOST_JSON", {"GHOST_JSON": "1"})
    assert defaults.env_flag("GHOST_JSON", {"GHOST_JSON": " TRUE "})
    assert not defaults.env_flag("GHOST_JSON", {"GHOST_JSON": "0"})
    assert not defaults.env_flag("GHOST_JSON", {})


def test_ghost_home(tmp_path: Path) -> None:
    assert defaults.ghost_home({"GHOST_HOME": str(tmp_path)}) == tmp_path
    assert defaults.ghost_home({}) == Path.home() / ".ghost"


def test_every_environment_variable_is_documented() -> None:
    names = [v for k, v in vars(defaults).items() if k.startswith("ENV_") and k != "ENVIRONMENT"]
    assert sorted(names) == sorted(defaults.ENVIRONMENT)
    assert {"GHOST_HOME", "GHOST_NETWORK", "GHOST_JSON"} <= set(names)
