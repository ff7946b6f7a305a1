r"""One output object per command: data to stdout (a table, or one JSON document with
--json), diagnostics and errors to stderr, and the documented exit code.

Text meant for people may carry what a contract wrote (revert reasons, debug logs, event
names, string results), so every string printed through an Output is made inert first:
control characters become visible escapes (ESC as `\x1b`) and rich markup is off. A
contract cannot move the cursor, retitle the terminal or fake a line of ghost's output.
--json output is untouched apart from JSON's own escaping.
"""


import functools
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from ..exceptions import GhostError

# C0 and C1 controls except tab and newline, DEL, and the Unicode bidi and line controls
# that reorder or split what a terminal shows (CVE-2021-42574, "Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    r"""`text` with every control character written as a visible escape: ESC is `\x1b`,
    a right-to-left override `\u202e`. Tab and newline stay."""
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def _console(**kwargs):
    """A rich Console that prints strings inert: no markup, no emoji codes, escapes made
    visible (terminal_safe). Other renderables (tables, pretty-printed values) are rich's,
    which shows strings inside them by repr."""
    from rich.console import Console

    class SafeConsole(Console):
        def print(self, *objects, **kw):
            super().print(*(terminal_safe(o) if isinstance(o, str) else o for o in objects),
                          **kw)

    return SafeConsole(highlight=False, soft_wrap=True, markup=False, emoji=False, **kwargs)


# What rich would still change in text already made inert (terminal_safe, markup and
# emoji off): tabs, which it expands. Anything else goes out directly, without importing
# rich at all.
_RICH_WOULD_CHANGE = re.compile(r"\t")


class Output:
    def __init__(self, as_json: bool = False) -> None:
        self.as_json = as_json
        self._stdout = None
        self._stderr = None

    @property
    def out(self):  # rich.Console, created on first use to keep start-up light
        if self._stdout is None:
            self._stdout = _console()
        return self._stdout

    @property
    def err(self):
        if self._stderr is None:
            self._stderr = _console(stderr=True)
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

        self.err.print(Text.assemble(("error: ", "bold red"), terminal_safe(exc.message)))
        from ..toolchain.debuginfo import describe_failure

        for line in describe_failure(exc.details):  # a failed call's backtrace and logs
            self.err.print(Text(terminal_safe(line), style="dim"))
        output = exc.details.get("output")
        if isinstance(output, str) and output.strip():  # e.g. Zig's source excerpt and caret
            lines = output.rstrip().splitlines()
            if lines[0].strip() in exc.message:  # the message already quotes it
                lines = lines[1:]
            if lines:
                self.err.print(Text(terminal_safe("\n".join(lines)), style="dim"))
        import typer  # here: an unchanged `ghost build` prints through Output without Typer

        raise typer.Exit(exc.exit_code)


def _plain(console: Any, text: Any, stream: Any) -> bool:
    """Write `text` and a newline to `stream` when rich would print it unchanged (and no
    rich console is in use on it yet, to keep the order of lines); False otherwise."""
    if console is not None or not isinstance(text, str):
        return False
    safe = terminal_safe(text)
    if _RICH_WOULD_CHANGE.search(safe):
        return False
    stream.write(safe + "\n")
    return True


@contextmanager
def handling(output: Output) -> Iterator[Output]:
    """Turn any GhostError, and Ctrl-C (or SIGTERM, SIGHUP: cli/main.py), into one line on
    stderr (and JSON on stdout) and its exit code."""
    try:
        yield output
    except GhostError as exc:
        output.fail(exc)
    except KeyboardInterrupt as stop:  # at a prompt or not: one line, exit 130 (143, 129)
        from ..exceptions import InterruptedError_

        output.fail(InterruptedError_.of(stop))



def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make `fn(out, ...)` a command: it gains the --json option (options.Json) and runs
    with `out`, its Output, under `handling`. Put it under `@app.command(...)`."""
    from .options import Json

    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if not params or params[0].name != "out":
        raise TypeError(f"{fn.__name__}: a command's first parameter is `out`")
    as_json = inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False,
                                annotation=Json)

    @functools.wraps(fn)
    def run(*args: Any, as_json: bool = False, **kwargs: Any) -> None:
        out = Output(as_json)
        with handling(out):
            fn(out, *args, **kwargs)  # what it returns is not an exit code (cli/main.py)

    run.__signature__ = signature.replace(parameters=[*params[1:], as_json])  # type: ignore[attr-defined]
    return run
