"""`ghost call` and `ghost query` with their common options, answered before Typer starts.

Typer, with its pydantic-based parameter parsing, takes longer to start than a sandbox
call takes to run. A command line of the form

    ghost call|query CONTRACT FUNCTION [ARG ...]

with, anywhere after the command, `--json` and the options of VALUE_OPTIONS (`--network
NAME`, `-n NAME`, `--network=NAME`, `--gas-limit N` with N plain decimal digits, and so
on), and no other token starting with `-`, parses as Typer would parse it: every other
option keeps its default, unless one of the command's environment variables
(OPTION_VARIABLES) sets it. Then this runs what the Typer command runs (contract_run.run),
with the same values and the same Output. A GhostError ends it the same way (Output.fail,
one line, its exit code); anything else the command raises (Ctrl-C, a closed pipe) is
handed to Typer's standalone mode, which ends the process as the full CLI would. Any
other command line (a flag such as `-v`, `--help`, `--`, an option without its value or
with one starting with `-`, a gas limit Typer would read differently) returns False and
the full CLI runs the command as usual.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from ..config import defaults
from .quick_args import read

#: The environment variables of `ghost call`'s and `ghost query`'s options (and click's
#: shell completion): when one is set, the full CLI reads it. tests/cli/test_startup.py
#: checks this against the commands' options.
OPTION_VARIABLES = (
    defaults.ENV_JSON, defaults.ENV_NETWORK, defaults.ENV_GAS_LIMIT, defaults.ENV_KEY,
    defaults.ENV_PASSWORD_FILE, defaults.ENV_TRANSPORT, defaults.ENV_VERBOSE,
    "GHOST_TRACE",  # options.ENV_TRACE (options.py imports Typer)
    "_GHOST_COMPLETE",  # click's shell completion for a program named ghost
)


#: The options answered here, per command, each taking one value: option -> the keyword
#: of contract_run.run it sets. tests/cli/test_startup.py checks them against Typer's.
VALUE_OPTIONS = {
    "call": {"--network": "network", "-n": "network", "--gas-limit": "gas_limit",
             "--key": "key", "-k": "key", "--transport": "transport"},
    "query": {"--network": "network", "-n": "network", "--gas-limit": "gas_limit",
              "--transport": "transport"},
}


class QuickCommand(NamedTuple):
    commit: bool  # call (a transaction), not query
    contract: str
    function: str
    args: list[str]
    as_json: bool
    options: dict[str, str | int]  # contract_run.run keywords


def parse(argv: list[str]) -> QuickCommand | None:
    """The command a command line this answers runs, else None."""
    if not argv or argv[0] not in VALUE_OPTIONS:
        return None
    if any(name in os.environ for name in OPTION_VARIABLES):
        return None
    line = read(argv[1:], VALUE_OPTIONS[argv[0]])
    if line is None or len(line.words) < 2:
        return None
    options: dict[str, str | int] = dict(line.options)
    limit = line.options.get("gas_limit")
    if limit is not None:
        if not (limit.isascii() and limit.isdigit() and len(limit) <= 30 and int(limit) >= 1):
            return None  # Typer's int parsing and min=1 decide
        options["gas_limit"] = int(limit)
    contract, function, *args = line.words
    return QuickCommand(argv[0] == "call", contract, function, args, line.as_json, options)


def answer(argv: list[str]) -> bool:
    """Run the call or query and return True, or return False (nothing done)."""
    parsed = parse(argv)
    if parsed is None:
        return False
    from .contract_run import run
    from .output import Output, handling

    out = Output(parsed.as_json)
    try:
        # as the Typer command ends: a GhostError or Ctrl-C is Output.fail's typer.Exit
        with handling(out):
            run(out, parsed.contract, parsed.function, parsed.args, commit=parsed.commit,
                **parsed.options)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - handed on, not handled
        _end_as_typer_would(exc)
    return True


def _end_as_typer_would(exc: BaseException) -> None:
    """Raise `exc` inside a Typer app made like ghost's (cli/main.py), so that Typer's
    standalone mode ends the process exactly as it would under the full CLI: the exit
    code of a typer.Exit, 1 quietly on a closed pipe, a traceback on a bug."""
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None)

    @app.command()
    def handed_on() -> None:
        raise exc

    app([], prog_name="ghost")
    sys.exit(1)  # not reached: Typer's standalone mode always exits
