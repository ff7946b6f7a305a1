"""`ghost build` on an unchanged project, answered before Typer starts.

A bare Typer app takes about 1.5x as long to start as Zig takes to answer a compile from
its cache, so an unchanged build run through Typer can never be much cheaper than the
compile it skips. When the command line is exactly `ghost build` or `ghost build --json`
(and no GHOST_* variable would change its options), every contract is unchanged since its
last build (toolchain/stamp.py) and the project loads cleanly, this prints what the full
command would print (the same table or JSON, the same warnings) and ghost exits 0.
Anything else returns False and the full CLI runs the command as usual, errors included.
"""

from __future__ import annotations

import os

from ..config import defaults

#: Variables that would change `ghost build`'s options: the full CLI reads them.
_OPTION_VARIABLES = (defaults.ENV_JSON, defaults.ENV_TARGET, defaults.ENV_OPTIMIZE)


def answer(argv: list[str]) -> bool:
    """Print an unchanged build's result and return True, or return False (nothing printed)."""
    if argv not in (["build"], ["build", "--json"]):
        return False
    if any(name in os.environ for name in _OPTION_VARIABLES):
        return False
    from ..exceptions import GhostError

    try:
        from ..config.project import load_project
        from ..toolchain.build import up_to_date

        project = load_project()
        results = up_to_date(project)
    except (GhostError, OSError):
        return False  # the full command reports it
    if results is None:
        return False
    from .build_output import render, result_json
    from .output import Output

    out = Output(as_json=argv == ["build", "--json"])
    for r in results:
        for warning in r.warnings:
            out.info(f"warning: {warning}")
    out.emit({"contracts": [result_json(project.root, r) for r in results]},
             lambda: render(out, project.root, results))
    return True
