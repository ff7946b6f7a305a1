"""`ghost deploy`, `ghost call`, `ghost query`: transactions against a network. What call
and query run once parsed is contract_run.py's, shared with quick_call.py."""


from typing import Annotated

import typer

from .artifacts import artifact_path, check_target
from .contract_help import ContractHelpCommand, QueryHelpCommand
from .contract_run import located, run
from .options import (
    CtorArgs,
    GasLimit,
    Key,
    Network,
    PasswordFile,
    Target,
    Trace,
    Transport,
    Verbose,
)
from .output import Output, command
from .render import deploy_json

ContractArg = Annotated[str, typer.Argument(help="Contract name (from ghost.toml) or address.")]
FunctionArg = Annotated[str, typer.Argument(help="Function to run.")]
ArgsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Arguments, parsed as the ABI declares (integers, 0x-hex bytes, "
                        "strings, addresses). Put `--` before negative numbers."),
]

def register(app: typer.Typer) -> None:
    @app.command("deploy")
    @command
    def deploy(
        out: Output,
        contracts: Annotated[
            list[str] | None, typer.Argument(help="Contracts to deploy (default: all).")
        ] = None,
        ctor_args: CtorArgs = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        key: Key = None,
        password_file: PasswordFile = None,
        target: Target = None,
        transport: Transport = None,
    ) -> None:
        """Deploy built contracts (build/NAME.wasm, or NAME.zvmc for the zvm target) to a
        network, the sandbox by default. Each contract's constructor (`pub fn init`), if it
        has one, runs in its deploy transaction with --args (one contract at a time)."""
        from ..abi import format_address
        from ..chain.constructor import parse_constructor_args
        from ..config.project import load_project
        from ..exceptions import GhostError, UsageError
        from ..networks import open_network
        from .signing import load_signer

        check_target(target)
        project = load_project()
        names = contracts or list(project.contracts)
        if ctor_args and len(names) != 1:
            raise UsageError("--args is for one contract's constructor: name that "
                             "contract, e.g. `ghost deploy token --args 1000`")
        artifacts = [(name, artifact_path(project, name, target)) for name in names]
        # Every constructor's arguments are checked before the first deploy is sent.
        codes = [(name, path.read_bytes()) for name, path in artifacts]
        values = [parse_constructor_args(code, ctor_args or []) for _, code in codes]
        signer = load_signer(key or project.default_key, password_file)
        deployed = []

        def say() -> None:
            for n, r in deployed:
                out.out.print(f"Deployed {n} at {format_address(r.address)} "
                              f"(gas {r.gas_used:,}, block {r.block_height})")

        with open_network(project, network, transport=transport) as net:
            for (name, code), args in zip(codes, values, strict=True):
                try:
                    with located(project, name):  # a constructor's panic: its file:line
                        receipt = net.deploy(code, args, name=name, gas_limit=gas_limit,
                                             signer=signer)
                except GhostError as exc:  # those deployed before it stay: say so
                    if deployed:
                        exc.details["deployed"] = [deploy_json(n, r) for n, r in deployed]
                        if not out.as_json:
                            say()
                    raise
                deployed.append((name, receipt))
        out.emit({"network": network or project.default_network,
                  "deployed": [deploy_json(n, r) for n, r in deployed]}, say)

    @app.command("call", cls=ContractHelpCommand)
    @command
    def call(
        out: Output,
        contract: ContractArg,
        function: FunctionArg,
        args: ArgsArg = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        key: Key = None,
        password_file: PasswordFile = None,
        trace: Trace = False,
        verbose: Verbose = 0,
        transport: Transport = None,
    ) -> None:
        """Send a transaction that runs FUNCTION; print its result, gas used and events.
        `ghost call CONTRACT --help` lists the contract's functions and their types."""
        run(out, contract, function, args or [], network, gas_limit, commit=True,
            key=key, password_file=password_file, trace=trace, transport=transport,
            verbose=verbose)

    @app.command("query", cls=QueryHelpCommand)
    @command
    def query(
        out: Output,
        contract: ContractArg,
        function: FunctionArg,
        args: ArgsArg = None,
        network: Network = None,
        gas_limit: GasLimit = None,
        trace: Trace = False,
        verbose: Verbose = 0,
        transport: Transport = None,
        prove: Annotated[bool, typer.Option(
            "--prove", help="Node networks: re-run the query here on the project's build, "
                            "over storage values whose Merkle proofs are checked against "
                            "the node's state root.")] = False,
    ) -> None:
        """Run FUNCTION read-only: nothing is recorded, state is never changed.
        `ghost query CONTRACT --help` lists the contract's read-only functions."""
        run(out, contract, function, args or [], network, gas_limit, commit=False,
            trace=trace, transport=transport, prove=prove, verbose=verbose)
