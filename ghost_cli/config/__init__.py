"""Configuration: defaults and environment variable names, and the ghost.toml model.

The ghost.toml names are loaded on first use, so importing `ghost_cli.config.defaults`
(as `ghost --help` does) does not pay for tomlkit.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BuildConfig",
    "ContractConfig",
    "NetworkConfig",
    "Project",
    "TestConfig",
    "find_config",
    "load_project",
    "set_value",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import project

        return getattr(project, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
