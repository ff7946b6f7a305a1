"""pytest plugin behind `ghost test --coverage` (docs/testing.md "Coverage").

Loaded with `-p ghost_cli.testing.coverage_plugin` (ghost test does this); it switches a
coverage collector on for the whole session and, at its end, writes the reports under
`--ghost-coverage DIR` and prints the summary. Below `--ghost-coverage-min` a passing
session exits 16 (CoverageBelowMinimumError).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .coverage import REPORTS

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost coverage")
    group.addoption("--ghost-coverage", default=None, metavar="DIR",
                    help="Measure line coverage of the contracts; write reports to DIR.")
    group.addoption("--ghost-coverage-report", default=",".join(REPORTS),
                    help="Comma-separated reports: text, lcov, html (default: all).")
    group.addoption("--ghost-coverage-min", type=float, default=None, metavar="PCT",
                    help="Exit 16 when line coverage is below PCT percent.")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--ghost-coverage"):
        return
    from ..vm.coverage import collecting
    from .coverage import Collector

    which = tuple(w.strip() for w in config.getoption("--ghost-coverage-report").split(",")
                  if w.strip())
    unknown = [w for w in which if w not in REPORTS]
    if unknown:
        raise pytest.UsageError(f"unknown coverage report {unknown[0]!r}: use "
                                f"{', '.join(REPORTS)}")
    from ..config.project import load_project
    from .coverage import make_report_dir, project_filter

    start = config.getoption("--ghost-project")
    project = load_project(Path(start) if start else config.rootpath)
    directory = report_dir(config, project)
    try:
        make_report_dir(directory)
    except OSError as exc:  # now, not as a traceback once every test has run
        raise pytest.UsageError(f"cannot write the coverage reports to {directory}: "
                                f"{exc.strerror or exc}") from None
    scope = collecting(Collector(project_filter(project)))
    config.stash[_STATE] = {"collector": scope.__enter__(), "scope": scope, "which": which}


def report_dir(config: pytest.Config, project) -> Path:
    """`--ghost-coverage DIR`, relative to the project root unless absolute."""
    directory = Path(config.getoption("--ghost-coverage"))
    return directory if directory.is_absolute() else project.root / directory


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state["scope"].__exit__(None, None, None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    import os

    from ..config.defaults import ENV_TARGET, TARGETS
    from ..config.project import load_project
    from ..exceptions import CoverageBelowMinimumError
    from . import coverage

    config = session.config
    start = config.getoption("--ghost-project")
    project = load_project(Path(start) if start else config.rootpath)
    choice = config.getoption("--ghost-target", None) or os.environ.get(ENV_TARGET, "").strip()
    targets = TARGETS if choice == "both" else (choice,) if choice else None
    rep = coverage.report(state["collector"], project, targets)
    directory = report_dir(config, project)
    coverage.write(rep, directory, project.root, state["which"])
    state["report"], state["directory"] = rep, directory
    minimum = config.getoption("--ghost-coverage-min")
    if minimum is not None and rep.percent < minimum and session.exitstatus == 0:
        session.exitstatus = CoverageBelowMinimumError.exit_code
        state["below"] = minimum


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or "report" not in state:
        return
    from . import coverage

    tr = terminalreporter
    rep = state["report"]
    tr.write_sep("=", "coverage")  # after a newline, unlike section(): no blank line
    if "text" in state["which"]:
        for line in coverage.text(rep):
            tr.write_line(line)
    files = [n for n, w in ((coverage.LCOV_FILE, "lcov"), (coverage.HTML_FILE, "html"))
             if w in state["which"]]
    if files:
        tr.write_line(f"written to {state['directory']}: {', '.join(files)}")
    if "below" in state:
        tr.write_line(f"coverage {rep.percent:.1f}% is below the minimum of "
                      f"{state['below']:g}%", red=True)
