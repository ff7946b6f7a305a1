"""`ghost --help` must not load the heavy parts (wasmtime, the toolchain, SQLite, crypto)."""

import subprocess
import sys

HEAVY = ("wasmtime", "sqlite3", "Crypto", "ghost_cli.toolchain.build", "ghost_cli.chain.store",
         "ghost_cli.vm.wasm.engine", "pytest",
         "ghost_cli.rpc.dispatcher")  # node options read rpc.limits, not the method table

PROBE = f"""
import sys
from ghost_cli.cli.main import app
try:
    app(["--help"])
except SystemExit:
    pass
print("loaded:" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_help_imports_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1]
    assert out == "loaded:"


def test_each_command_line_builds_its_own_command_alone():
    """`run()` builds an app holding only the command a command line names (cli/main.py's
    COMMANDS says which module registers it): the table must match the full app."""
    from ghost_cli.cli.main import COMMANDS, _make_app, app

    def names(typer_app):
        return [c.name for c in typer_app.registered_commands] + [
            g.name for g in typer_app.registered_groups]

    assert list(COMMANDS) == names(app)
    for name in COMMANDS:
        assert names(_make_app(name)) == [name]


# As `python -m ghost_cli` runs: through run(), which builds only the command named.
CALL_PROBE = """
import sys
sys.argv = ["ghost", *sys.argv[1:]]
from ghost_cli.cli.main import run
try:
    run()
except SystemExit as exc:
    assert not exc.code, exc.code
print("loaded:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""

# A sandbox call to a wasm contract from a development account signs nothing, prints plain
# text, and runs no ZVM code: none of these belong in its process.
CALL_UNUSED = ("rich", "tomlkit", "concurrent.futures", "Crypto", "asyncio",
               "ghost_cli.vm.zvm.engine",
               "ghost_cli.crypto.schemes", "ghost_cli.rpc.dispatcher", "pqcrypto", "coincurve",
               # other commands' modules (and what only they use)
               "ghost_cli.cli.node_cmd", "ghost_cli.cli.keys_cmd", "ghost_cli.cli.tx_cmd",
               "ghost_cli.cli.bindings_cmd", "ghost_cli.cli.network_cmd",
               "ghost_cli.cli.test_cmd", "ghost_cli.node.config", "ghost_cli.rpc.limits",
               # the sandbox keeps no state tree: no tree, proofs or checkpoints
               "ghost_cli.chain.state_tree", "ghost_cli.crypto.proof",
               "ghost_cli.chain.checkpoint",
               # a development account's transaction goes unsigned
               "ghost_cli.crypto.keypair")
# A query builds no transaction either.
QUERY_UNUSED = (*CALL_UNUSED, "ghost_cli.chain.transaction", "ghost_cli.crypto.scheme")


def test_a_sandbox_call_imports_only_what_it_uses(tmp_path, counter_code):
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project

    root = new_project("probe", "counter", tmp_path / "probe")
    artifact = load_project(root).artifact_path("counter")
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(counter_code)
    outputs = []
    for argv, unused in ((["deploy"], ()), (["call", "counter", "increment"], CALL_UNUSED),
                         (["query", "counter", "get"], QUERY_UNUSED)):
        run = subprocess.run([sys.executable, "-c", CALL_PROBE.format(heavy=unused), *argv],
                             cwd=root, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout.splitlines())
    assert outputs[1] == ["1", "loaded:"]
    assert outputs[2] == ["1", "loaded:"]


# `ghost build` with nothing changed: answered before Typer starts (cli/quick_build.py), from
# the build stamps; no Typer, no compile-path module, no tomlkit.
BUILD_UNUSED = ("typer", "pydantic", "tomlkit", "wasmtime", "sqlite3",
                "ghost_cli.vm.wasm_module", "ghost_cli.toolchain.abi_extract",
                "ghost_cli.toolchain.debuginfo", "ghost_cli.toolchain.lowering")

RUN_PROBE = """
import sys
sys.argv = ["ghost", *sys.argv[1:]]
from ghost_cli.cli.main import run
try:
    run()
except SystemExit as exc:
    assert not exc.code, exc.code
print("loaded:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def _json_without_seconds(text: str) -> dict:
    import json

    doc = json.loads(text[:text.rindex("}") + 1])
    for c in doc["contracts"]:
        c.pop("seconds")
    return doc


def test_an_unchanged_build_starts_no_typer_and_prints_the_same(built_project):
    import os

    probe = RUN_PROBE.format(heavy=BUILD_UNUSED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOST_")}
    quick = subprocess.run([sys.executable, "-c", probe, "build", "--json"],
                           cwd=built_project, capture_output=True, text=True, env=env)
    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.splitlines()[-1] == "loaded:"
    # GHOST_OPTIMIZE (set to the project's own mode) sends the same build through Typer.
    full = subprocess.run([sys.executable, "-c", probe, "build", "--json"],
                          cwd=built_project, capture_output=True, text=True,
                          env={**env, "GHOST_OPTIMIZE": "ReleaseSafe"})
    assert full.returncode == 0, full.stderr
    assert "typer" in full.stdout.splitlines()[-1]
    assert _json_without_seconds(quick.stdout) == _json_without_seconds(full.stdout)
    assert _json_without_seconds(quick.stdout)["contracts"][0]["name"] == "counter"
