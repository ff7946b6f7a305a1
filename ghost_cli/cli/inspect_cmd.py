"""`ghost inspect NAME`: a contract's functions, constructor, events, types and errors."""


from typing import Annotated

import typer

from .options import ReadTarget, Transport
from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    @command
    def inspect(
        out: Output,
        contract: Annotated[str, typer.Argument(
            help="Contract name from ghost.toml (its build), or with --network a deployed "
                 "contract's address or name.")],
        network: Annotated[str | None, typer.Option(
            "--network", "-n", help="Read the ABI recorded on this network at deploy "
                                    "instead of the local build.")] = None,
        target: ReadTarget = None,
        transport: Transport = None,
    ) -> None:
        """Show a contract's ABI: functions (arguments, result, whether they can fail or
        change state, docs), constructor, events, struct/enum types and error names."""
        from ..bindings import describe, source
        from ..config.defaults import check_transport
        from ..config.project import load_project
        from .artifacts import check_target

        check_target(target)
        check_transport(transport)  # also for a local build, as the sandbox checks it
        src = source.load(load_project(), contract, network=network, target=target,
                          transport=transport)
        out.emit({"contract": src.name, "origin": src.origin,
                  **describe.to_json(src.abi, src.raw)},
                 lambda: [out.result(line) for line in
                          describe.text(src.name, src.origin, src.abi, src.raw)])


