"""The `ghost` command. Commands live in one module per noun and stay thin: parse, call
the library core, emit. Heavy modules (wasmtime, rich tables, the toolchain) are
imported inside commands so `ghost --help` stays fast.

`run()` first lets quick_build.py answer an unchanged `ghost build`, and quick_call.py a
`ghost call`/`ghost query` without options, without starting Typer (a bare Typer app alone
takes longer than the compile that build skips, or than a sandbox call); `app`, the Typer
application, is made on first use.

A command line that starts with a command's name runs an app holding that command alone
(COMMANDS names the module that registers it): click looks up only the command named,
so the parse, the output and the exit codes are the same, and the other commands'
modules are neither imported nor converted into click parameters. Anything else (no
command, `--help`, `--version`, an unknown name) runs the full app."""

import sys

#: Each top-level command and the cli/ module that registers it, in the full app's order
#: (tests/cli/test_startup.py checks this table against the full app).
COMMANDS = {
    "new": "new_cmd", "build": "build_cmd", "deploy": "contract_cmds",
    "call": "contract_cmds", "query": "contract_cmds", "test": "test_cmd",
    "asm": "zvm_cmds", "disasm": "zvm_cmds", "receipt": "network_cmd",
    "events": "network_cmd", "verify": "verify_cmd", "fmt": "fmt_cmd",
    "inspect": "inspect_cmd", "keys": "keys_cmd", "tx": "tx_cmd", "network": "network_cmd",
    "node": "node_cmd", "name": "names_cmd", "bindings": "bindings_cmd",
}


def run() -> None:
    _stop_on_signals()
    _fill_closed_streams()
    try:
        try:
            code = _run(sys.argv[1:])
        except KeyboardInterrupt as stop:  # outside a command's own handling: the answer
            code = _interrupted(sys.argv[1:], stop)  # to an unchanged build, the parse
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except OSError as exc:
        code = _unwritable(exc)
    sys.exit(code)


def _run(argv: list[str]) -> int:
    from . import quick_build, quick_call

    if quick_build.answer(argv) or quick_call.answer(argv):
        return 0
    app = _make_app(argv[0]) if argv and argv[0] in COMMANDS else _app()
    return _run_app(app, argv)


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP end a command as Ctrl-C does: the handler raises Terminated (a
    KeyboardInterrupt) in the main thread, so `finally` blocks and context managers run (a
    build's temporary directory is removed; subprocess.run kills a Zig or pytest child)
    and the command ends with one line, exit 128 + the signal's number. Without this
    Python dies at once, leaving them behind. The first signal only: a second one, while
    that unwinds, ends the process as the signal always did. A signal the caller set to
    be ignored (`nohup`) stays ignored; `ghost node start` installs its own (node/service.py)."""
    import signal

    from ..exceptions import Terminated

    ours = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
            if s is not None and signal.getsignal(s) == signal.SIG_DFL]

    def stop(signum: int, _frame: object) -> None:
        for s in ours:
            signal.signal(s, signal.SIG_DFL)
        raise Terminated(signum)

    for s in ours:
        signal.signal(s, stop)


def _fill_closed_streams() -> None:
    """A standard stream the caller closed (`ghost ... >&-`, `<&-`, `2>&-`) becomes
    /dev/null opened the wrong way round, so that using it fails as a closed stream
    does (EBADF): output then ends as any output the system refuses (one line, exit 1),
    reading stdin is an error naming it. Without this, Python leaves sys.stdout None
    (a traceback at the first print) and the descriptor free: the next file opened (a
    key being written, the sandbox database) would take its number, and a subprocess
    would write its output into that file. A closed stderr is made /dev/null proper:
    nobody reads the messages, the exit code still tells."""
    import os

    for fd, name, flags, mode in ((0, "stdin", os.O_WRONLY, "r"),
                                  (1, "stdout", os.O_RDONLY, "w"),
                                  (2, "stderr", os.O_WRONLY, "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        new = os.open(os.devnull, flags)
        if new != fd:  # a lower standard descriptor was open: put this one in place
            os.dup2(new, fd)
            os.close(new)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False,  # noqa: SIM115 - for the run
                                    errors="backslashreplace"))


def _unwritable(exc: OSError) -> int:
    """An OSError no command turned into a GhostError: in practice stdout refusing what
    the command printed (a full disk, a closed pipe). One line, exit 1, never a
    traceback; a reader that went away (`| head`) is told nothing."""
    import errno
    import os

    with open(os.devnull, "wb") as null:  # what is left in stdout's buffer goes nowhere
        os.dup2(null.fileno(), sys.stdout.fileno())
    if exc.errno != errno.EPIPE:
        where = f" {exc.filename}" if exc.filename else " the output"
        sys.stderr.write(f"error: cannot write{where}: {exc.strerror or exc}\n")
    return 1


def _run_app(app, argv: list[str]) -> int:
    """Run the Typer app and return its exit code. Not in click's standalone mode, so a
    command line it cannot parse is reported like any other error (one line on stderr,
    JSON on stdout with --json, exit 2) rather than as a usage block."""
    import typer

    # click's exceptions, wherever this Typer keeps click (recent ones vendor it).
    errors = sys.modules[typer.BadParameter.__module__]
    no_args_is_help = getattr(errors, "NoArgsIsHelpError", ())
    try:
        code = app(prog_name="ghost", standalone_mode=False)
    except no_args_is_help as exc:  # bare `ghost` or a bare group: the help, as before
        exc.show()
        return exc.exit_code
    except errors.ClickException as exc:
        return _parse_failure(exc, argv)
    except typer.Abort:
        sys.stderr.write("Aborted!\n")
        return 1
    # A command returns nothing; an int here is an exit code (typer.Exit, --help's 0).
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def _parse_failure(exc, argv: list[str]) -> int:
    from ..exceptions import UsageError

    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return _fail(UsageError(message), argv)


def _interrupted(argv: list[str], stop: KeyboardInterrupt) -> int:
    from ..exceptions import InterruptedError_

    return _fail(InterruptedError_.of(stop), argv)


def _fail(error, argv: list[str]) -> int:
    """Report `error` as a command does (one line; JSON too when the command line or
    GHOST_JSON asks for it) where no command's Output is there to; its exit code."""
    import typer

    from ..config.defaults import ENV_JSON, env_flag
    from .output import Output

    words = argv[:argv.index("--")] if "--" in argv else argv
    as_json = "--json" in words or env_flag(ENV_JSON)
    try:
        Output(as_json).fail(error)
    except typer.Exit as done:
        return done.exit_code
    return error.exit_code


def __getattr__(name: str):  # `from ghost_cli.cli.main import app`
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_APP = None


def _app():
    global _APP
    if _APP is None:
        _APP = _make_app()
    return _APP


def _make_app(only: str | None = None):
    """The `ghost` Typer app: every command, or only the command named `only`."""
    import importlib

    import typer

    from .. import __version__
    from ..exceptions import EXIT_CODES

    # "\b" keeps click from re-wrapping the table into one paragraph.
    epilog = "\b\nExit codes:\n" + "\n".join(
        f"  {code:>3}  {text}" for code, text in EXIT_CODES.items()
    )

    app = typer.Typer(
        name="ghost",
        help="Build, test and deploy Zig smart contracts on the Ghost stack.",
        epilog=epilog,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # Plain help: rich help formatting costs ~60 ms of imports on every `--help`.
        rich_markup_mode=None,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"ghost {__version__}")
            raise typer.Exit()

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True,
            help="Print the version and exit."
        ),
    ) -> None:
        """Build, test and deploy Zig smart contracts on the Ghost stack."""

    # Registration order is `ghost --help`'s order.
    names = (_MODULES if only is None else (COMMANDS[only],))
    for name in names:
        importlib.import_module(f"{__package__}.{name}").register(app)
    if only is not None:
        app.registered_commands = [c for c in app.registered_commands if c.name == only]
        app.registered_groups = [g for g in app.registered_groups if g.name == only]
    return app


#: The modules that register commands, in registration order.
_MODULES = ("new_cmd", "build_cmd", "contract_cmds", "test_cmd", "keys_cmd", "tx_cmd",
            "zvm_cmds", "network_cmd", "node_cmd", "verify_cmd", "names_cmd", "fmt_cmd",
            "inspect_cmd", "bindings_cmd")
