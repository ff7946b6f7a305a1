"""`ghost deploy`, `ghost call`, `ghost query`: transactions against a network."""


from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from .options import GasLimit, Json, Key, Network, PasswordFile, Target, Transport, Verbose
from .output import Output, handling
from .zvm_cmds import Trace, tracing

ContractArg = Annotated[str, typer.Argument(help="Contract name (from ghost.toml) or address.")]
FunctionArg = Annotated[str, typer.Argument(help="Function to run.")]
ArgsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Arguments, parsed as the ABI declares (integers, 0x-hex bytes, "
                        "strings, addresses). Put `--` before negative numbers."),
]

CtorArgs = Annotated[
    list[str] | None,
    typer.Option("--args", help="An argument of the contract's constructor (`pub fn init`), "
                                "parsed as its ABI declares; repeat once per argument, in "
                                "order. The constructor runs inside the deploy transaction."),
]


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    def deploy(
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
        as_json: Json = False,
    ) -> None:
        """Deploy built contracts (build/NAME.wasm, or NAME.zvmc for the zvm target) to a
        network, the sandbox by default. Each contract's constructor (`pub fn init`), if it
        has one, runs in its deploy transaction with --args (one contract at a time)."""
        out = Output(as_json)
        with handling(out):
            from ..abi import format_address
            from ..chain.constructor import parse_constructor_args
            from ..config.project import load_project
            from ..exceptions import UsageError
            from ..networks import open_network
            from .build_cmd import check_target
            from .signing import load_signer

            check_target(target)
            project = load_project()
            names = contracts or list(project.contracts)
            if ctor_args and len(names) != 1:
                raise UsageError("--args is for one contract's constructor: name that "
                                 "contract, e.g. `ghost deploy token --args 1000`")
            artifacts = [(name, _artifact(project, name, target)) for name in names]
            # Every constructor's arguments are checked before the first deploy is sent.
            codes = [(name, path.read_bytes()) for name, path in artifacts]
            values = [parse_constructor_args(code, ctor_args or []) for _, code in codes]
            signer = load_signer(key or project.default_key, password_file)
            deployed = []
            with open_network(project, network, transport=transport) as net:
                for (name, code), args in zip(codes, values, strict=True):
                    receipt = net.deploy(code, args, name=name, gas_limit=gas_limit,
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
        verbose: Verbose = 0,
        transport: Transport = None,
        as_json: Json = False,
    ) -> None:
        """Send a transaction that runs FUNCTION; print its result, gas used and events."""
        _run(contract, function, args or [], network, gas_limit, as_json, commit=True,
             key=key, password_file=password_file, trace=trace, transport=transport,
             verbose=verbose)

    @app.command("query")
    def query(
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
        as_json: Json = False,
    ) -> None:
        """Run FUNCTION read-only: nothing is recorded, state is never changed."""
        _run(contract, function, args or [], network, gas_limit, as_json, commit=False,
             trace=trace, transport=transport, prove=prove, verbose=verbose)


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
         transport: str | None = None, prove: bool = False, verbose: int = 0) -> None:
    out = Output(as_json)
    with handling(out):
        from ..config.project import load_project
        from ..networks import open_network
        from .signing import load_signer

        project = load_project()
        if prove and project.network(network).kind != "node":
            from ..exceptions import UsageError

            raise UsageError("--prove is for node networks: the sandbox's state is already "
                             "on this machine")
        if verbose and project.network(network).kind == "node":
            from ..exceptions import UsageError

            raise UsageError("-v traces calls on the sandbox only: a node does not send traces")
        signer = load_signer(key or project.default_key, password_file) if commit else None
        with open_network(project, network, transport=transport) as net:
            values = net.parse_call_args(contract, function, args)
            with tracing(net, contract, trace, out) as steps, \
                    call_tracing(net, verbose, out, project) as recorder, \
                    located(project, contract):
                if commit:
                    receipt = net.call(contract, function, values, gas_limit=gas_limit,
                                       signer=signer)
                else:
                    receipt = net.query(contract, function, values, gas_limit=gas_limit)
            proven = _prove(project, net, contract, function, values, receipt) if prove else None
            data = {"contract": contract, **receipt_json(receipt, abi_lookup(net))}
            if recorder is not None:
                data["call_trace"] = recorder.to_json()  # reads ABIs: while the network is open
        if proven is not None:
            data["proof"] = proven.to_json()
        if steps is not None:
            data["trace"] = steps
        out.emit(data, lambda: _render(out, receipt, proven, data["events"]))


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
    from ..chain.network import PROOFS, require
    from ..client.prove import matching_code, prove_query
    from ..config import defaults as d
    from ..exceptions import CryptoError, UsageError

    require(net, PROOFS, "--prove is for node networks: the sandbox's state is already "
                         "on this machine")
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


def abi_lookup(net):
    """address -> the deployed contract's ABI (None when unknown), cached per command."""
    from ..exceptions import GhostError

    cache: dict[bytes, object] = {}

    def abi_of(address: bytes):
        if address not in cache:
            try:
                cache[address] = net.abi_of(address)
            except GhostError:
                cache[address] = None
        return cache[address]

    return abi_of


@contextmanager
def call_tracing(net, verbose: int, out, project=None):
    """Record a call trace of the calls made inside the block (None when -v is not given).
    The tree goes to stderr unless output is JSON; a failed call carries it in its error's
    details as "call_trace"."""
    if not verbose:
        yield None
        return
    from ..chain.network import TRACES, require
    from ..exceptions import ExecutionError
    from ..vm.trace import Recorder, recording

    require(net, TRACES, "-v traces calls on the sandbox only: a node does not send traces")
    recorder = Recorder(verbose, abi_of=abi_lookup(net))
    try:
        with recording(recorder):
            yield recorder
    except ExecutionError as exc:
        _locate_steps(recorder, net, project)
        exc.details["call_trace"] = recorder.to_json()
        _print_trace(out, recorder)
        raise
    _locate_steps(recorder, net, project)
    _print_trace(out, recorder)


def _locate_steps(recorder, net, project) -> None:
    """At -vvv, name each ZVM opcode's Zig function and line from the project's ZVM
    debug sidecar (build/NAME.zvm.debug.wasm) of the contract deployed at that address."""
    from ..vm.trace import MAX_VERBOSITY

    if project is None or recorder.verbosity < MAX_VERBOSITY:
        return
    from ..exceptions import GhostError
    from ..toolchain import debuginfo

    infos: dict[bytes, object] = {}
    for name in project.contracts:
        try:
            address = net.resolve(name)
        except GhostError:  # not deployed on this network
            continue
        info = debuginfo.load(project.out_dir, name, "zvm")
        if info is not None and info.zvm is not None:
            infos[address] = info

    def locate(address: bytes, pc: int) -> str | None:
        info = infos.get(address)
        if info is None:
            return None
        found = info.zvm_location(pc)
        # code the lowering generated (the ABI dispatcher) has no Zig source
        return "(dispatcher)" if found is None else str(found)

    recorder.locate_steps(locate)


def _print_trace(out, recorder) -> None:
    if not out.as_json:
        from rich.markup import escape

        for line in recorder.render():
            out.info(escape(line))


def _events_json(events, abi_of) -> list[dict]:
    from ..vm.trace import event_json

    return [event_json(e, abi_of(e.address) if abi_of else None) for e in events]


def receipt_json(r, abi_of=None) -> dict:
    from ..abi import format_address, to_jsonable

    if abi_of is None:  # the receipt's own contract's ABI decodes its events
        def abi_of(address):
            return r.abi if address == r.address else None

    return {
        "sender": format_address(r.sender) if r.sender else None,
        "address": format_address(r.address),
        "function": r.function,
        "result": to_jsonable(r.result),
        "return_data": "0x" + r.return_data.hex(),
        "gas_used": r.gas_used,
        "block_height": r.block_height,
        "tx_hash": "0x" + r.tx_hash.hex() if r.tx_hash else None,
        "events": _events_json(r.events, abi_of),
        "logs": list(r.logs),
    }


def event_line(e: dict) -> str:
    """One event for the terminal: its decoded fields, else its raw topics and data."""
    from ..abi import format_fields

    if e.get("fields") is not None:
        return f"{e['name']} {format_fields(e['fields'])}".rstrip()
    return f"{e['name']} {' '.join(e['topics'][1:])} data={e['data']}".replace("  ", " ")


def _render(out, r, proven=None, events=None) -> None:
    """`events`: the receipt's events as receipt_json gives them (default: decoded by the
    receipt's own ABI)."""
    from ..abi import to_jsonable

    if r.result is None:
        out.info("ok (no return value)")  # stdout stays empty for scripts
    else:
        out.result(to_jsonable(r.result))
    out.info(f"gas used: {r.gas_used:,}" + ("" if r.tx_hash else "  (query: nothing recorded)"))
    for e in receipt_json(r)["events"] if events is None else events:
        out.info(f"event {event_line(e)}")
    for line in r.logs:
        out.info(f"log: {line}")
    if proven is not None:
        where = (f"checkpoint {proven.checkpoint_height}" if proven.checkpoint_height
                 is not None else f"height {proven.height}, not yet checkpointed")
        out.info(f"proven: recomputed here from {len(proven.reads)} storage value(s) "
                 f"verified against state root 0x{proven.state_root.hex()} ({where})")
