"""The docs that are written from tables stay in step with the tables."""

from pathlib import Path

from ghost_cli.exceptions import EXIT_CODES
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.host_table import HOST_FUNCTIONS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _row(f) -> str:
    params = ", ".join(f"{n}: {t}" for n, t in f.params)
    sig = f"{f.name}({params})" + (f" -> {f.results[0]}" if f.results else "")
    price = HOST_PRICES[f.name]
    gas = f"{price.base}" + (f" + {price.per_byte}/byte" if price.per_byte else "")
    opcode = f"0x{f.zvm_opcode:02X}" if f.zvm_opcode is not None else "-"
    return f"| `{sig}` | {gas} | {opcode} | {f.doc} |"


def test_host_abi_doc_lists_every_host_function_exactly():
    text = (DOCS / "host-abi.md").read_text()
    for f in HOST_FUNCTIONS:
        assert _row(f) in text, f"docs/host-abi.md is out of date for {f.name}"
    assert set(HOST_PRICES) == {f.name for f in HOST_FUNCTIONS}


def test_cli_doc_lists_every_exit_code():
    text = (DOCS / "cli.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in text


def test_host_abi_doc_names_the_state_writers():
    """The host functions `mutates` is derived from (toolchain/mutation.py)."""
    text = (DOCS / "host-abi.md").read_text()
    writers = ", ".join(f"`{f.name}`" for f in HOST_FUNCTIONS if f.writes_state)
    assert f"State writers: {writers}." in text


def test_rpc_doc_lists_every_error_number_exactly():
    from ghost_cli.rpc.errors import APPLICATION_ERRORS, PROTOCOL_ERRORS

    text = (DOCS / "rpc.md").read_text()
    for e in PROTOCOL_ERRORS + APPLICATION_ERRORS:
        assert f"| {e.number} | `{e.code}` | {e.meaning} |" in text, e.code



def _leaf_commands(group, path=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (typer vendors click)
            yield from _leaf_commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


def _command_rows(text: str, path: tuple[str, ...]) -> str:
    """The rows of a doc's command table whose first cell is `ghost PATH...` (later words
    of PATH anywhere in that cell, for rows such as `ghost network list\\|use NAME`)."""
    import re

    rows = []
    for line in text.splitlines():
        if not line.startswith("| `ghost "):
            continue
        cell = re.split(r"(?<!\\)\|", line)[1]
        words = re.findall(r"[\w-]+", cell)
        if words[1:2] == [path[0]] and all(w in words for w in path[1:]):
            rows.append(line)
    return "\n".join(rows)


def test_cli_and_keys_docs_name_every_option():
    """Each option of each command is in its row of the command table of docs/cli.md
    (`ghost keys ...`: docs/keys.md) by one of its spellings (`--out` or `-o`,
    `--no-state-history`), so a documented command line does not fall behind."""
    import re

    import typer

    from ghost_cli.cli.main import app

    texts = {name: (DOCS / f"{name}.md").read_text() for name in ("cli", "keys")}
    missing = []
    for path, cmd in _leaf_commands(typer.main.get_command(app)):
        rows = _command_rows(texts["keys" if path[0] == "keys" else "cli"], path)
        assert rows, f"no row for ghost {' '.join(path)}"
        for param in cmd.params:
            names = [o for o in param.opts + param.secondary_opts if o.startswith("-")]
            if not names or {"--help", "--json"} & set(names):
                continue
            if not any(re.search(re.escape(n) + r"(?![\w-])", rows) for n in names):
                missing.append(f"ghost {' '.join(path)} {names[0]}")
    assert missing == []


def _named_object_exists(dotted: str) -> bool:
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def test_docs_name_only_paths_and_modules_that_exist():
    """Every repository path (`ghost_cli/...`, `tests/...`, `scripts/...`, ...) and every
    `ghost_cli.module.name` the README and docs/ name exists; a path under `tests/` may
    instead be a template's (a generated project's `tests/test_counter.py`), and
    `ghost_cli/proto/` is `proto/` as installed."""
    import re

    root = DOCS.parent
    templates = [d for d in (root / "templates").iterdir() if d.is_dir()]
    missing = []
    for doc in [root / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = doc.read_text()
        for m in re.finditer(r"(?<![\w/.-])((?:ghost_cli|tests|bench|scripts|contracts|templates"
                             r"|proto|\.ci)/[\w./-]*\w)", text):
            path = m.group(1)
            installed_as = re.sub(r"^ghost_cli/proto/", "proto/", path)  # pyproject maps it
            if (root / path).exists() or (root / installed_as).exists():
                continue
            if path.startswith("tests/") and any((t / path).exists() for t in templates):
                continue
            missing.append(f"{doc.name}: {path}")
        for m in re.finditer(r"`(ghost_cli(?:\.\w+)+)", text):
            if not _named_object_exists(m.group(1)):
                missing.append(f"{doc.name}: {m.group(1)}")
    assert missing == []


def _github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation but `-` and `_` dropped,
    each space a `-` ("Call traces (-v)" is `call-traces--v`)."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_docs_reach_a_file_and_heading():
    import re

    root = DOCS.parent
    docs = [root / "README.md", *sorted(DOCS.glob("*.md"))]
    anchors = {d.resolve(): {_github_anchor(m.group(1)) for m in
                             re.finditer(r"^#+\s+(.*)$", d.read_text(), re.M)} for d in docs}
    broken = []
    for doc in docs:
        for m in re.finditer(r"\]\(([\w./-]*\.md)?(?:#([\w-]+))?\)", doc.read_text()):
            target = (doc.parent / m.group(1)).resolve() if m.group(1) else doc.resolve()
            if target not in anchors or (m.group(2) and m.group(2) not in anchors[target]):
                broken.append(f"{doc.name}: {m.group(0)}")
    assert broken == []
