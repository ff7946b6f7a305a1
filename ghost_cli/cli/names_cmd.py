"""`ghost name`: contract names in the network's names registry (docs/names.md).

Thin: a name is changed by a signed call to the registry contract at REGISTRY_ADDRESS,
read back over DNS-over-QUIC (`show`), and listed from the registry's events (`list`).
"""


from typing import Annotated

import typer

from .options import Key, Network, PasswordFile, Transport
from .output import Output, command

NameArg = Annotated[str, typer.Argument(help="NAME.ghost (or just NAME).")]
TargetArg = Annotated[str, typer.Argument(
    help="The contract: its deployed name or its 0x address.")]


def register(app: typer.Typer) -> None:
    names = typer.Typer(help="Contract names: NAME.ghost -> contract address, on chain.",
                        no_args_is_help=True)
    app.add_typer(names, name="name")

    @names.command("register")
    @command
    def register_(out: Output, name: NameArg, target: TargetArg, network: Network = None,
                  key: Key = None,
                  password_file: PasswordFile = None, transport: Transport = None) -> None:
        """Claim NAME.ghost for your key, pointing at TARGET. Refused if it is taken."""
        _change(out, "register", name, target, network, key, password_file, transport)

    @names.command("update")
    @command
    def update(out: Output, name: NameArg, target: TargetArg, network: Network = None,
               key: Key = None,
               password_file: PasswordFile = None, transport: Transport = None) -> None:
        """Point NAME.ghost at another contract; only its owner may."""
        _change(out, "update", name, target, network, key, password_file, transport)

    @names.command("transfer")
    @command
    def transfer(out: Output, name: NameArg,
                 to: Annotated[str, typer.Argument(help="New owner: 0x address or a key name.")],
                 network: Network = None, key: Key = None, password_file: PasswordFile = None,
                 transport: Transport = None) -> None:
        """Give NAME.ghost to another owner; only its owner may."""
        _change(out, "transfer", name, to, network, key, password_file, transport)

    @names.command("show")
    @command
    def show(out: Output, name: NameArg, network: Network = None,
             transport: Transport = None) -> None:
        """Resolve NAME.ghost (over DNS-over-QUIC on a quic:// node)."""
        with _open(network, transport) as net:
            record = _client(net).resolve_name(name)
        data = _record_json(record)
        out.emit(data, lambda: [out.out.print(f"{k}: {v}") for k, v in data.items()])

    @names.command("list")
    @command
    def list_(out: Output, network: Network = None, transport: Transport = None) -> None:
        """Every registered name, from the registry's event history."""
        from ..abi import format_address
        from ..names.listing import registered_names

        with _open(network, transport) as net:
            _client(net)
            names = registered_names(lambda address, since, limit: net.events(
                address, from_block=since, limit=limit))
        rows = [{"name": r.fqdn, "owner": format_address(r.owner),
                 "address": format_address(r.target), "block_height": height}
                for r, height in names]
        out.emit({"names": rows}, lambda: [
            out.out.print(f"{r['name']}  {r['address']}  owner {r['owner']}")
            for r in rows])


def _open(network, transport):
    from ..config.project import load_project
    from ..networks import open_network

    project = load_project()
    return open_network(project, network, transport=transport)


def _client(net):
    from ..chain.network import NAMES, require

    require(net, NAMES, "names live on node networks: use --network with a `ghost node`")
    return net.client


def _record_json(record) -> dict:
    from ..abi import format_address

    return {"name": record.fqdn, "address": format_address(record.target),
            "owner": format_address(record.owner),
            "code_hash": None if record.code_hash is None else "0x" + record.code_hash.hex()}


def _new_owner(target: str) -> bytes:
    """`transfer`'s new owner: a 0x address, or the address of a key in the keystore."""
    from ..abi import parse_address
    from ..exceptions import UsageError
    from .signing import keystore

    if target.lower().startswith("0x"):
        return parse_address(target)
    info = keystore().get(target)
    if info.address is None:  # an encryption key: it never sends a transaction
        raise UsageError(f"{target!r} is an {info.scheme} key: it has no address")
    return info.address


def _change(out: Output, function, name, target, network, key, password_file, transport) -> None:
    from ..abi import format_address
    from ..config.project import load_project
    from ..names import REGISTRY_ADDRESS, ZONE, label_of
    from .signing import load_signer

    label = label_of(name)
    owner = _new_owner(target) if function == "transfer" else None  # before any passphrase
    project = load_project()
    signer = load_signer(key or project.default_key, password_file)
    with _open(network, transport) as net:
        _client(net)
        address = owner if owner is not None else net.resolve(target)
        receipt = net.call(REGISTRY_ADDRESS, function, [label, address], signer=signer)
    data = {"name": f"{label}.{ZONE}", "function": function,
            ("owner" if function == "transfer" else "address"): format_address(address),
            "tx_hash": "0x" + receipt.tx_hash.hex(), "block_height": receipt.block_height}
    out.emit(data, lambda: out.info(
        f"{function} {label}.{ZONE} -> {format_address(address)} "
        f"(block {receipt.block_height})"))
