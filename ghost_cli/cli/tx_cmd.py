"""`ghost tx`: build a transaction offline, collect signatures, send it."""


from pathlib import Path
from typing import Annotated

import typer

from ..config.defaults import ENV_KEY
from .options import CtorArgs, GasLimit, Network, PasswordFile, Transport
from .output import Output, command

tx_app = typer.Typer(help="Build, sign and send transactions (multi-sig: sign offline, "
                          "in any order).", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="A transaction file (tx.json).")]


def register(app: typer.Typer) -> None:
    app.add_typer(tx_app, name="tx")


@tx_app.command("build")
@command
def build(
    out: Output,
    kind: Annotated[str, typer.Argument(help="deploy or call.")],
    target: Annotated[str, typer.Argument(help="call: contract name or address; deploy: a "
                                               "contract from ghost.toml.")],
    function: Annotated[str | None, typer.Argument(help="call: the function.")] = None,
    args: Annotated[list[str] | None, typer.Argument(help="call: its arguments.")] = None,
    ctor_args: CtorArgs = None,
    sender: Annotated[str, typer.Option("--from", help="Keystore key or multi-sig account "
                                                       "that sends it.")] = ...,
    network: Network = None,
    gas_limit: GasLimit = None,
    nonce: Annotated[int | None, typer.Option(
        min=0, max=2**64 - 1,
        help="The sender's nonce, instead of asking the network for its next one "
                    "(a deploy then needs no node: build offline).")] = None,
    ttl: Annotated[int, typer.Option(min=1, max=2**63 - 1, help="Seconds until the "
                                     "transaction expires.")] = 3600,
    out_file: Annotated[Path | None, typer.Option("--out", "-o",
                                                  help="Write here, not stdout.")] = None,
    transport: Transport = None,
) -> None:
    """Build an unsigned transaction (prints tx.json, or with --json a document holding it
    as `tx`)."""
    import time
    from dataclasses import replace

    from ..chain.constructor import encode_constructor_args, parse_constructor_args
    from ..chain.executor import check_gas_cap
    from ..chain.transaction import (
        MultisigAuth,
        SignedTransaction,
        Transaction,
        dumps,
        to_json,
    )
    from ..config.project import load_project
    from ..exceptions import UsageError
    from ..networks import open_network
    from .artifacts import artifact_path
    from .signing import keystore

    if kind not in ("deploy", "call"):
        raise UsageError(f"unknown transaction kind {kind!r}: use deploy or call")
    info = keystore().get(sender)
    if info.address is None:
        raise UsageError(f"key {sender!r} ({info.kind}) cannot send transactions")
    project = load_project()
    config = project.networks.get(network or project.default_network)

    def new_transaction(net, kind: str, **fields):
        if nonce is None:  # the network's next nonce, and its checks
            tx = net.new_transaction(kind, info.address, gas_limit=gas_limit, **fields)
            return replace(tx, expiry=int(time.time()) + ttl)
        # Given the nonce, nothing is asked of the network: the multi-sig flow builds
        # offline, beside the keys (nothing is signed here, so no chain check is due).
        return Transaction(chain_id=config.chain_id, sender=info.address, nonce=nonce,
                           kind=kind, expiry=int(time.time()) + ttl,
                           gas_limit=config.gas_limit if gas_limit is None else gas_limit,
                           **fields)

    with open_network(project, network, transport=transport) as net:
        if kind == "call":
            if ctor_args:
                raise UsageError("--args is for a deploy's constructor; a call's "
                                 "arguments follow the function name")
            if function is None:
                raise UsageError("a call needs a function name")
            address = net.resolve(target)
            values = net.parse_call_args(address, function, args or [])
            tx = new_transaction(net, "call", target=address, function=function,
                                 args=net.encode_args(address, function, values))
        else:
            if function is not None or args:
                raise UsageError("a deploy's constructor arguments go in --args "
                                 "(one per argument)")
            code = artifact_path(project, target, None).read_bytes()  # its configured target
            calldata = encode_constructor_args(
                code, parse_constructor_args(code, ctor_args or []))
            tx = new_transaction(net, "deploy", code=code, label=target, args=calldata)
    # What no network accepts is refused now, not after the signatures are collected:
    # a transaction over the request limits, a gas limit over the cap (--gas-limit,
    # GHOST_GAS_LIMIT or the network's gas_limit), in the order a node checks them.
    tx.check_size()
    check_gas_cap(tx.gas_limit)
    auth = MultisigAuth(info.multisig) if info.multisig is not None else None
    built = SignedTransaction(tx, auth)
    if out_file is not None or not out.as_json:
        _write(out_file, dumps(built))
    out.emit({"hash": "0x" + tx.hash.hex(), "kind": kind, "nonce": tx.nonce,
              "out": None if out_file is None else str(out_file),
              **({"tx": to_json(built)} if out_file is None else {})},
             lambda: out.info(f"built {kind} 0x{tx.hash.hex()} from {sender} (nonce "
                              f"{tx.nonce}); sign it with `ghost tx sign`"))


@tx_app.command("sign")
@command
def sign(
    out: Output,
    file: FileArg,
    key: Annotated[str, typer.Option("--key", "-k", envvar=ENV_KEY,
                                     help="Keystore key that signs.")] = ...,
    password_file: PasswordFile = None,
) -> None:
    """Add KEY's signature to the transaction file, in place."""
    from ..chain.transaction import (
        MultisigAuth,
        add_multisig_signature,
        dumps,
        sign_single,
    )
    from ..crypto.address import format_address
    from ..exceptions import UsageError
    from .signing import unlock

    signed = _read(file)
    signer = unlock(key, password_file)
    if isinstance(signed.auth, MultisigAuth):
        signed = add_multisig_signature(signed, signer.secret_key, signer.public_key)
        have, need = len(signed.auth.signatures), signed.auth.account.threshold
        status = f"{have} of {need} required signatures"
    else:
        if signer.address != signed.tx.sender:
            raise UsageError(f"key {key!r} ({format_address(signer.address)}) is not the "
                             f"sender {format_address(signed.tx.sender)}")
        signed = sign_single(signed.tx, signer.secret_key, signer.public_key)
        have, need, status = 1, 1, "signed"
    _write(file, dumps(signed))
    out.emit({"hash": "0x" + signed.hash.hex(), "signatures": have, "threshold": need},
             lambda: out.info(f"signed by {key}: {status}"))


@tx_app.command("send")
@command
def send(out: Output, file: FileArg, network: Network = None, transport: Transport = None) -> None:
    """Submit a signed transaction; print its result like `ghost call`."""
    from ..config.project import load_project
    from ..networks import open_network
    from .render import receipt_json, render_receipt

    signed = _read(file)
    with open_network(load_project(), network, transport=transport) as net:
        receipt = net.submit(signed)
    out.emit(receipt_json(receipt), lambda: render_receipt(out, receipt))


@tx_app.command("show")
@command
def show(out: Output, file: FileArg) -> None:
    """Print what a transaction file holds and who has signed it."""
    from ..chain.transaction import to_json

    doc = to_json(_read(file))
    out.emit(doc, lambda: out.out.print_json(data=doc))


def _read(file: Path):
    from ..chain.transaction import from_json
    from ..exceptions import NotFoundError, TransactionError
    from ..strict_json import loads

    try:
        doc = loads(file.read_text())  # as strict as a node reading a request
    except FileNotFoundError:
        raise NotFoundError(f"no transaction file {file}") from None
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, the hooks'
        raise TransactionError(f"cannot read transaction file {file}: {exc}") from exc
    except RecursionError:  # a crafted file nested thousands deep
        raise TransactionError(f"cannot read transaction file {file}: JSON nested too "
                               "deeply") from None
    return from_json(doc)


def _write(file: Path | None, text: str) -> None:
    import sys

    from ..fsutil import write_output

    if file is None:
        sys.stdout.write(text)
        return
    write_output(file, text.encode())
