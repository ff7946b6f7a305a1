"""Open the network a command names, from the project's ghost.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config.project import Project
from .exceptions import NotFoundError

if TYPE_CHECKING:
    from .chain.network import Network

STATE_DIR = ".ghost"


def open_network(project: Project, name: str | None = None, *,
                 transport: str | None = None) -> Network:
    """The embedded sandbox, or a client for a `ghost node`: the same surface either way
    (chain/network.py), with what only one of them can do named as capabilities.
    `transport` (quic or http) picks how a node network is reached; the sandbox has none,
    but a value that is neither is refused there too (a typo should not pass unseen)."""
    from .config.defaults import check_transport

    check_transport(transport)
    name = name or project.default_network
    network = project.networks.get(name)
    if network is None:
        known = ", ".join(sorted(project.networks))
        raise NotFoundError(f"no network {name!r} in ghost.toml (networks: {known})")
    if network.kind == "node":
        from .client.remote import RemoteNetwork

        return RemoteNetwork(network, transport=transport)
    from .chain.sandbox import Sandbox

    state = project.root / STATE_DIR
    return Sandbox(
        state / f"{name}.db",
        name=name,
        chain_id=network.chain_id,
        cache_dir=state / "module-cache",
        gas_limit=network.gas_limit,
    )
