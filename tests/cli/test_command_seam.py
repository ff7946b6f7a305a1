"""Commands share one output seam and import no other command's module: the --json
option, the Output and error handling come from cli/output.py (`command`), rendering
from cli/render.py, artifacts from cli/artifacts.py, tracing from cli/tracing.py."""

import ast
from pathlib import Path

import typer

from ghost_cli.cli.main import app

CLI = Path(__file__).resolve().parents[2] / "ghost_cli" / "cli"


def _commands(group, prefix: str = "") -> dict:
    found = {}
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (typer vendors click)
            found.update(_commands(cmd, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = cmd
    return found


def test_every_command_takes_json() -> None:
    commands = _commands(typer.main.get_command(app))
    assert "call" in commands and "keys new" in commands and "tx build" in commands
    without = {name for name, cmd in commands.items()
               if not any("--json" in p.opts for p in cmd.params)}
    assert without == set()


def test_no_command_module_imports_another() -> None:
    modules = {p.stem for p in CLI.glob("*_cmd*.py")}
    assert {"contract_cmds", "build_cmd", "zvm_cmds"} <= modules
    wrong = []
    for path in sorted(CLI.glob("*.py")):
        if path.stem == "main":  # registers every command module
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and \
                    (node.module or "").split(".")[0] in modules - {path.stem}:
                wrong.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert wrong == []
