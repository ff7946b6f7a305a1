"""`ghost new`: scaffold a project from a template."""


from pathlib import Path
from typing import Annotated

import typer

from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("new")
    @command
    def new(
        out: Output,
        name: Annotated[str, typer.Argument(
            help="Project name (letters, digits, _ and -; also its directory); `-` becomes "
                 "`_` where code needs an identifier.")],
        template: Annotated[
            str, typer.Option("--template", "-t", help="Template: counter, token, storage, "
                                                       "arithmetic, signature, rollup or "
                                                       "ballot.")
        ] = "counter",
        directory: Annotated[
            Path | None, typer.Option("--dir", help="Where to create it (default ./NAME).")
        ] = None,
    ) -> None:
        """Create a new contract project: ghost.toml, Zig sources with the SDK, tests."""
        import shlex

        from ..scaffold import identifier_for, new_project

        root = new_project(name, template, directory or Path(name))
        out.emit(
            {"project": name, "identifier": identifier_for(name), "template": template,
             "path": str(root)},
            lambda: out.out.print(
                f"Created {name} from template {template} in {root}\n"
                f"Next: cd {shlex.quote(str(root))} && ghost build && ghost deploy",
                markup=False,  # a path may hold [brackets]
            ),
        )
