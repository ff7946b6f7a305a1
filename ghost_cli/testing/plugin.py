"""pytest plugin for ghost projects (registered through the `pytest11` entry point).

Fixtures (docs/testing.md): `ghost_env` (the sandbox, rolled back after every test),
`deploy`, `accounts`, `keys`, `reverts`, `expect_event`, `ghost_target`, `ghost_project`,
`fuzz` and `invariants` (testing/fuzz.py, testing/invariants.py).
Options: --gas-report, --gas-snapshot, --gas-check, --gas-tolerance, --ghost-target,
--fuzz-runs, --ghost-seed, --invariant-runs, --fuzz-depth, --fuzz-gas,
--ghost-fork (with --ghost-fork-height, --ghost-fork-root: the sandbox over a fork of a
node's state, chain/fork.py).
The project's contracts are built once per session and target, when a test first asks.
With --ghost-target both (or GHOST_TARGET=both) every test that uses the sandbox runs on
wasm and on ZVM, and fails when the two runs differ in results, reverts or events.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

#: Packages whose asserts pytest would rewrite, only because each ships a pytest plugin:
#: ghost_cli, and hypothesis and anyio, which it loads (see `_leave_unrewritten`).
UNREWRITTEN = ("ghost_cli", "hypothesis", "anyio")


def _leave_unrewritten(packages: tuple[str, ...] = UNREWRITTEN) -> None:
    """pytest rewrites the asserts of every module of a distribution with a `pytest11`
    entry point, a package at a time. None of these modules is a test, and a rewritten
    module is cached apart from the ordinary bytecode: where that cache cannot be
    written (PYTHONDONTWRITEBYTECODE, a read-only install) each run parsed and compiled
    the 170-odd modules a sandbox test imports again, about 0.7 s. The project's own
    tests and conftest files are rewritten as ever. (pytest keeps no public way to
    unmark a package: without these attributes, nothing changes.)"""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(marked, set) and isinstance(cache, dict):
            marked.difference_update(packages)
            cache.clear()


_leave_unrewritten()  # at import: before the plugin's own imports of ghost_cli's modules

RECORDS = pytest.StashKey[list]()
CHECK = pytest.StashKey[tuple]()
OUTCOMES = pytest.StashKey[dict]()
BUILD_ERROR = pytest.StashKey[object]()
#: --target both: {test without its target: {target: outcomes}}, compared when both ran.
RUNS = pytest.StashKey[dict]()
#: The running test's GhostEnv, whose labels name addresses in assertion messages.
CURRENT = pytest.StashKey[object]()
#: When the session started: with `both`, the block time of every test (unless warped).
STARTED = pytest.StashKey[int]()
#: --ghost-fork: (height, state root) of the session's first fork; with `both`, the
#: second target's fork is pinned to the same state even if the node moved on.
FORK_PIN = pytest.StashKey[tuple]()
#: --ghost-target values; `both` runs every sandbox test on each of TARGETS.
TARGET_CHOICES = ("wasm", "zvm", "both")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost", "ghost contract testing")
    group.addoption("--gas-report", action="store_true",
                    help="Print gas used per contract function.")
    group.addoption("--gas-snapshot", action="store_true",
                    help="Write gas used per test to the project's gas snapshot file.")
    group.addoption("--gas-check", action="store_true",
                    help="Fail (exit 9) when gas per test moved beyond the tolerance.")
    group.addoption("--gas-tolerance", type=float, default=None,
                    help="Relative tolerance for --gas-check (default: ghost.toml [test]).")
    group.addoption("--ghost-project", default=None,
                    help="Project directory (default: found upward from the tests).")
    group.addoption("--ghost-report", default=None, help="Write a JSON summary here.")
    group.addoption("--ghost-prebuilt", action="store_true",
                    help="Use the artifacts already in the build directory (ghost test "
                         "builds before it starts pytest).")
    group.addoption("--ghost-target", default=None, choices=TARGET_CHOICES,
                    help="Build and run the contracts as wasm, zvm, or both (compared); "
                         "default: $GHOST_TARGET, else each contract's target in ghost.toml.")
    group.addoption("--ghost-fork", default=None, metavar="NETWORK",
                    help="Run over a local copy-on-write fork of this node network's (or "
                         "node URL's) state: read lazily, proven; writes stay local.")
    group.addoption("--ghost-fork-height", type=int, default=None, metavar="H",
                    help="Fork the state after block H (default: the node's latest at start).")
    group.addoption("--ghost-fork-root", default=None, metavar="ROOT",
                    help="The state root (0x…) the node must report at the fork's height.")
    group.addoption("--fuzz-runs", type=int, default=None,
                    help="Examples per fuzz run (default 256).")
    group.addoption("--ghost-seed", type=int, default=None,
                    help="Seed of fuzz and invariant runs (default 0: the same examples "
                         "every run).")
    group.addoption("--invariant-runs", type=int, default=None,
                    help="Call sequences per invariant run (default 32).")
    group.addoption("--fuzz-depth", type=int, default=None,
                    help="Calls per invariant sequence (default 50).")
    group.addoption("--fuzz-gas", action="store_true",
                    help="Count fuzz and invariant calls in gas snapshots.")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORDS] = []
    config.stash[OUTCOMES] = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    config.stash[RUNS] = {}
    import time

    config.stash[STARTED] = int(time.time())
    config.addinivalue_line(
        "markers", "fuzz(runs=None, seed=None, invariant_runs=None, depth=None): a fuzz or "
                   "invariant test (given to tests named test_fuzz*/test_invariant* and to "
                   "tests using the fuzz or invariants fixture); its arguments override the "
                   "run options for this test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `-m fuzz` / `-m "not fuzz"` select fuzz and invariant tests however they are spotted.
    for item in items:
        name = getattr(item, "originalname", item.name)
        uses = set(getattr(item, "fixturenames", ()))
        if (name.startswith(("test_fuzz", "test_invariant")) or uses & {"fuzz", "invariants"}) \
                and item.get_closest_marker("fuzz") is None:
            item.add_marker(pytest.mark.fuzz)


def _target_choice(config: pytest.Config) -> str | None:
    """--ghost-target, else $GHOST_TARGET, else None (each contract's configured target)."""
    import os

    from ..config.defaults import ENV_TARGET
    from ..exceptions import UsageError

    choice = config.getoption("--ghost-target") or os.environ.get(ENV_TARGET, "").strip()
    if choice and choice not in TARGET_CHOICES:
        raise UsageError(f"unknown target {choice!r} in {ENV_TARGET}: use one of "
                         f"{', '.join(TARGET_CHOICES)}")
    return choice or None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `both`: one run per target for every test that reaches the sandbox.
    if "ghost_target" in metafunc.fixturenames and _target_choice(metafunc.config) == "both":
        from ..config.defaults import TARGETS

        metafunc.parametrize("ghost_target", TARGETS, indirect=True, ids=TARGETS)


def _project(config: pytest.Config):
    from ..config.project import load_project

    start = config.getoption("--ghost-project")
    return load_project(Path(start) if start else config.rootpath)


@pytest.fixture(scope="session")
def ghost_project(pytestconfig: pytest.Config):
    """The project under test (its ghost.toml, loaded): found upward from the tests."""
    return _project(pytestconfig)


def _new_session(config: pytest.Config, project, target: str | None):
    from ..chain.sandbox import Sandbox
    from .env import GhostEnv

    artifacts = _artifacts(config, project, target)
    network = project.networks[project.default_network]
    fork = _open_fork(config, project)
    sandbox = Sandbox(
        ":memory:",
        chain_id=network.chain_id if fork is None else fork.chain_id,
        cache_dir=project.root / ".ghost" / "module-cache",
        gas_limit=network.gas_limit,
        store=fork,
    )
    env = GhostEnv(sandbox, artifacts, target=target)
    env.deploy_targets = {name: c.target for name, c in project.contracts.items()}
    env.fork = fork
    env.sources = _sources(project)
    env.gas_records = config.stash[RECORDS]
    if _target_choice(config) == "both":  # both runs of a test see the same block times
        env.clock.default = config.stash[STARTED]
        env.gas_by_target = True
    return env


def _open_fork(config: pytest.Config, project):
    """--ghost-fork: the fork store (chain/fork.py) the session's sandbox runs over. A
    network, node or height that cannot be forked stops the session once, with its error."""
    from ..exceptions import GhostError, UsageError

    name = config.getoption("--ghost-fork")
    height = config.getoption("--ghost-fork-height")
    try:
        if name is None:
            if height is not None or config.getoption("--ghost-fork-root") is not None:
                raise UsageError("--fork-height and --fork-root need --fork NETWORK")
            return None
        if height is not None and height < 0:
            raise UsageError(f"--fork-height must be a block height >= 0, not {height}")
        from ..client.fork_reader import fork_network, open_fork, parse_root

        root = parse_root(config.getoption("--ghost-fork-root"))
        if FORK_PIN in config.stash:
            height, root = config.stash[FORK_PIN]
        fork = open_fork(fork_network(name, project.networks), height=height,
                         trusted_root=root)
        config.stash[FORK_PIN] = (fork.fork_height, fork.root)
        return fork
    except GhostError as exc:
        config.stash[BUILD_ERROR] = exc
        pytest.exit(exc.message, returncode=exc.exit_code)
def _sources(project) -> list[Path]:
    """Every Zig file of the project's contracts' directories: literals to fuzz with."""
    dirs = {(project.root / c.source).parent for c in project.contracts.values()}
    return sorted({p for d in dirs for p in d.rglob("*.zig")})


@pytest.fixture(scope="session")
def _ghost_sessions(pytestconfig: pytest.Config, ghost_project):
    """One built project and sandbox per target, made when a test first needs it."""
    envs: dict = {}

    def get(target: str | None):
        if target not in envs:
            envs[target] = _new_session(pytestconfig, ghost_project, target)
        return envs[target]

    yield get
    for env in envs.values():
        env.sandbox.close()


def env_optimize() -> str | None:
    """The Zig optimize mode GHOST_OPTIMIZE names, or None (ghost.toml's): tests run the
    code `ghost build` makes with the same variable, and leave that build/ in place."""
    import os

    from ..config.defaults import ENV_OPTIMIZE

    return os.environ.get(ENV_OPTIMIZE, "").strip() or None


def _artifacts(config: pytest.Config, project, target: str | None) -> dict[str, Path]:
    """Contract name -> built module for `target`. A build that fails stops the session
    once, with Zig's diagnostic, rather than failing every test's setup with the same
    traceback."""
    from ..exceptions import GhostError
    from ..toolchain.build import build_project

    if config.getoption("--ghost-prebuilt"):
        return {name: project.artifact_path(name, target) for name in project.contracts}
    try:
        return {r.name: r.path
                for r in build_project(project, target=target, optimize=env_optimize())}
    except GhostError as exc:
        config.stash[BUILD_ERROR] = exc
        output = exc.details.get("output")
        lines = output.rstrip().splitlines() if isinstance(output, str) else []
        if lines and lines[0].strip() in exc.message:
            lines = lines[1:]
        pytest.exit("\n".join([exc.message, *lines]), returncode=exc.exit_code)


@pytest.fixture
def ghost_target(request: pytest.FixtureRequest) -> str | None:
    """The target this test runs on: "wasm" or "zvm" (with `--target both`, each in
    turn; the test's id ends in [wasm] or [zvm]), or None: each contract's configured one."""
    choice = getattr(request, "param", None) or _target_choice(request.config)
    return None if choice == "both" else choice


@pytest.fixture
def ghost_env(_ghost_sessions, ghost_target, request: pytest.FixtureRequest):
    """The test environment (ghost_cli.testing.env.GhostEnv): the sandbox with the project's
    contracts built, development accounts and keys, expect-revert and expect-event helpers.
    Everything the test does to the chain is rolled back afterwards."""
    with _ghost_sessions(ghost_target).isolated() as env:
        env.current_test = request.node.nodeid
        env.outcomes = []
        request.config.stash[CURRENT] = env
        yield env
        env.current_test = None


@pytest.fixture
def deploy(ghost_env):
    """deploy("counter") -> a contract whose ABI functions are Python callables:
    `c.increment()` sends a transaction and returns the result, `c.increment.transact()`
    returns the whole receipt, `c.get.query()` runs read-only. Raises RevertError when
    the contract reverts."""
    return ghost_env.deploy


@pytest.fixture
def accounts(ghost_env) -> list[bytes]:
    """The sandbox's ten development accounts (20-byte addresses of ML-DSA-65 keys, the
    same in every run); calls come from accounts[0] unless `ghost_env.as_caller` changes it."""
    return ghost_env.accounts


@pytest.fixture
def keys(ghost_env):
    """keys("ed25519") -> ten development KeyPairs of that signature scheme (default
    ml-dsa-65), the same in every run; `ghost_env.as_caller(key)` signs with one."""
    return ghost_env.keys


@pytest.fixture
def reverts(ghost_env):
    """`with reverts("Overflow"): counter.add(1)`: the block must revert with exactly that
    reason (a compiled regex is searched; no argument: any reason)."""
    return ghost_env.reverts


@pytest.fixture
def expect_event(ghost_env):
    """expect_event(receipt, "Incremented", by=accounts[0]): the receipt holds that event
    with those decoded fields (emitter=contract narrows it); returns the event as JSON."""
    return ghost_env.expect_event


def _fuzz_settings(request: pytest.FixtureRequest):
    from ..exceptions import UsageError
    from .fuzz import FuzzSettings

    opt = request.config.getoption
    defaults = FuzzSettings()
    chosen = {"runs": opt("--fuzz-runs"), "seed": opt("--ghost-seed"),
              "invariant_runs": opt("--invariant-runs"), "depth": opt("--fuzz-depth")}
    mark = request.node.get_closest_marker("fuzz")
    if mark and (mark.args or set(mark.kwargs) - set(chosen)):
        # a misspelt keyword (runz=5) or a bare number would be ignored: the defaults ran
        given = [repr(a) for a in mark.args] + [
            f"{k}=" for k in sorted(set(mark.kwargs) - set(chosen))]
        raise UsageError(f"@pytest.mark.fuzz takes runs=, seed=, invariant_runs= and depth= "
                         f"only, not {', '.join(given)}")
    chosen.update(mark.kwargs if mark else {})
    from ..abi.types import is_int

    for key, value in chosen.items():
        if value is not None and (not is_int(value) or value < (0 if key == "seed" else 1)):
            raise UsageError(f"fuzz {key} must be a whole number >= "
                             f"{0 if key == 'seed' else 1}, not {value!r}")
    return FuzzSettings(**{k: getattr(defaults, k) if v is None else v
                           for k, v in chosen.items()})


@pytest.fixture
def fuzz(ghost_env, request: pytest.FixtureRequest):
    """fuzz(counter.add): call a contract function with arguments drawn from its ABI types
    (--fuzz-runs examples, each from the state at that point); a panic fails, printing the
    shrunk input as `ghost call` lines. `@fuzz.given(counter.add)` runs a property over
    the arguments instead. See docs/testing.md "Fuzzing"."""
    from .fuzz import Fuzz

    return Fuzz(ghost_env, _fuzz_settings(request))


@pytest.fixture
def invariants(ghost_env, request: pytest.FixtureRequest):
    """invariants(token, check, token.solvent): random call sequences to the contract's
    functions from several senders, checks after every call; a failing sequence is shrunk
    and printed as `ghost call` lines. See docs/testing.md "Invariants"."""
    from .invariants import Invariants

    return Invariants(ghost_env, _fuzz_settings(request))


def pytest_assertrepr_compare(config: pytest.Config, op: str, left, right):
    """20-byte values (addresses), alone or in lists and tuples, print as checksummed hex
    with their labels instead of b'zK\\xf8…'."""
    if not (_holds_address(left) or _holds_address(right)):
        return None
    env = config.stash.get(CURRENT, None)

    def show(value) -> str:
        if _is_address(value):
            if env is not None:
                return env.show(value)
            from ..abi import format_address

            return format_address(bytes(value))
        if isinstance(value, (list, tuple)):
            inner = ", ".join(show(v) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner})"
        return repr(value)

    lines = [f"{show(left)} {op} {show(right)}"]
    if op == "==" and isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        for i, (a, b) in enumerate(zip(left, right, strict=False)):
            if a != b:
                lines.append(f"At index {i}: {show(a)} != {show(b)}")
        if len(left) != len(right):
            lines.append(f"Lengths differ: {len(left)} != {len(right)}")
    elif op == "==":
        lines += [f"left:  {show(left)}", f"right: {show(right)}"]
    return lines


def _is_address(value) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == 20


def _holds_address(value) -> bool:
    return _is_address(value) or (isinstance(value, (list, tuple))
                                  and any(_is_address(v) for v in value))


def _compare_targets(item: pytest.Item, report: pytest.TestReport) -> None:
    """`--target both`: keep this run's outcomes; when the other target's run of the same
    test is there, fail this one if they differ in anything but gas."""
    callspec = getattr(item, "callspec", None)
    env = getattr(item, "funcargs", {}).get("ghost_env")
    if callspec is None or env is None or "ghost_target" not in callspec.params:
        return
    target = callspec.params["ghost_target"]
    others = tuple(sorted((k, repr(v)) for k, v in callspec.params.items()
                          if k != "ghost_target"))
    runs = item.config.stash[RUNS].setdefault((item.nodeid.split("[")[0], others), {})
    runs[target] = [o.compared() for o in env.outcomes if o.kind != "cheat"]
    if len(runs) < 2 or not report.passed:
        return
    (t1, a), (t2, b) = sorted(runs.items())
    difference = _first_difference(a, b, t1, t2)
    if difference:
        report.outcome = "failed"
        report.longrepr = f"the targets differ: {difference}"


def _first_difference(a: list[dict], b: list[dict], t1: str, t2: str) -> str | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            what = f"{x['kind']} {x['contract']}" + (f".{x['function']}" if x["function"] else "")
            fields = [k for k in x if x[k] != y[k]]
            shown = "; ".join(f"{k}: {t1} {x[k]!r} != {t2} {y[k]!r}" for k in fields)
            return f"operation {i + 1} ({what}{tuple(x['args'])!r}): {shown}"
    if len(a) != len(b):
        return f"{t1} made {len(a)} deploys/calls/queries, {t2} made {len(b)}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        _compare_targets(item, report)
    counts = item.config.stash[OUTCOMES]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            counts["passed"] += 1
        elif report.skipped:
            counts["skipped"] += 1
        elif report.when == "setup":
            counts["errors"] += 1
        else:
            counts["failed"] += 1
    elif report.when == "teardown" and report.failed:
        counts["errors"] += 1


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A test file that cannot be collected (a syntax or import error) is an error, as
    pytest's summary counts it: "0 failed, 0 errors, 0 passed" said nothing went wrong."""
    outcome = yield
    if outcome.get_result().failed:
        collector.config.stash[OUTCOMES]["errors"] += 1


def _counted(config: pytest.Config) -> list:
    """The gas records the report and the snapshot count: fuzz and invariant calls only
    with --fuzz-gas (their number and arguments follow the seed and the run counts)."""
    records = config.stash[RECORDS]
    return records if config.getoption("--fuzz-gas") else [r for r in records if not r.fuzz]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from ..exceptions import GasCheckError, GhostError
    from . import gas_report

    config = session.config
    records = _counted(config)
    totals = gas_report.per_test(records)
    check: tuple = ((), ())
    error = config.stash.get(BUILD_ERROR, None)
    try:
        if config.getoption("--gas-snapshot") or config.getoption("--gas-check"):
            project = _project(config)
            path = project.root / project.test.snapshot_file
            if config.getoption("--gas-snapshot"):
                gas_report.write_snapshot(path, totals)
            if config.getoption("--gas-check"):
                tolerance = config.getoption("--gas-tolerance")
                if tolerance is None:
                    tolerance = project.test.gas_tolerance
                check = gas_report.compare(gas_report.read_snapshot(path), totals, tolerance)
                if check[0] and session.exitstatus == 0:
                    session.exitstatus = GasCheckError.exit_code
    except GhostError as exc:
        error = exc
        if session.exitstatus == 0:
            session.exitstatus = exc.exit_code
    config.stash[CHECK] = (check, error)
    target = config.getoption("--ghost-report")
    if target:
        Path(target).write_text(json.dumps({
            "exit_status": int(session.exitstatus),
            "tests": config.stash[OUTCOMES],
            "gas_report": gas_report.to_json(gas_report.report(records)),
            "gas_per_test": totals,
            "gas_check": {
                "failing": [c.describe for c in check[0]],
                "notes": [c.describe for c in check[1]],
            },
            "error": error.to_json() if error else None,
        }, indent=2))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    from . import gas_report

    records = _counted(config)
    tr = terminalreporter
    if config.getoption("--gas-report") and records:
        tr.write_sep("=", "gas report")
        tr.write_line(f"{'contract.function':<32}{'calls':>7}"
                      + "".join(f"{h:>12}" for h in ("min", "mean", "median", "max"))
                      + f"{'failed':>8}")
        for r in gas_report.report(records):
            tr.write_line(f"{r.contract + '.' + r.function:<32}{r.calls:>7}{r.min:>12,}"
                          f"{r.mean:>12,}{r.median:>12,}{r.max:>12,}{r.failed:>8}")
    (failing, notes), error = config.stash.get(CHECK, (((), ()), None))
    if config.getoption("--gas-snapshot") and error is None:
        tr.write_line("gas snapshot written")
    if error is not None:
        tr.write_line(f"error: {error.message}", red=True)
    if config.getoption("--gas-check") and error is None:
        tr.write_sep("=", "gas check")
        for c in notes:
            tr.write_line(c.describe)
        for c in failing:
            tr.write_line(c.describe, red=True)
        tr.write_line("gas check failed" if failing else "gas check passed",
                      red=bool(failing), green=not failing)
