"""`ghost bindings python|zig NAME`: typed client code generated from a contract's ABI."""


from pathlib import Path
from typing import Annotated

import typer

from .options import ReadTarget
from .output import Output, command

ContractArg = Annotated[str, typer.Argument(help="Contract name from ghost.toml (its build).")]
OutFile = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the module to this file (default: stdout).")]


def register(app: typer.Typer) -> None:
    bindings = typer.Typer(help="Generate typed client code from a contract's ABI.",
                           no_args_is_help=True)
    app.add_typer(bindings, name="bindings")

    @bindings.command("python")
    @command
    def python(out: Output, contract: ContractArg, output: OutFile = None,
               target: ReadTarget = None) -> None:
        """A Python module with a class for the contract (a typed method per function),
        dataclasses for its structs and events, and Enums for its enums; usable over the
        sandbox, a node and the test fixtures (docs/bindings.md)."""
        from ..bindings import python as gen

        _write(out, "python", contract, target, output, gen.generate)

    @bindings.command("zig")
    @command
    def zig(out: Output, contract: ContractArg, output: OutFile = None,
            target: ReadTarget = None) -> None:
        """A Zig module that encodes call data and decodes results for each function of the
        contract (its structs and enums declared); the host has no cross-contract call, so
        it makes none (docs/bindings.md)."""
        from ..bindings import zig as gen

        _write(out, "zig", contract, target, output, gen.generate)


def _write(out: Output, lang: str, contract: str, target, output, generate) -> None:
    from ..bindings import source
    from ..config.project import load_project
    from .artifacts import check_target

    check_target(target)
    src = source.from_build(load_project(), contract, target, network_hint=False)
    text = generate(src.name, src.abi, src.raw)
    if output is None:
        if out.as_json:
            out.emit({"contract": contract, "language": lang, "source": text}, lambda: None)
        else:
            import sys

            sys.stdout.write(text)
        return
    from ..fsutil import write_output

    write_output(output, text.encode())
    out.emit({"contract": contract, "language": lang, "path": str(output)},
             lambda: out.info(f"wrote {output} ({lang} bindings for {contract}, from "
                              f"{src.origin})"))
