"""`ghost build`: compile the project's contracts with Zig."""


from typing import Annotated

import typer

from ..config import defaults
from .artifacts import check_target
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
            {"contracts": [_as_json(project.root, r) for r in results]},
            lambda: _render(out, project.root, results),
        )


def _as_json(root, r) -> dict:
    return {**r.to_json(), "path": str(r.path.relative_to(root))}


def _render(out, root, results) -> None:
    from rich.table import Table

    table = Table(title="ghost build", title_justify="left")
    table.add_column("contract", no_wrap=True)
    table.add_column("artifact", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("exports")
    table.add_column("host imports")
    table.add_column("time", justify="right", no_wrap=True)
    for r in results:
        imports = ", ".join(i.split(".", 1)[-1] for i in r.imports) or "-"
        table.add_row(r.name, str(r.path.relative_to(root)), f"{r.size:,} B",
                      ", ".join(r.exports), imports, f"{r.seconds:.2f}s")
    out.out.print(table)
