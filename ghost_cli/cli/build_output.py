"""What `ghost build` prints: the JSON of each result, or the table. Shared by the command
and by the unchanged-build answer that runs before Typer (cli/quick_build.py)."""


def result_json(root, r) -> dict:
    return {**r.to_json(), "path": str(r.path.relative_to(root))}


def render(out, root, results) -> None:
    from rich.table import Table

    table = Table(title="ghost build", title_justify="left")
    table.add_column("contract", no_wrap=True)
    table.add_column("artifact", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("exports")
    table.add_column("host imports")
    table.add_column("time", justify="right", no_wrap=True)
    for r in results:
        imports = ", ".join(i.split(".", 1)[-1] for i in r.imports) or "-"
        table.add_row(r.name, str(r.path.relative_to(root)), f"{r.size:,} B",
                      ", ".join(r.exports), imports, f"{r.seconds:.2f}s")
    out.out.print(table)
