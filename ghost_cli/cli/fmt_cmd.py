"""`ghost fmt`: format the project's Zig sources with `zig fmt`."""


from pathlib import Path
from typing import Annotated

import typer

from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("fmt")
    @command
    def fmt(
        out: Output,
        paths: Annotated[list[Path] | None, typer.Argument(
            help="Zig files to format (default: every .zig file of the project except the "
                 "SDK directory, build output and hidden directories).")] = None,
        check: Annotated[bool, typer.Option(
            "--check", help="Change nothing; exit 15 listing the files that would change.")
        ] = False,
        include_sdk: Annotated[bool, typer.Option(
            "--include-sdk", help="Format the vendored SDK (lib/ghost.zig) as well.")] = False,
    ) -> None:
        """Format the project's Zig sources with `zig fmt` (the Zig that `ghost build` uses)."""
        from ..config.project import load_project
        from ..toolchain.fmt import format_sources

        project = load_project()
        result = format_sources(project, paths or None, check=check,
                                include_sdk=include_sdk)
        rel = [_rel(p, project.root) for p in result.changed]
        out.emit(
            {"files": [_rel(p, project.root) for p in result.files], "changed": rel,
             "check": check},
            lambda: out.out.print(
                ("\n".join(rel) + "\n" if rel else "")
                + f"{len(result.files)} file(s) checked, {len(rel)} "
                + ("would be reformatted" if check else "reformatted"),
                markup=False,
            ),
        )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
