"""`ghost network add|list|use|remove`: the [networks] of ghost.toml, edited in place
(comments kept), and `ghost receipt` / `ghost events`, lookups on a network (the sandbox
included)."""


from pathlib import Path
from typing import Annotated

import typer

from .options import Network, Transport
from .output import Output, command

NameArg = Annotated[str, typer.Argument(help="Network name (letters, digits, '.', '-', '_').")]

_SUBAPP = dict(no_args_is_help=True, rich_markup_mode=None,
               context_settings={"help_option_names": ["-h", "--help"]})


def register(app: typer.Typer) -> None:
    network = typer.Typer(help="Node networks of this project: add, list, use, remove.",
                          **_SUBAPP)
    app.add_typer(network, name="network")

    @network.command("add")
    @command
    def add(
        out: Output,
        name: NameArg,
        url: Annotated[str, typer.Option(
            "--url", help="The node: quic://HOST:PORT (HTTP/3) or http://HOST:PORT.")] = ...,
        http_url: Annotated[str | None, typer.Option(
            "--http-url", help="The node's HTTP/1.1 URL, for --transport http.")] = None,
        ca: Annotated[Path | None, typer.Option(
            "--ca", help="CA certificate (PEM) to trust for this node: a development node's "
                         "DATA_DIR/tls/ca.pem. Required for quic:// and https://.")] = None,
        chain_id: Annotated[int | None, typer.Option(
            "--chain-id", min=1, help="The chain id; default: ask the node.")] = None,
        gas_limit: Annotated[int | None, typer.Option(
            "--gas-limit", min=1, help="Default gas limit of its transactions.")] = None,
    ) -> None:
        """Add (or replace) a node network in ghost.toml."""
        from ..client.rpc_client import SyncGhostClient, read_ca
        from ..config import defaults as d
        from ..config.project import edit_config, load_project
        from ..exceptions import UsageError

        if name == d.SANDBOX_NETWORK:
            raise UsageError("'sandbox' is the built-in embedded network; pick another name")
        from ..config.project import NETWORK_NAME

        if not NETWORK_NAME.fullmatch(name):  # a usage error here, before ghost.toml's check
            raise UsageError(f"network name {name!r}: a network name is letters, digits, "
                             "'.', '-' and '_'")
        secure = url.startswith(("quic://", "https://"))
        if not url.startswith(("quic://", "http://", "https://")):
            raise UsageError(f"--url {url!r}: use quic://host:port or http://host:port")
        from ..client.transport import split_url

        # a port past 65535: refused now, not at every call
        parts = split_url(url)
        if http_url is not None:
            split_url(http_url)
        if parts.scheme == "quic" and not (parts.hostname and parts.port):  # no default port
            raise UsageError(f"{url!r} is not a QUIC URL like quic://127.0.0.1:8443")
        if secure and ca is None:
            raise UsageError(f"--url {url} needs --ca: the CA that signed the node's "
                             "certificate (a development node's DATA_DIR/tls/ca.pem)")
        project = load_project()
        if ca is not None:
            read_ca(ca)  # refuse a missing or non-PEM file now, not at the first call
        if chain_id is None:
            with SyncGhostClient(url, ca=ca,
                                 transport="quic" if url.startswith("quic") else "http",
                                 timeout=10) as node:
                chain_id = node.node_info()["chain_id"]
        values = {f"networks.{name}.kind": "node", f"networks.{name}.url": url,
                  f"networks.{name}.chain_id": chain_id}
        if http_url is not None:
            values[f"networks.{name}.http_url"] = http_url
        if ca is not None:
            values[f"networks.{name}.ca"] = _stored_path(ca, project.root)
        if gas_limit is not None:
            values[f"networks.{name}.gas_limit"] = gas_limit
        project = edit_config(project.root, values, remove=(f"networks.{name}",))
        net = project.networks[name]
        out.emit(_network_json(net, project.default_network),
                 lambda: out.info(f"added network {name}: {url} (chain {chain_id})"))

    @network.command("list")
    @command
    def list_(out: Output) -> None:
        """The project's networks; * marks the default."""
        from ..config.project import load_project

        project = load_project()
        nets = [_network_json(n, project.default_network)
                for _, n in sorted(project.networks.items())]

        def render() -> None:
            for n in nets:
                mark = "*" if n["default"] else " "
                where = n["url"] or "embedded"
                out.out.print(f"{mark} {n['name']:<16} {n['kind']:<8} chain {n['chain_id']:<8}"
                              f" {where}")

        out.emit({"default": project.default_network, "networks": nets}, render)

    @network.command("use")
    @command
    def use(out: Output, name: NameArg) -> None:
        """Make NAME the project's default network."""
        from ..config.project import load_project, set_value

        project = load_project()
        project.network(name)  # NotFoundError names the known ones
        set_value(project.root, "project.default_network", name)
        out.emit({"default": name}, lambda: out.info(f"default network: {name}"))

    @network.command("remove")
    @command
    def remove(out: Output, name: NameArg) -> None:
        """Remove NAME from ghost.toml."""
        from ..config import defaults as d
        from ..config.project import edit_config, load_project
        from ..exceptions import UsageError

        project = load_project()
        project.network(name)
        if name == d.SANDBOX_NETWORK:
            raise UsageError("'sandbox' is built in and cannot be removed")
        if name == project.default_network:
            raise UsageError(f"network {name!r} is the default: `ghost network use "
                             f"{d.SANDBOX_NETWORK}` (or another) first")
        edit_config(project.root, {}, remove=(f"networks.{name}",))
        out.emit({"removed": name}, lambda: out.info(f"removed network {name}"))

    @app.command("receipt")
    @command
    def receipt(
        out: Output,
        tx_hash: Annotated[str, typer.Argument(help="Transaction hash (0x + 64 hex digits).")],
        network: Network = None,
        transport: Transport = None,
    ) -> None:
        """Look up a recorded transaction's receipt (the sandbox's or a node's)."""
        from ..abi import format_address
        from ..chain.network import abi_lookup
        from .render import receipt_json, render_receipt

        raw = _hash_arg(tx_hash)
        with _open(network, transport) as net:
            r = net.receipt(raw)
            abi_of = abi_lookup(net)
            data = {"kind": r.kind, **receipt_json(r, abi_of), "status": r.status,
                    "error": r.error}

        def render() -> None:
            sender = f" from {format_address(r.sender)}" if r.sender else ""
            out.info(f"{r.kind} in block {r.block_height}, tx 0x{r.tx_hash.hex()}{sender}")
            if r.status != "ok":  # it ran and failed: only its nonce and gas were kept
                error = r.error or {}
                out.info(f"failed ({error.get('code')}): {error.get('message')}; "
                         f"gas used: {r.gas_used:,}")
                return
            render_receipt(out, r, events=data["events"])

        out.emit(data, render)

    @app.command("events")
    @command
    def events(
        out: Output,
        contract: Annotated[str, typer.Argument(help="Contract name or address.")],
        since: Annotated[int | None, typer.Option(
            "--since", min=0, max=2**63 - 1, help="From this block height on.")] = None,
        name: Annotated[str | None, typer.Option("--name", help="Only events of this name.")
                        ] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000,
                                           help="At most this many.")] = 100,
        network: Network = None,
        transport: Transport = None,
    ) -> None:
        """A contract's recorded events (the sandbox's or a node's), oldest first, with
        their fields decoded by the contract's ABI."""
        from ..chain.network import with_fields
        from .render import event_line

        with _open(network, transport) as net:
            found = with_fields(net, net.events(contract, name=name, from_block=since,
                                                limit=limit))

        def render() -> None:
            for e in found:
                out.out.print(f"block {e['block_height']} {event_line(e)}")
            if not found:
                out.info("no events")

        out.emit({"contract": contract, "events": found}, render)


def _stored_path(path: Path, root: Path) -> str:
    """Inside the project: relative (the project can move); elsewhere: absolute."""
    full = path.expanduser().resolve()
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(full)


def _network_json(n, default: str) -> dict:
    return {"name": n.name, "kind": n.kind, "chain_id": n.chain_id, "url": n.url,
            "http_url": n.http_url, "ca": n.ca, "gas_limit": n.gas_limit,
            "default": n.name == default}


def _hash_arg(text: str) -> bytes:
    import re

    from ..exceptions import UsageError

    # the 0x may be left out or written 0X, as for a bytes or address argument
    if not re.fullmatch(r"(0[xX])?[0-9a-fA-F]{64}", text):
        raise UsageError(f"expected a transaction hash (0x + 64 hex digits), got {text!r}")
    return bytes.fromhex(text[-64:])


def _open(network: str | None, transport: str | None):
    """The named network: the sandbox (its receipts and events are in its store) or a node."""
    from ..config.project import load_project
    from ..networks import open_network

    return open_network(load_project(), network, transport=transport)
