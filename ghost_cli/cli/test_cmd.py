"""`ghost test`: run the project's tests (pytest with ghost's plugin) against the sandbox."""


from pathlib import Path
from typing import Annotated

import typer

from .options import ForkHeight, ForkRoot, Verbose
from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command(
        "test",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    @command
    def test(
        out: Output,
        ctx: typer.Context,
        gas_report: Annotated[bool, typer.Option("--gas-report",
                                                 help="Print gas per contract function.")] = False,
        snapshot: Annotated[bool, typer.Option("--snapshot",
                                               help="Write gas per test to the snapshot file.")
                            ] = False,
        check: Annotated[bool, typer.Option("--check",
                                            help="Exit 9 when gas moved beyond the tolerance.")
                         ] = False,
        tolerance: Annotated[float | None, typer.Option(
            "--tolerance", min=0,
            help="Relative gas tolerance for --check, as a fraction: 0.02 is 2%.")] = None,
        target: Annotated[str | None, typer.Option(
            "--target", envvar="GHOST_TARGET",
            help="wasm, zvm, or both: every test on each, failing where results differ "
                 "(default: each contract's target).")] = None,
        watch: Annotated[bool, typer.Option(
            "--watch", help="Run again whenever a Zig source, test or ghost.toml changes "
                            "(rebuilding first); Ctrl-C stops.")] = False,
        fork: Annotated[str | None, typer.Option(
            "--fork", metavar="NETWORK",
            help="Run over a local copy-on-write fork of this node network's state: read "
                 "lazily and proven against its state root; writes stay local.")] = None,
        fork_height: ForkHeight = None,
        fork_root: ForkRoot = None,
        seed: Annotated[int | None, typer.Option(
            "--seed", help="Seed of fuzz and invariant runs (default 0: the same examples "
                           "every run).")] = None,
        fuzz_runs: Annotated[int | None, typer.Option(
            "--fuzz-runs", help="Examples per fuzz run (default 256).")] = None,
        invariant_runs: Annotated[int | None, typer.Option(
            "--invariant-runs", help="Call sequences per invariant run (default 32).")] = None,
        fuzz_depth: Annotated[int | None, typer.Option(
            "--fuzz-depth", help="Calls per invariant sequence (default 50).")] = None,
        fuzz_gas: Annotated[bool, typer.Option(
            "--fuzz-gas", help="Count fuzz and invariant calls in gas snapshots.")] = False,
        verbose: Verbose = 0,
        # ---- coverage (docs/testing.md "Coverage") ----
        coverage: Annotated[bool, typer.Option(
            "--coverage", help="Measure line coverage of the contracts' Zig sources; "
                               "reports under --coverage-dir.")] = False,
        coverage_report: Annotated[list[str] | None, typer.Option(
            "--coverage-report", metavar="KIND", help="text, lcov or html; repeat for several "
                                      "(default: all three). Implies --coverage.")] = None,
        coverage_dir: Annotated[str, typer.Option(
            "--coverage-dir", metavar="DIR",
            help="Where lcov.info, index.html and coverage.json go.")] = "coverage",
        coverage_min: Annotated[float | None, typer.Option(
            "--coverage-min", help="Exit 16 when line coverage is below PCT percent. "
                                   "Implies --coverage.", metavar="PCT")] = None,
    ) -> None:
        """Run tests/ with pytest; extra arguments go to pytest (e.g. -k increment).
        -v also prints each contract call's trace (shown with a failing test's output)."""
        import json
        import subprocess
        import sys
        import tempfile

        from ..config.project import load_project
        from ..testing.plugin import env_optimize
        from ..toolchain.build import build_project

        project = load_project()
        _check_target(target)
        coverage_on = coverage or bool(coverage_report) or coverage_min is not None
        coverage_args = _coverage_args(coverage_report, coverage_dir, coverage_min) \
            if coverage_on else []
        if coverage_on:  # a directory the reports cannot go to: now, before any build
            from ..testing.coverage import make_report_dir

            try:
                make_report_dir(project.root / coverage_dir)
            except OSError as exc:
                from ..exceptions import UsageError

                raise UsageError(f"cannot write the coverage reports to "
                                 f"{project.root / coverage_dir}: {exc.strerror or exc}") from None
        if (fork_height is not None or fork_root is not None) and fork is None:
            from ..exceptions import UsageError

            raise UsageError("--fork-height and --fork-root need --fork NETWORK")
        if fork is not None:  # a wrong name fails here, before building and pytest
            from ..client.fork_reader import fork_network, parse_root

            fork_network(fork, project.networks)
            parse_root(fork_root)
        _check_fuzz_counts(seed=seed, fuzz_runs=fuzz_runs, invariant_runs=invariant_runs,
                           fuzz_depth=fuzz_depth)
        if watch and out.as_json:
            from ..exceptions import UsageError

            raise UsageError("--watch reruns for people to read; it takes no --json")
        # Build here, once per target the tests use: a compile error is reported like
        # `ghost build` reports it (Zig's diagnostic once, exit 4) instead of as an error
        # in every test's setup. Watching, each run builds afresh inside pytest instead.
        # Its warnings (safety checks off: an overflow a test expects to panic wraps
        # instead) go to stderr as `ghost build` prints them, once for both targets.
        if not watch:
            warnings: dict[str, None] = {}
            with out.status("building contracts"):
                for each in _build_targets(target):
                    for r in build_project(project, target=each, optimize=env_optimize()):
                        warnings.update(dict.fromkeys(r.warnings))
            for warning in warnings:
                out.info(f"warning: {warning}")
        with tempfile.TemporaryDirectory() as tmp:
            report_path = Path(tmp) / "report.json"
            # The plugin is loaded through its pytest11 entry point.
            extra, named = _pytest_args(list(ctx.args), project.root)
            if not named and not watch and not (project.root / "tests").is_dir():
                # pytest would say "file or directory not found: tests", read as a bad
                # argument (exit 2), though the user gave none
                from ..exceptions import TestsFailedError

                raise TestsFailedError(f"no tests ran: {project.root / 'tests'} does not "
                                       f"exist (tests are tests/test_*.py files)")
            cmd = [sys.executable, "-m", "pytest", *([] if named else ["tests"]),
                   "--ghost-project", str(project.root), "--ghost-report", str(report_path)]
            cmd += [] if watch else ["--ghost-prebuilt"]
            cmd += ["--gas-report"] if gas_report else []
            cmd += ["--gas-snapshot"] if snapshot else []
            cmd += ["--gas-check"] if check else []
            cmd += ["--gas-tolerance", str(tolerance)] if tolerance is not None else []
            cmd += ["-" + "v" * verbose] if verbose else []
            cmd += ["--ghost-target", target] if target else []
            cmd += coverage_args
            cmd += ["--ghost-fork", fork] if fork else []
            cmd += ["--ghost-fork-height", str(fork_height)] if fork_height is not None else []
            cmd += ["--ghost-fork-root", fork_root] if fork_root else []
            for flag, value in (("--ghost-seed", seed), ("--fuzz-runs", fuzz_runs),
                                ("--invariant-runs", invariant_runs),
                                ("--fuzz-depth", fuzz_depth)):
                cmd += [flag, str(value)] if value is not None else []
            cmd += ["--fuzz-gas"] if fuzz_gas else []
            cmd += extra
            # With --json, pytest's own output goes to stderr so stdout stays one document.
            import os

            from ..config.defaults import ENV_VERBOSE

            env = {**os.environ, ENV_VERBOSE: str(verbose)}
            if watch:
                _watch(project, cmd, env, out)
                return
            proc = subprocess.run(cmd, cwd=project.root, env=env,
                                  stdout=sys.stderr if out.as_json else None)
            report = json.loads(report_path.read_text()) if report_path.exists() else {}
        if coverage_on:
            report["coverage"] = _coverage_summary(project.root / coverage_dir)
        _raise_for(proc.returncode, report)
        out.emit(report, lambda: None)


def _watch(project, cmd: list[str], env: dict, out: Output) -> None:
    """Run pytest now and after every source change; Ctrl-C ends it (exit 0)."""
    import subprocess

    from ..config.defaults import STATE_DIR
    from ..testing.watch import watch_and_rerun

    def run() -> int:
        return subprocess.run(cmd, cwd=project.root, env=env).returncode

    try:
        watch_and_rerun(project.root, run, ignored=[project.out_dir, project.root / STATE_DIR],
                        say=lambda m: out.info(f"ghost test --watch: {m}"))
    except KeyboardInterrupt:  # Ctrl-C during a run: that run stops, and so does watching
        pass


def _build_targets(target: str | None) -> tuple[str | None, ...]:
    """The targets `ghost test --target` runs on (None: each contract's own)."""
    import os

    from ..config.defaults import ENV_TARGET, TARGETS

    choice = target or os.environ.get(ENV_TARGET, "").strip() or None
    return tuple(TARGETS) if choice == "both" else (choice,)


def _check_target(target: str | None) -> None:
    from ..exceptions import UsageError
    from ..testing.plugin import TARGET_CHOICES

    if target is not None and target not in TARGET_CHOICES:
        raise UsageError(f"unknown target {target!r}: use one of {', '.join(TARGET_CHOICES)}")


def _coverage_args(reports: list[str] | None, directory: str,
                   minimum: float | None) -> list[str]:
    from ..exceptions import UsageError
    from ..testing.coverage import REPORTS

    for r in reports or ():
        if r not in REPORTS:
            raise UsageError(f"unknown coverage report {r!r}: use one of {', '.join(REPORTS)}")
    if minimum is not None and not 0 <= minimum <= 100:
        raise UsageError(f"--coverage-min takes a percentage from 0 to 100, not {minimum:g}")
    args = ["-p", "ghost_cli.testing.coverage_plugin", "--ghost-coverage", directory,
            "--ghost-coverage-report", ",".join(reports or REPORTS)]
    return args + (["--ghost-coverage-min", str(minimum)] if minimum is not None else [])


def _coverage_summary(directory) -> dict | None:
    import json

    from ..testing.coverage import SUMMARY_FILE

    path = directory / SUMMARY_FILE
    return json.loads(path.read_text()) if path.exists() else None
def _check_fuzz_counts(**counts: int | None) -> None:
    from ..exceptions import UsageError

    for name, value in counts.items():
        least = 0 if name == "seed" else 1
        if value is not None and value < least:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"{option} must be at least {least}, not {value}")


def _raise_for(status: int, report: dict) -> None:
    """Translate pytest's exit status (and the plugin's report) into ghost's exit codes."""
    from .. import exceptions as exc

    if status == 0:
        return
    if report.get("error"):  # the plugin failed, e.g. a missing gas snapshot
        err = report["error"]
        cls = next((c for c in _subclasses(exc.GhostError) if c.code == err["code"]),
                   exc.GhostError)
        raise cls(err["message"])
    if status == exc.CoverageBelowMinimumError.exit_code and report.get("coverage"):
        cov = report["coverage"]
        raise exc.CoverageBelowMinimumError(
            f"line coverage {cov['percent']:.1f}% is below the minimum "
            f"({cov['lines_covered']} of {cov['lines_total']} lines)", coverage=cov)
    if status == exc.GasCheckError.exit_code:
        failing = report.get("gas_check", {}).get("failing", [])
        raise exc.GasCheckError("gas moved beyond tolerance: " + "; ".join(failing))
    tests = report.get("tests", {})
    if status in (1, 2, 5):  # failures, interrupted, no tests collected
        raise exc.TestsFailedError(
            "no tests ran" if status == 5 else
            f"{tests.get('failed', 0)} failed, {tests.get('errors', 0)} errors, "
            f"{tests.get('passed', 0)} passed", tests=tests)
    if status == 4:
        raise exc.UsageError("pytest rejected the arguments (see above)")
    raise exc.GhostError(f"pytest exited with status {status}")


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


#: pytest options whose value is the next word (a path among them is not a test path).
_VALUE_OPTIONS = frozenset({
    "-k", "-m", "-p", "-c", "-o", "-W", "--rootdir", "--basetemp", "--confcutdir",
    "--junitxml", "--junit-xml", "--deselect", "--ignore", "--ignore-glob", "--log-file",
    "--override-ini", "--maxfail", "--durations", "--cov", "--cov-report", "--cov-config",
    "--import-mode", "--tb", "-r", "--capture", "--log-level", "--log-cli-level"})


def _pytest_args(args: list[str], root: Path) -> tuple[list[str], bool]:
    """The arguments for pytest, with the test paths among them (`tests/test_x.py`,
    `tests/unit`, `FILE::test_name`) made absolute, since pytest runs in the project
    root; and whether there were any: then only they run, as with pytest, not all of
    `tests/`."""
    out, named = [], False
    for i, arg in enumerate(args):
        before = args[i - 1] if i else ""
        path, sep, rest = arg.partition("::")
        candidate = Path(path)
        is_test_path = (not arg.startswith("-") and path and before not in _VALUE_OPTIONS
                        and candidate.exists()
                        and (sep or path.endswith(".py") or candidate.resolve().is_relative_to(
                            root.resolve())))
        if is_test_path:
            out.append(str(candidate.resolve()) + sep + rest)
            named = True
        else:
            out.append(arg)
    return out, named
