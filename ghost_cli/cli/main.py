"""The `ghost` command. Commands live in one module per noun and stay thin: parse, call
the library core, emit. Heavy modules (wasmtime, rich tables, the toolchain) are
imported inside commands so `ghost --help` stays fast.

`run()` first lets quick_build.py answer an unchanged `ghost build` without starting
Typer (a bare Typer app alone takes longer than the compile that build skips); `app`,
the Typer application, is made on first use."""

import sys


def run() -> None:
    from .quick_build import answer

    if answer(sys.argv[1:]):
        return
    # Typer's standalone mode maps a command line it cannot parse to exit 2 with usage on
    # stderr; every error after parsing goes through Output (one line, JSON with --json).
    _app()(prog_name="ghost")


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


def _make_app():
    import typer

    from .. import __version__
    from ..exceptions import EXIT_CODES
    from . import (
        bindings_cmd,
        build_cmd,
        contract_cmds,
        fmt_cmd,
        inspect_cmd,
        keys_cmd,
        names_cmd,
        network_cmd,
        new_cmd,
        node_cmd,
        test_cmd,
        tx_cmd,
        verify_cmd,
        zvm_cmds,
    )

    # "\b" keeps click from re-wrapping the table into one paragraph.
    epilog = "\b\nExit codes:\n" + "\n".join(
        f"  {code:>2}  {text}" for code, text in EXIT_CODES.items()
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

    for module in (new_cmd, build_cmd, contract_cmds, test_cmd, keys_cmd, tx_cmd, zvm_cmds,
                   network_cmd, node_cmd, verify_cmd, names_cmd, fmt_cmd, inspect_cmd,
                   bindings_cmd):
        module.register(app)
    return app
