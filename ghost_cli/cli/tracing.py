"""Tracing the calls a command makes (sandbox only): `--trace` prints every ZVM step, `-v`
the call tree. Shared by `ghost call` and `ghost query`."""


from collections.abc import Iterator
from contextlib import contextmanager

from ..chain.network import abi_lookup
from .output import Output


@contextmanager
def tracing(net, contract: str, enabled: bool, out: Output) -> Iterator[list[dict] | None]:
    """Trace the ZVM steps of calls made inside the block; yields the list of steps (None
    when tracing is off). Steps go to stderr as they run unless output is JSON; a failed
    call carries them in its error's details."""
    if not enabled:
        yield None
        return
    from ..chain.network import TRACES, require
    from ..exceptions import UsageError
    from ..vm.engines import StepTracing

    require(net, TRACES, "--trace runs on the sandbox only: a node does not send ZVM steps")
    engine = net.engine_for(net.code(contract))
    if not isinstance(engine, StepTracing):
        raise UsageError(
            f"--trace is ZVM-only: {contract} is a WebAssembly contract, which runs natively "
            "on wasmtime and cannot be traced step by step")
    import typer  # here: a call without --trace may run without Typer (quick_call.py)

    steps: list[dict] = []

    def record(step) -> None:
        top = None if step.stack_top is None else hex(step.stack_top)
        steps.append({"depth": step.depth, "pc": step.pc, "opcode": step.opcode,
                      "gas_left": step.gas_left, "stack_top": top,
                      "stack_size": step.stack_size})
        if not out.as_json:
            typer.echo(f"trace {step.depth:>2} {step.pc:>6}  {step.opcode:<20} "
                       f"gas {step.gas_left:<12} top {top or '-'}", err=True)

    from ..exceptions import ExecutionError

    with engine.tracing(record):
        try:
            yield steps
        except ExecutionError as exc:
            exc.details["trace"] = steps  # a failed call's --json error keeps its trace
            raise


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
        return None if info is None else info.zvm_step_name(pc)

    recorder.locate_steps(locate)


def _print_trace(out, recorder) -> None:
    if not out.as_json:  # Output prints text inert: no markup to escape
        for line in recorder.render():
            out.info(line)
