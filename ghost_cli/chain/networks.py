"""Open the network a command names, from the project's ghost.toml."""

from __future__ import annotations

from ..config.project import Project
from ..exceptions import NotFoundError, UsageError
from .sandbox import Sandbox

STATE_DIR = ".ghost"


def open_network(project: Project, name: str | None = None) -> Sandbox:
    name = name or project.default_network
    network = project.networks.get(name)
    if network is None:
        known = ", ".join(sorted(project.networks))
        raise NotFoundError(f"no network {name!r} in ghost.toml (networks: {known})")
    if network.kind != "sandbox":
        # Talking to a `ghost node` is a separate piece of work; refuse plainly.
        raise UsageError(
            f"network {name!r} is a {network.kind} network; this ghost can only use the "
            "embedded sandbox so far"
        )
    state = project.root / STATE_DIR
    return Sandbox(
        state / f"{name}.db",
        chain_id=network.chain_id,
        cache_dir=state / "module-cache",
        gas_limit=network.gas_limit,
    )
