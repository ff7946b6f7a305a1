"""`ghost call NAME --help` and `ghost query NAME [FUNCTION] --help`: the contract's own
functions and their types, read from its build (or, with --network and an address, from
the network), instead of the generic usage. Without NAME, --help is the usual one.

Click answers --help before it parses anything else, so the command's class looks at
the command line first: only when --help comes with a contract does it load an ABI. A
call without --help pays nothing for this."""


import typer.core

_HELP = ("-h", "--help")


class ContractHelpCommand(typer.core.TyperCommand):
    #: True for `ghost query`: list only the functions the ABI marks as not mutating.
    view_only = False

    def parse_args(self, ctx, args):
        head = args[:args.index("--")] if "--" in args else args
        if not any(a in _HELP for a in head):
            return super().parse_args(ctx, args)
        rest = [a for a in args if a not in _HELP]
        ctx.resilient_parsing = True  # missing FUNCTION is fine here
        try:
            super().parse_args(ctx, rest)
        except Exception:  # noqa: BLE001 - anything unparsable: the generic help says how
            ctx.resilient_parsing = False
            return super().parse_args(ctx, args)
        ctx.resilient_parsing = False
        contract = ctx.params.get("contract")
        if not contract:
            return super().parse_args(ctx, args)
        _show(ctx, contract, ctx.params.get("function"), ctx.params.get("network"),
              ctx.params.get("transport"), self.view_only)
        ctx.exit(0)


class QueryHelpCommand(ContractHelpCommand):
    view_only = True


def _show(ctx, contract: str, function: str | None, network: str | None,
          transport: str | None, view_only: bool) -> None:
    from ..exceptions import GhostError
    from .output import Output

    out = Output(bool(ctx.params.get("as_json")))  # the help is text; a failure, JSON too
    try:
        from ..bindings import describe, source
        from ..config.project import load_project

        project = load_project()
        # A project contract's build answers without a network; an address needs one.
        src = source.load(project, contract,
                          network=None if contract in project.contracts else
                          network or project.default_network, transport=transport)
        lines = (describe.function_help(contract, src.abi, src.raw, function,
                                        view_only=view_only) if function else
                 describe.call_help(contract, src.abi, src.raw, view_only=view_only))
    except GhostError as exc:
        out.fail(exc)
    for line in lines:
        out.result(line)
