"""Where a contract's ABI comes from: the project's built artifact (the ABI `ghost build`
embeds in build/NAME.wasm or NAME.zvmc), or the deploy metadata of a contract on a
network (by address or `.ghost` name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..abi import Abi
from ..exceptions import NotFoundError


@dataclass(frozen=True)
class AbiSource:
    name: str  # the contract's name (project) or the reference given (network)
    abi: Abi
    raw: dict[str, Any]  # the ABI JSON as stored: keeps keys this reader does not model
    origin: str  # "build/counter.wasm" or "network dev, 0x…"


def _from_json(raw: Any, where: str) -> tuple[Abi, dict[str, Any]]:
    from ..exceptions import InvalidModuleError

    if not isinstance(raw, dict):
        raise InvalidModuleError(f"{where}: no ABI in its ghost metadata; rebuild it with "
                                 "`ghost build`")
    try:
        return Abi.from_json(raw), raw
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModuleError(f"{where}: its ABI is malformed ({exc})") from None


def from_build(project, name: str, target: str | None = None, *,
               network_hint: bool = True) -> AbiSource:
    """The ABI in the newest build of contract `name` (the requested target, else any).
    `network_hint`: an unknown name suggests --network (for commands that have it)."""
    from ..config import defaults as d
    from ..exceptions import InvalidModuleError
    from ..vm.engines import read_module_metadata

    if name not in project.contracts:
        known = ", ".join(project.contracts) or "none"
        hint = "; pass an address or name with --network for a deployed one" \
            if network_hint else ""
        raise NotFoundError(f"no contract {name!r} in ghost.toml (contracts: {known}){hint}")
    targets = [target] if target else [project.contracts[name].target,
                                       *(t for t in d.TARGETS
                                         if t != project.contracts[name].target)]
    def build(t: str) -> str:
        return "ghost build" if t == project.contracts[name].target \
            else f"ghost build --target {t}"

    found = {t: p for t in targets if (p := project.artifact_path(name, t)).is_file()}
    if not found:
        path = project.artifact_path(name, targets[0])
        raise NotFoundError(f"{path.relative_to(project.root)} not found: run "
                            f"`{build(targets[0])}` first")
    built_for = max(found, key=lambda t: found[t].stat().st_mtime)
    path = found[built_for]
    where = path.relative_to(project.root).as_posix()
    try:
        meta = read_module_metadata(path.read_bytes()) or {}
    except InvalidModuleError as exc:  # a damaged build: say which, and what mends it
        raise InvalidModuleError(f"{where}: {exc.message}; rebuild it with "
                                 f"`{build(built_for)}`", **exc.details) from None
    abi, raw = _from_json(meta.get("abi"), where)
    return AbiSource(name, abi, raw, where)


def from_network(net, ref: str) -> AbiSource:
    """The ABI a network recorded when `ref` (address or name) was deployed."""
    from ..abi import format_address

    address = net.resolve(ref)
    abi = net.abi_of(address)
    return AbiSource(ref, abi, abi.to_json(), f"network {net.name}, {format_address(address)}")


def load(project, name: str, *, network: str | None = None, target: str | None = None,
         transport: str | None = None) -> AbiSource:
    """A project contract's built ABI; with `network`, the deployed contract's."""
    if network is None:
        return from_build(project, name, target)
    from ..networks import open_network

    with open_network(project, network, transport=transport) as net:
        return from_network(net, name)
