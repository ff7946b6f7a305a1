"""`ghost build`: compile the project's contracts with Zig."""


from typing import Annotated

import typer

from ..config import defaults
from .artifacts import check_target
from .build_output import render, result_json
from .options import Target
from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("build")
    @command
    def build(
        out: Output,
        contracts: Annotated[
            list[str] | None, typer.Argument(help="Contracts to build (default: all).")
        ] = None,
        target: Target = None,
        optimize: Annotated[
            str | None,
            typer.Option("--optimize", "-O", envvar=defaults.ENV_OPTIMIZE,
                         help="Zig optimize mode: Debug, ReleaseSafe (safety checks on), "
                              "ReleaseFast or ReleaseSmall (checks off); default: "
                              "build.optimize in ghost.toml."),
        ] = None,
        force: Annotated[
            bool,
            typer.Option("--force", help="Compile even the contracts whose sources, SDK, Zig "
                                         "and settings are unchanged since their last build."),
        ] = False,
    ) -> None:
        """Compile Zig to WebAssembly (and lower it to ZVM for --target zvm); print size,
        exports and imports of each contract."""
        from ..config.project import load_project
        from ..toolchain.build import build_project

        check_target(target)
        project = load_project()
        with out.status("Building") as say:
            results = build_project(project, contracts or None, progress=say,
                                    target=target, optimize=optimize, force=force)
        for r in results:
            for warning in r.warnings:  # stderr, so --json output stays clean
                out.info(f"warning: {warning}")
        out.emit(
            {"contracts": [result_json(project.root, r) for r in results]},
            lambda: render(out, project.root, results),
        )
