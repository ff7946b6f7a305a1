"""Reading a command line as Typer would, for the commands answered before Typer starts
(quick_call.py, quick_build.py): positional words, `--json`, and options that take one
value, in any order. Anything else a command line may hold is left to Typer."""

from __future__ import annotations

from typing import NamedTuple


class QuickLine(NamedTuple):
    words: list[str]  # the positional arguments, in order
    options: dict[str, str]  # keyword -> value, the last of a repeated option
    as_json: bool


def read(tokens: list[str], known: dict[str, str]) -> QuickLine | None:
    """`tokens` (after the command's name) read with `known` (option -> keyword), or None
    when one is anything else starting with `-` (a flag, `--help`, `--`, `-nVALUE`) or an
    option lacks its value or has one starting with `-` (Typer's own message, or a value
    Typer reads differently)."""
    words: list[str] = []
    options: dict[str, str] = {}
    as_json = False
    rest = iter(tokens)
    for token in rest:
        if token == "--json":
            as_json = True
            continue
        name, equals, value = token.partition("=") if token.startswith("--") else (
            token, "", "")
        if name not in known:
            if token.startswith("-"):
                return None
            words.append(token)
            continue
        if not equals:
            value = next(rest, None)
            if value is None or value.startswith("-"):
                return None
        options[known[name]] = value
    return QuickLine(words, options, as_json)
