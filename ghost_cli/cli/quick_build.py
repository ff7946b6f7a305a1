"""`ghost build` on an unchanged project, answered before Typer starts.

A bare Typer app takes about 1.5x as long to start as Zig takes to answer a compile from
its cache, so an unchanged build run through Typer can never be much cheaper than the
compile it skips. When the command line is `ghost build [CONTRACT ...]` with, anywhere,
`--json`, `--target T` and `--optimize M` (`-O M`, `--target=T`, ...) and nothing else
(and no GHOST_* variable would change its options), every contract named (default: all)
is unchanged since its last build for that target and mode (toolchain/stamp.py) and the
project loads cleanly, this prints what the full command would print (the same table or
JSON, the same warnings) and ghost exits 0. Anything else (`--force`, `--help`, an
unknown contract, target or mode, an empty value) returns False and the full CLI runs the
command as usual, errors included.
"""

from __future__ import annotations

import os

from ..config import defaults
from .quick_args import read

#: Variables that would change `ghost build`'s options: the full CLI reads them.
_OPTION_VARIABLES = (defaults.ENV_JSON, defaults.ENV_TARGET, defaults.ENV_OPTIMIZE)
#: The options answered here: option -> up_to_date's keyword.
VALUE_OPTIONS = {"--target": "target", "--optimize": "optimize", "-O": "optimize"}


def answer(argv: list[str]) -> bool:
    """Print an unchanged build's result and return True, or return False (nothing printed)."""
    if not argv or argv[0] != "build":
        return False
    if any(name in os.environ for name in _OPTION_VARIABLES):
        return False
    line = read(argv[1:], VALUE_OPTIONS)
    if line is None or "" in line.options.values():  # Typer refuses an empty target
        return False
    from ..exceptions import GhostError

    try:
        from ..config.project import load_project
        from ..toolchain.build import up_to_date

        project = load_project()
        results = up_to_date(project, line.words or None, **line.options)
    except (GhostError, OSError):
        return False  # the full command reports it
    if results is None:
        return False
    from .build_output import render, result_json
    from .output import Output

    out = Output(as_json=line.as_json)
    for r in results:
        for warning in r.warnings:
            out.info(f"warning: {warning}")
    out.emit({"contracts": [result_json(project.root, r) for r in results]},
             lambda: render(out, project.root, results))
    return True
