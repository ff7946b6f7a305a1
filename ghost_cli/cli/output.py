"""One output object per command: data to stdout (a table, or one JSON document with
--json), diagnostics and errors to stderr, and the documented exit code."""


import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from ..exceptions import GhostError


class Output:
    def __init__(self, as_json: bool = False) -> None:
        self.as_json = as_json
        self._stdout = None
        self._stderr = None

    @property
    def out(self):  # rich.Console, created on first use to keep start-up light
        if self._stdout is None:
            from rich.console import Console

            self._stdout = Console(highlight=False, soft_wrap=True)
        return self._stdout

    @property
    def err(self):
        if self._stderr is None:
            from rich.console import Console

            self._stderr = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._stderr

    def emit(self, data: dict[str, Any], render: Callable[[], None]) -> None:
        """Print `data` as JSON, or call `render` to print it for people."""
        if self.as_json:
            sys.stdout.write(json.dumps({"ok": True, **data}, indent=2, default=str) + "\n")
        else:
            render()

    def info(self, message: str) -> None:
        self.err.print(message)

    @contextmanager
    def status(self, message: str) -> Iterator[Callable[[str], None]]:
        """A spinner on stderr while slow work runs; yields a callback to update it.
        Silent when stderr is not a terminal, so CI logs carry results only."""
        if not self.err.is_terminal:
            yield lambda m: None
            return
        with self.err.status(message) as live:
            yield lambda m: live.update(m)

    def fail(self, exc: GhostError) -> NoReturn:
        if self.as_json:
            sys.stdout.write(json.dumps({"ok": False, "error": exc.to_json()}, default=str) + "\n")
        from rich.text import Text

        self.err.print(Text.assemble(("error: ", "bold red"), exc.message))
        from ..toolchain.debuginfo import describe_failure

        for line in describe_failure(exc.details):  # a failed call's backtrace and logs
            self.err.print(Text(line, style="dim"))
        output = exc.details.get("output")
        if isinstance(output, str) and output.strip():  # e.g. Zig's source excerpt and caret
            lines = output.rstrip().splitlines()
            if lines[0].strip() in exc.message:  # the message already quotes it
                lines = lines[1:]
            if lines:
                self.err.print(Text("\n".join(lines), style="dim"))
        raise typer.Exit(exc.exit_code)


@contextmanager
def handling(output: Output) -> Iterator[Output]:
    """Turn any GhostError into one line on stderr (and JSON on stdout) and its exit code."""
    try:
        yield output
    except GhostError as exc:
        output.fail(exc)

