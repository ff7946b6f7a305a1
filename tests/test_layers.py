"""Layers import one way: each package may import only from packages below it.

An AST walk over ghost_cli/ (imports inside functions and TYPE_CHECKING blocks count
too: a lazy import that runs upward is still a cycle in the design)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ghost_cli"

#: Bottom first. A module may import from its own layer's package and from lower layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "exceptions", "fsutil", "formats", "hexbytes", "strict_json", "config",
     "grpc_gen", "datagrams"),
    ("crypto",),
    ("abi",),
    ("vm",),
    ("toolchain",),
    ("chain", "names"),
    ("rpc",),
    ("node", "client"),
    ("networks", "testing", "scaffold", "bindings"),
    ("cli", "__main__"),
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _imports(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, top-level ghost_cli package) of every ghost_cli import in the file."""
    rel = path.relative_to(package).parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(("ghost_cli",) + rel[:-1])
                base = base[: len(base) - (node.level - 1)]
                if node.module:
                    targets = [".".join(base + [node.module])]
                else:
                    targets = [".".join(base + [a.name]) for a in node.names]
            elif node.module:
                targets = [node.module]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        for t in targets:
            parts = t.split(".")
            if parts[0] == "ghost_cli" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def _violations(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        me = rel.parts[0].removesuffix(".py")
        if me not in RANK:
            out.append(f"{rel}: package {me!r} has no layer")
            continue
        for line, target in _imports(path, package):
            if target in RANK and RANK[target] > RANK[me]:
                out.append(f"{rel}:{line}: {me} imports {target}, which sits above it")
    return out


def test_every_import_runs_downward() -> None:
    assert _violations() == []


@pytest.mark.parametrize("source, expected", [
    ("from ghost_cli.chain import sandbox\n", ["vm/x.py:1: vm imports chain"]),
    ("from ..cli import main\n", ["vm/x.py:1: vm imports cli"]),
    ("def f():\n    from ..chain.store import open_store\n", ["vm/x.py:2: vm imports chain"]),
    ("from ..crypto import hashing\nfrom . import types\n", []),
])
def test_the_walk_finds_upward_imports(tmp_path, source, expected) -> None:
    pkg = tmp_path / "ghost_cli"
    (pkg / "vm").mkdir(parents=True)
    (pkg / "vm" / "x.py").write_text(source)
    got = [v.split(", which")[0] for v in _violations(pkg)]
    assert got == expected
