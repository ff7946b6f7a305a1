"""`ghost build`: compile the project's contracts with Zig."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Json
from .output import Output, handling


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build(
        contracts: Annotated[
            list[str] | None, typer.Argument(help="Contracts to build (default: all).")
        ] = None,
        target: Annotated[
            str, typer.Option("--target", help="Output: wasm (ZVM bytecode is not built yet).")
        ] = "wasm",
        as_json: Json = False,
    ) -> None:
        """Compile Zig to WebAssembly; print size, exports and imports of each contract."""
        out = Output(as_json)
        with handling(out):
            from ..config.project import load_project
            from ..exceptions import UsageError
            from ..toolchain.build import build_project

            if target != "wasm":
                raise UsageError(f"unknown or unsupported target {target!r}: use wasm")
            project = load_project()
            with out.status("Compiling with Zig (the first build takes a few seconds)") as say:
                results = build_project(project, contracts or None, progress=say)
            out.emit(
                {"contracts": [_as_json(project.root, r) for r in results]},
                lambda: _render(out, project.root, results),
            )


def _as_json(root, r) -> dict:
    return {
        "name": r.name,
        "path": str(r.path.relative_to(root)),
        "size": r.size,
        "sha256": r.sha256,
        "exports": list(r.exports),
        "imports": [str(i) for i in r.imports],
        "abi": r.abi.to_json(),
        "seconds": round(r.seconds, 3),
    }


def _render(out, root, results) -> None:
    from rich.table import Table

    table = Table(title="ghost build", title_justify="left")
    for col in ("contract", "artifact", "size", "exports", "imports", "time"):
        table.add_column(col, justify="right" if col in ("size", "time") else "left")
    for r in results:
        table.add_row(
            r.name, str(r.path.relative_to(root)), f"{r.size:,} B",
            ", ".join(r.exports), ", ".join(str(i) for i in r.imports) or "-",
            f"{r.seconds:.2f}s",
        )
    out.out.print(table)
