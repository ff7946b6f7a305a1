"""pytest plugin for ghost projects (registered through the `pytest11` entry point).

Fixtures: `ghost_env` (the sandbox, rolled back after every test), `deploy` (deploy a
project contract by name), `accounts` (the sandbox's development accounts).
Options: --gas-report, --gas-snapshot, --gas-check, --gas-tolerance.
The project's contracts are built once per session, when a test first asks for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECORDS = pytest.StashKey[list]()
CHECK = pytest.StashKey[tuple]()
OUTCOMES = pytest.StashKey[dict]()
BUILD_ERROR = pytest.StashKey[object]()


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


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORDS] = []
    config.stash[OUTCOMES] = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}


def _project(config: pytest.Config):
    from ..config.project import load_project

    start = config.getoption("--ghost-project")
    return load_project(Path(start) if start else config.rootpath)


@pytest.fixture(scope="session")
def ghost_project(pytestconfig: pytest.Config):
    return _project(pytestconfig)


@pytest.fixture(scope="session")
def _ghost_session(pytestconfig: pytest.Config, ghost_project):
    from ..chain.sandbox import Sandbox
    from .env import GhostEnv

    artifacts = _artifacts(pytestconfig, ghost_project)
    network = ghost_project.networks[ghost_project.default_network]
    sandbox = Sandbox(
        ":memory:",
        chain_id=network.chain_id,
        cache_dir=ghost_project.root / ".ghost" / "module-cache",
        gas_limit=network.gas_limit,
    )
    env = GhostEnv(sandbox, artifacts)
    env.gas_records = pytestconfig.stash[RECORDS]
    yield env
    sandbox.close()


def _artifacts(config: pytest.Config, project) -> dict[str, Path]:
    """Contract name -> built module. A build that fails stops the session once, with
    Zig's diagnostic, rather than failing every test's setup with the same traceback."""
    from ..exceptions import GhostError
    from ..toolchain.build import build_project

    if config.getoption("--ghost-prebuilt"):
        return {name: project.artifact_path(name) for name in project.contracts}
    try:
        return {r.name: r.path for r in build_project(project)}
    except GhostError as exc:
        config.stash[BUILD_ERROR] = exc
        output = exc.details.get("output")
        lines = output.rstrip().splitlines() if isinstance(output, str) else []
        if lines and lines[0].strip() in exc.message:
            lines = lines[1:]
        pytest.exit("\n".join([exc.message, *lines]), returncode=exc.exit_code)


@pytest.fixture
def ghost_env(_ghost_session, request: pytest.FixtureRequest):
    """The sandbox for this test; everything it does is rolled back afterwards."""
    with _ghost_session.isolated() as env:
        env.current_test = request.node.nodeid
        yield env
        env.current_test = None


@pytest.fixture
def deploy(ghost_env):
    """deploy("counter") -> a contract whose functions are Python callables."""
    return ghost_env.deploy


@pytest.fixture
def accounts(ghost_env) -> list[bytes]:
    return ghost_env.accounts


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from ..exceptions import GasCheckError, GhostError
    from . import gas_report

    config = session.config
    records = config.stash[RECORDS]
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

    records = config.stash[RECORDS]
    tr = terminalreporter
    if config.getoption("--gas-report") and records:
        tr.section("gas report")
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
        tr.section("gas check")
        for c in notes:
            tr.write_line(c.describe)
        for c in failing:
            tr.write_line(c.describe, red=True)
        tr.write_line("gas check failed" if failing else "gas check passed",
                      red=bool(failing), green=not failing)
