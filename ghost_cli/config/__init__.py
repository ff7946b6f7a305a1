"""Configuration: defaults and environment variable names, and the ghost.toml model."""

from .project import (
    BuildConfig,
    ContractConfig,
    NetworkConfig,
    Project,
    TestConfig,
    find_config,
    load_project,
    set_value,
)

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
