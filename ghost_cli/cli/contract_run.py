"""What `ghost call` and `ghost query` do once their command line is parsed: shared by the
Typer commands (contract_cmds.py) and by the same commands answered without Typer
(quick_call.py), so both print the same. Imports no Typer."""


from collections.abc import Iterator
from contextlib import contextmanager

from ..chain.network import abi_lookup
from .output import Output
from .render import proven_line, receipt_json, render_receipt
from .tracing import call_tracing, tracing


def run(out: Output, contract, function, args, network=None, gas_limit=None, *, commit: bool,
        key: str | None = None, password_file=None, trace: bool = False,
        transport: str | None = None, prove: bool = False, verbose: int = 0) -> None:
    """Run FUNCTION of CONTRACT: a transaction (`commit`, `ghost call`) or read-only
    (`ghost query`); print its result through `out`."""
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
                located(project, contract, net):
            proven = None
            if commit:
                receipt = net.call(contract, function, values, gas_limit=gas_limit,
                                   signer=signer)
            elif prove:
                receipt, proven = _proven_query(out, project, net, contract, function,
                                                values, gas_limit)
            else:
                receipt = net.query(contract, function, values, gas_limit=gas_limit)
        data = {"contract": contract, **receipt_json(receipt, abi_lookup(net))}
        if recorder is not None:
            data["call_trace"] = recorder.to_json()  # reads ABIs: while the network is open
    if proven is not None:
        data["proof"] = proven.to_json()
    if steps is not None:
        data["trace"] = steps
    out.emit(data, lambda: render_receipt(out, receipt, proven, data["events"]))


@contextmanager
def located(project, contract: str, net=None) -> Iterator[None]:
    """A failed call gets its function and Zig file:line from the build's debug sidecar:
    of `contract` when it is a name of ghost.toml, else (an address, a registered name)
    of the project's contract whose build is the code deployed there, if one is."""
    from ..exceptions import ExecutionError

    try:
        yield
    except ExecutionError as exc:
        name = contract if contract in project.contracts else _built_here(project, net,
                                                                           contract)
        if name is not None:
            from ..toolchain.debuginfo import locate

            replaced = locate(exc, project.out_dir, name)
            if replaced is not exc:
                raise replaced from exc
        raise


def _built_here(project, net, ref: str) -> str | None:
    """The project's contract one of whose builds (any target) is the code deployed at
    `ref`, or None: none is, or the network cannot say (its failure is not this call's)."""
    import hashlib

    from ..config import defaults as d
    from ..exceptions import GhostError

    if net is None:
        return None
    try:
        deployed = net.code_hash(ref)
    except GhostError:
        return None
    for name in project.contracts:
        for target in d.TARGETS:
            path = project.artifact_path(name, target)
            if path.is_file() and hashlib.sha256(path.read_bytes()).digest() == deployed:
                return name
    return None


def _proven_query(out: Output, project, net, contract: str, function: str, values,
                  gas_limit):
    """`ghost query --prove`: the node's answer, held to the run over proven state. A
    failure (a revert) is an answer too: a node could fake one to hide a result."""
    from ..exceptions import ExecutionError

    try:
        receipt = net.query(contract, function, values, gas_limit=gas_limit)
    except ExecutionError as exc:
        proven = _prove(project, net, contract, function, values, exc, gas_limit)
        exc.details["proof"] = proven.to_json()
        out.info(proven_line(proven, "the failure"))
        raise
    return receipt, _prove(project, net, contract, function, values, receipt, gas_limit)


def _failure(error) -> tuple:
    """What of a failure the node must have got right: its kind, and the contract's own
    words (a revert's reason, a panic's message). Gas and wording are the node's."""
    return error.code, error.details.get("reason"), error.details.get("panic")


def _prove(project, net, contract: str, function: str, values, answer, gas_limit=None):
    """Re-run the query over proven state (ghost_cli.client.prove) and hold the node's
    answer (a receipt, or the ExecutionError it reported) to it."""
    from ..chain.network import PROOFS, require
    from ..client.prove import matching_code, prove_query
    from ..config import defaults as d
    from ..exceptions import CryptoError, ExecutionError, UsageError

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
    proven = prove_query(net, address, function, values, code, gas_limit=gas_limit)
    said = _failure(answer) if isinstance(answer, ExecutionError) else None
    proved = None if proven.error is None else _failure(proven.error)
    if said != proved:
        raise CryptoError(f"the node answered {_said(answer)}, but its proven state gives "
                          f"{_said(proven.error or proven)}")
    if said is None and proven.return_data != answer.return_data:
        raise CryptoError(f"the node answered 0x{answer.return_data.hex()}, but its proven "
                          f"state gives 0x{proven.return_data.hex()}")
    return proven


def _said(answer) -> str:
    """A result's return data, or a failure's message, for a mismatch's message."""
    from ..exceptions import ExecutionError

    if isinstance(answer, ExecutionError):
        return f"the failure {answer.message[:200]!r} ({answer.code})"
    return f"0x{answer.return_data.hex()}"
