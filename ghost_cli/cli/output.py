"""One output object per command: data to stdout (a table, or one JSON document with
--json), diagnostics and errors to stderr, and the documented exit code."""


import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from ..exceptions import GhostError

# Text rich would change (markup, :emoji: codes, the control codes it strips); anything
# else rich prints exactly as written, so it goes out directly without importing rich.
_RICH_WOULD_CHANGE = re.compile(r"[\[\x07\x08\x0b\x0c\r]|:\S*?:")


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
        if not _plain(self._stderr, message, sys.stderr):
            self.err.print(message)

    def result(self, value: Any) -> None:
        """One value on stdout: an int, bool or plain text directly, anything else (and text
        rich would change) through rich, as before."""
        text = str(value) if isinstance(value, int) else value
        if not _plain(self._stdout, text, sys.stdout):
            self.out.print(value)

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
        output = exc.details.get("output")
        if isinstance(output, str) and output.strip():  # e.g. Zig's source excerpt and caret
            self.err.print(Text(output.rstrip(), style="dim"))
        raise typer.Exit(exc.exit_code)


def _plain(console: Any, text: Any, stream: Any) -> bool:
    """Write `text` and a newline to `stream` when rich would print it unchanged (and no
    rich console is in use on it yet, to keep the order of lines); False otherwise."""
    if console is not None or not isinstance(text, str) or _RICH_WOULD_CHANGE.search(text):
        return False
    stream.write(text + "\n")
    return True


@contextmanager
def handling(output: Output) -> Iterator[Output]:
    """Turn any GhostError into one line on stderr (and JSON on stdout) and its exit code."""
    try:
        yield output
    except GhostError as exc:
        output.fail(exc)
