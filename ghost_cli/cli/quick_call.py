"""`ghost call` and `ghost query` without options, answered before Typer starts.

Typer, with its pydantic-based parameter parsing, takes longer to start than a sandbox
call takes to run. A command line of the form

    ghost call|query CONTRACT FUNCTION [ARG ...]    (`--json` anywhere after the command)

with no other token starting with `-` cannot fail to parse and sets every other option to
its default, unless one of the command's environment variables (OPTION_VARIABLES) sets it;
then this runs what the Typer command runs (contract_run.run), with the same defaults and
the same Output. A GhostError ends it the same way (Output.fail, one line, its exit code);
anything else the command raises (Ctrl-C, a closed pipe) is handed to Typer's standalone
mode, which ends the process as the full CLI would. Any other command line returns False
and the full CLI runs the command as usual.
"""

from __future__ import annotations

import os
import sys

from ..config import defaults

#: The environment variables of `ghost call`'s and `ghost query`'s options (and click's
#: shell completion): when one is set, the full CLI reads it. tests/cli/test_startup.py
#: checks this against the commands' options.
OPTION_VARIABLES = (
    defaults.ENV_JSON, defaults.ENV_NETWORK, defaults.ENV_GAS_LIMIT, defaults.ENV_KEY,
    defaults.ENV_PASSWORD_FILE, defaults.ENV_TRANSPORT, defaults.ENV_VERBOSE,
    "GHOST_TRACE",  # options.ENV_TRACE (options.py imports Typer)
    "_GHOST_COMPLETE",  # click's shell completion for a program named ghost
)


def parse(argv: list[str]) -> tuple[bool, str, str, list[str], bool] | None:
    """(commit, contract, function, args, as_json) of a command line this answers, else None."""
    if not argv or argv[0] not in ("call", "query"):
        return None
    if any(name in os.environ for name in OPTION_VARIABLES):
        return None
    words = [a for a in argv[1:] if a != "--json"]
    if len(words) < 2 or any(w.startswith("-") for w in words):
        return None
    contract, function, *args = words
    return argv[0] == "call", contract, function, args, len(words) < len(argv) - 1


def answer(argv: list[str]) -> bool:
    """Run the call or query and return True, or return False (nothing done)."""
    parsed = parse(argv)
    if parsed is None:
        return False
    commit, contract, function, args, as_json = parsed
    from ..exceptions import GhostError
    from .contract_run import run
    from .output import Output

    out = Output(as_json)
    try:
        try:
            run(out, contract, function, args, commit=commit)
        except GhostError as exc:
            out.fail(exc)  # raises typer.Exit with the error's exit code
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - handed on, not handled
        _end_as_typer_would(exc)
    return True


def _end_as_typer_would(exc: BaseException) -> None:
    """Raise `exc` inside a Typer app made like ghost's (cli/main.py), so that Typer's
    standalone mode ends the process exactly as it would under the full CLI: the exit
    code of a typer.Exit, 130 on Ctrl-C, 1 quietly on a closed pipe, a traceback on a bug."""
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None)

    @app.command()
    def handed_on() -> None:
        raise exc

    app([], prog_name="ghost")
    sys.exit(1)  # not reached: Typer's standalone mode always exits
