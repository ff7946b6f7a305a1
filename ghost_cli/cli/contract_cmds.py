"""`ghost deploy`, `ghost call`, `ghost query`: transactions against a network."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from .options import GasLimit, Json, Key, Network, PasswordFile, Target, Transport
from .output import Output, handling
from .zvm_cmds import Trace, tracing

ContractArg = Annotated[str, typer.Argument(help="Contract name (from ghost.toml) or address.")]
FunctionArg = Annotated[str, typer.Argument(help="Function to run.")]
ArgsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Arguments, parsed as the ABI declares (integers, 0x-hex bytes, "
                        "strings, addresses). Put `--` before negative numbers."),
]


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    def deploy(
        contracts: Annotated[
            list[str] | None, typer.Argument(help="Contracts to deploy (default: all).")
        ] = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        key: Key = None,
        password_file: PasswordFile = None,
        target: Target = None,
        transport: Transport = None,
        as_json: Json = False,
    ) -> None:
        """Deploy built contracts (build/NAME.wasm, or NAME.zvmc for the zvm target) to a
        network, the sandbox by default."""
        out = Output(as_json)
        with handling(out):
            from ..abi import format_address
            from ..chain.networks import open_network
            from ..config.project import load_project
            from .build_cmd import check_target
            from .signing import load_signer

            check_target(target)
            project = load_project()
            names = contracts or list(project.contracts)
            artifacts = [(name, _artifact(project, name, target)) for name in names]
            signer = load_signer(key or project.default_key, password_file)
            deployed = []
            with open_network(project, network, transport=transport) as net:
                for name, path in artifacts:
                    receipt = net.deploy(path.read_bytes(), name=name, gas_limit=gas_limit,
                                         signer=signer)
                    deployed.append((name, receipt))
            out.emit(
                {"network": network or project.default_network,
                 "deployed": [_deploy_json(n, r) for n, r in deployed]},
                lambda: [out.out.print(
                    f"Deployed {n} at {format_address(r.address)} (gas {r.gas_used:,}, "
                    f"block {r.block_height})") for n, r in deployed],
            )

    @app.command("call")
    def call(
        contract: ContractArg,
        function: FunctionArg,
        args: ArgsArg = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        key: Key = None,
        password_file: PasswordFile = None,
        trace: Trace = False,
        transport: Transport = None,
        as_json: Json = False,
    ) -> None:
        """Send a transaction that runs FUNCTION; print its result, gas used and events."""
        _run(contract, function, args or [], network, gas_limit, as_json, commit=True,
             key=key, password_file=password_file, trace=trace, transport=transport)

    @app.command("query")
    def query(
        contract: ContractArg,
        function: FunctionArg,
        args: ArgsArg = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        trace: Trace = False,
        transport: Transport = None,
        prove: Annotated[bool, typer.Option(
            "--prove", help="Node networks: re-run the query here on the project's build, "
                            "over storage values whose Merkle proofs are checked against "
                            "the node's state root.")] = False,
        as_json: Json = False,
    ) -> None:
        """Run FUNCTION read-only: nothing is recorded, state is never changed."""
        _run(contract, function, args or [], network, gas_limit, as_json, commit=False,
             trace=trace, transport=transport, prove=prove)


def _artifact(project, name: str, target: str | None):
    from ..exceptions import NotFoundError

    if name not in project.contracts:
        known = ", ".join(project.contracts) or "none"
        raise NotFoundError(f"no contract {name!r} in ghost.toml (contracts: {known})")
    path = project.artifact_path(name, target)
    if not path.is_file():
        flag = f" --target {target}" if target else ""
        raise NotFoundError(
            f"{path.relative_to(project.root)} not found: run `ghost build{flag}` first")
    return path


def _run(contract, function, args, network, gas_limit, as_json, *, commit: bool,
         key: str | None = None, password_file=None, trace: bool = False,
         transport: str | None = None, prove: bool = False) -> None:
    out = Output(as_json)
    with handling(out):
        from ..chain.networks import open_network
        from ..config.project import load_project
        from .signing import load_signer

        project = load_project()
        if prove and project.network(network).kind != "node":
            from ..exceptions import UsageError

            raise UsageError("--prove is for node networks: the sandbox's state is already "
                             "on this machine")
        signer = load_signer(key or project.default_key, password_file) if commit else None
        with open_network(project, network, transport=transport) as net:
            values = net.parse_call_args(contract, function, args)
            with tracing(net, contract, trace, out) as steps, located(project, contract):
                if commit:
                    receipt = net.call(contract, function, values, gas_limit=gas_limit,
                                       signer=signer)
                else:
                    receipt = net.query(contract, function, values, gas_limit=gas_limit)
            proven = _prove(project, net, contract, function, values, receipt) if prove else None
        data = {"contract": contract, **receipt_json(receipt)}
        if proven is not None:
            data["proof"] = proven.to_json()
        if steps is not None:
            data["trace"] = steps
        out.emit(data, lambda: _render(out, receipt, proven))


@contextmanager
def located(project, contract: str) -> Iterator[None]:
    """A failed call gets its function and Zig file:line from the build's debug sidecar."""
    from ..exceptions import ExecutionError

    try:
        yield
    except ExecutionError as exc:
        if contract in project.contracts:
            from ..toolchain.debuginfo import locate

            replaced = locate(exc, project.out_dir, contract)
            if replaced is not exc:
                raise replaced from exc
        raise


def _prove(project, net, contract: str, function: str, values, receipt):
    """Re-run the query over proven state (ghost_cli.client.prove) and hold the node to it."""
    from ..client.prove import matching_code, prove_query
    from ..config import defaults as d
    from ..exceptions import CryptoError, UsageError

    address = net.resolve(contract)
    info = net.client.get_contract(address=address)
    name = contract if contract in project.contracts else info.get("name")
    builds = [p.read_bytes() for t in d.TARGETS if name in project.contracts
              and (p := project.artifact_path(name, t)).is_file()]
    code = matching_code(builds, bytes.fromhex(info["code_hash"][2:]))
    if code is None:
        raise UsageError(f"--prove re-runs {function} on this project's build of {contract}, "
                         "and no build here is the deployed code: run `ghost build` on the "
                         "deployed version")
    proven = prove_query(net, address, function, values, code)
    if proven.return_data != receipt.return_data:
        raise CryptoError(f"the node answered 0x{receipt.return_data.hex()}, but its proven "
                          f"state gives 0x{proven.return_data.hex()}")
    return proven


def _deploy_json(name, r) -> dict:
    from ..abi import format_address

    return {"name": name, "address": format_address(r.address), "gas_used": r.gas_used,
            "block_height": r.block_height, "tx_hash": "0x" + r.tx_hash.hex()}


def receipt_json(r) -> dict:
    from ..abi import format_address, to_jsonable

    return {
        "address": format_address(r.address),
        "function": r.function,
        "result": to_jsonable(r.result),
        "return_data": "0x" + r.return_data.hex(),
        "gas_used": r.gas_used,
        "block_height": r.block_height,
        "tx_hash": "0x" + r.tx_hash.hex() if r.tx_hash else None,
        "events": [
            {"name": e.name, "address": format_address(e.address),
             "topics": ["0x" + t.hex() for t in e.topics], "data": "0x" + e.data.hex()}
            for e in r.events
        ],
        "logs": list(r.logs),
    }


def _render(out, r, proven=None) -> None:
    from ..abi import to_jsonable

    if r.result is None:
        out.info("ok (no return value)")  # stdout stays empty for scripts
    else:
        out.out.print(to_jsonable(r.result))
    out.info(f"gas used: {r.gas_used:,}" + ("" if r.tx_hash else "  (query: nothing recorded)"))
    for e in r.events:
        topics = " ".join("0x" + t.hex() for t in e.topics[1:])
        out.info(f"event {e.name} {topics} data=0x{e.data.hex()}".rstrip())
    for line in r.logs:
        out.info(f"log: {line}")
    if proven is not None:
        where = (f"checkpoint {proven.checkpoint_height}" if proven.checkpoint_height
                 is not None else f"height {proven.height}, not yet checkpointed")
        out.info(f"proven: recomputed here from {len(proven.reads)} storage value(s) "
                 f"verified against state root 0x{proven.state_root.hex()} ({where})")
