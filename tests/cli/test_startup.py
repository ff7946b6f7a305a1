"""`ghost --help` must not load the heavy parts (wasmtime, the toolchain, SQLite, crypto)."""

import re
import subprocess
import sys

import pytest

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
# A query builds no transaction either, and one that emits no event needs no trace code.
QUERY_UNUSED = (*CALL_UNUSED, "ghost_cli.chain.transaction", "ghost_cli.crypto.scheme",
                "ghost_cli.vm.trace")
# Without options, call and query are answered without Typer (cli/quick_call.py).
NO_TYPER = ("typer", "pydantic", "ghost_cli.cli.contract_cmds")


def _clean_env() -> dict[str, str]:
    """The environment without GHOST_* variables (which may set options)."""
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("GHOST_")}


@pytest.fixture
def counter_project(tmp_path, counter_code):
    """A counter project with its build in place (no compile) and a fresh sandbox."""
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project

    root = new_project("probe", "counter", tmp_path / "probe")
    artifact = load_project(root).artifact_path("counter")
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(counter_code)
    return root


def test_a_sandbox_call_imports_only_what_it_uses(counter_project):
    outputs = []
    for argv, unused in (
            (["deploy"], ()),
            (["call", "counter", "increment"], (*CALL_UNUSED, *NO_TYPER)),
            (["query", "counter", "get"], (*QUERY_UNUSED, *NO_TYPER)),
            (["call", "counter", "get", "--network", "sandbox"], (*CALL_UNUSED, *NO_TYPER)),
            (["query", "counter", "get", "-n", "sandbox"], (*QUERY_UNUSED, *NO_TYPER)),
            # an option left to Typer, which builds the command named alone
            (["query", "counter", "get", "--gas-limit=+100000"], QUERY_UNUSED)):
        run = subprocess.run([sys.executable, "-c", CALL_PROBE.format(heavy=unused), *argv],
                             cwd=counter_project, capture_output=True, text=True,
                             env=_clean_env())
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout.splitlines())
    assert outputs[1:] == [["1", "loaded:"]] * 5


def test_call_and_query_options_are_all_quick_call_variables():
    """quick_call.py answers only when no variable sets an option of call or query."""
    import typer

    from ghost_cli.cli.main import app
    from ghost_cli.cli.quick_call import OPTION_VARIABLES

    group = typer.main.get_command(app)
    for name in ("call", "query"):
        for param in group.commands[name].params:
            for var in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
                assert var in OPTION_VARIABLES, (name, param.name)


def test_quick_call_options_are_the_commands_value_options():
    """Each option quick_call.py reads is the Typer command's: the same parameter, taking
    one value, of the type quick_call.py gives it."""
    import typer

    from ghost_cli.cli.main import app
    from ghost_cli.cli.quick_call import VALUE_OPTIONS

    group = typer.main.get_command(app)
    for name, options in VALUE_OPTIONS.items():
        params = {opt: p for p in group.commands[name].params for opt in p.opts}
        for option, keyword in options.items():
            param = params[option]
            assert (param.name, param.nargs, param.is_flag, param.count) == (
                keyword, 1, False, False), option
            kind = int if keyword == "gas_limit" else str
            assert param.type_descriptor.annotation is kind, option
    assert "--key" not in VALUE_OPTIONS["query"]


@pytest.mark.parametrize("argv, answered", [
    (["call", "c", "f", "1", "-n", "local"], ("c", "f", ["1"], {"network": "local"})),
    (["query", "--network=x", "c", "f", "--json"], ("c", "f", [], {"network": "x"})),
    (["call", "c", "f", "--gas-limit", "5", "--gas-limit", "7", "-k", "alice"],
     ("c", "f", [], {"gas_limit": 7, "key": "alice"})),
    (["query", "c", "f", "--transport", "http", "--network="],
     ("c", "f", [], {"transport": "http", "network": ""})),
    (["query", "c", "f", "-k", "alice"], None),  # query has no --key
    (["call", "c", "f", "-n"], None),  # no value: Typer says so
    (["call", "c", "f", "-n", "--json"], None),  # Typer takes "--json" as the name
    (["call", "c", "f", "-nlocal"], None),
    (["call", "c", "f", "--gas-limit", "0"], None),  # min=1
    (["call", "c", "f", "--gas-limit", "1_000"], None),  # Typer's int parsing reads it
    (["call", "c", "f", "--gas-limit", "9" * 5000], None),  # past int()'s digit limit
    (["call", "c", "f", "--gas-limit", "\u0661"], None),  # a non-ASCII digit
    (["call", "c", "f", "-v"], None),
    (["call", "c", "f", "--", "-1"], None),
    (["call", "c", "-n", "local"], None),  # no function
])
def test_which_command_lines_quick_call_answers(argv, answered, monkeypatch):
    from ghost_cli.cli.quick_call import OPTION_VARIABLES, parse

    for name in OPTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    parsed = parse(argv)
    if answered is None:
        assert parsed is None
    else:
        assert (parsed.contract, parsed.function, parsed.args, parsed.options) == answered
        assert parsed.commit == (argv[0] == "call")
        assert parsed.as_json == ("--json" in argv)


def _ghost(root, argv, env):
    run = subprocess.run([sys.executable, "-m", "ghost_cli", *argv], cwd=root,
                         capture_output=True, text=True, env=env)
    # a transaction's hash and block differ from one call to the next
    text = re.sub(r"0x[0-9a-f]{64}", "0xHASH", run.stdout)
    return run.returncode, re.sub(r'"block_height": \d+', '"block_height": N', text), run.stderr


def test_a_call_without_options_prints_what_typer_prints(counter_project):
    """The quick answer and the Typer command: the same stdout, stderr and exit code.
    GHOST_NETWORK=sandbox (the default network) sends the same command through Typer."""
    env = _clean_env()
    assert subprocess.run([sys.executable, "-m", "ghost_cli", "deploy"], cwd=counter_project,
                          env=env, capture_output=True).returncode == 0
    lines = (["query", "counter", "get"], ["query", "counter", "get", "--json"],
             ["call", "counter", "add", "0"], ["call", "--json", "counter", "add", "0"],
             ["call", "counter", "add", "18446744073709551615"],  # reverts: Overflow
             ["call", "counter", "add", "18446744073709551615", "--json"],
             ["query", "counter", "nosuch"], ["query", "nosuch", "get", "--json"],
             ["call", "counter", "add"], ["query", "counter", "add", "x"],
             # with the options answered before Typer too
             ["query", "counter", "get", "--network", "sandbox"],
             ["call", "-n", "sandbox", "counter", "add", "0", "--json"],
             ["query", "counter", "get", "--network=nosuch"],
             ["call", "counter", "add", "0", "--gas-limit", "100"],
             ["call", "counter", "add", "0", "--gas-limit", "100", "--json"],
             ["call", "counter", "add", "0", "--gas-limit=100", "--gas-limit", "9000000"],
             ["call", "counter", "add", "0", "-k", "nosuch"],
             ["query", "counter", "get", "--transport", "http", "--json"])
    codes = set()
    for argv in lines:
        if argv[0] == "call":  # once before, so that both runs find the same state
            _ghost(counter_project, argv, env)
        quick = _ghost(counter_project, argv, env)
        full = _ghost(counter_project, argv, {**env, "GHOST_NETWORK": "sandbox"})
        assert quick == full, argv
        codes.add(quick[0])
    assert codes == {0, 2, 6, 7}


HAND_ON_PROBE = """
import sys
sys.argv = ["ghost", *sys.argv[2:]]
from ghost_cli.cli import contract_run

def failing(*args, **kwargs):
    print("partial")
    raise {exc}

contract_run.run = failing
from ghost_cli.cli.main import run
run()
"""


@pytest.mark.parametrize("exc", ["KeyboardInterrupt()", "EOFError()",
                                 "BrokenPipeError(32, 'Broken pipe')",
                                 "ValueError('a bug')"])
def test_what_a_quick_call_does_not_handle_ends_it_as_typer_would(counter_project, exc):
    env = _clean_env()
    runs = [subprocess.run([sys.executable, "-c", HAND_ON_PROBE.format(exc=exc), *argv],
                           cwd=counter_project, capture_output=True, text=True, env=e)
            for argv, e in ((["-", "query", "counter", "get"], env),
                            (["-", "query", "counter", "get"], {**env, "GHOST_NETWORK": "x"}))]
    quick, full = runs
    assert (quick.returncode, quick.stdout) == (full.returncode, full.stdout)
    # a traceback names different frames; its last line is the same
    assert quick.stderr.splitlines()[-1:] == full.stderr.splitlines()[-1:]
    assert quick.returncode != 0


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


def test_an_unchanged_build_with_options_starts_no_typer_and_prints_the_same(project):
    """Contract names, --target and -O are answered before Typer too, once a build for
    that target and mode is stamped."""
    import os

    probe = RUN_PROBE.format(heavy=BUILD_UNUSED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOST_")}
    argv = ["build", "counter", "--target", "zvm", "-O", "ReleaseSmall", "--json"]
    # GHOST_OPTIMIZE sends a command line through Typer; -O overrides its value
    typer_env = {**env, "GHOST_OPTIMIZE": "Debug"}
    first = subprocess.run([sys.executable, "-c", probe, *argv], cwd=project,
                           capture_output=True, text=True, env=typer_env)
    assert first.returncode == 0, first.stderr  # compiled and lowered, through Typer
    quick, full = (subprocess.run([sys.executable, "-c", probe, *argv], cwd=project,
                                  capture_output=True, text=True, env=e)
                   for e in (env, typer_env))
    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.splitlines()[-1] == "loaded:"
    assert "typer" in full.stdout.splitlines()[-1]
    doc = _json_without_seconds(quick.stdout)
    assert doc == _json_without_seconds(full.stdout)
    assert [(c["name"], c["path"]) for c in doc["contracts"]] == [
        ("counter", "build/counter.zvmc")]


QUICK_BUILD_PROBE = """
import sys
from ghost_cli.cli import quick_build
print(quick_build.answer(["build", "counter"]), quick_build.answer(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [
    ["build", "--target", "zvm"],  # not built for zvm yet
    ["build", "-O", "ReleaseFast"],  # nor in that mode
    ["build", "nosuch"],
    ["build", "--target", ""],  # Typer refuses it
    ["build", "--target=nosuch"],
    ["build", "--force"],
    ["build", "-O"],
])
def test_a_build_quick_build_does_not_answer_is_left_to_typer(project, argv):
    """The probe runs the ghost that built the project (stamps name ghost's own code)."""
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "ghost_cli", "build"], cwd=project, check=True,
                   capture_output=True, env=env)
    probe = subprocess.run([sys.executable, "-c", QUICK_BUILD_PROBE, *argv], cwd=project,
                           capture_output=True, text=True, env=env)
    assert probe.returncode == 0, probe.stderr
    # the first line is the unchanged build's table; nothing else is printed
    assert probe.stdout.splitlines()[-1] == "True False"
    assert probe.stdout.count("ghost build") == 1
