"""One-shot commands as a user runs them: whole-process time and peak memory.

Each figure has its floor measured in the same run, alternating A B A B:
  - `ghost call counter get` and `ghost query counter get` (sandbox) against a bare Typer
    app with as many commands as ghost's, whose `call`/`query` take the same arguments and
    do nothing: the least any Typer CLI pays to start and parse. Ghost answers them
    before Typer starts (cli/quick_call.py), without options and with the common ones;
    the same commands with an option (`--network sandbox`, the default network) are
    measured too, against the floor app given the same option;
  - `ghost build` (warm: nothing changed) against the bare `zig build-exe` command it
    runs (the same arguments, recorded from an in-process build), both with a Zig global
    cache of the bench's own.

    python bench/oneshot_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_APP = '''
from typing import Annotated, Optional
import typer

app = typer.Typer(add_completion=False, rich_markup_mode=None)


def _command(name):
    def command(
        contract: str,
        function: str,
        args: Annotated[Optional[list[str]], typer.Argument()] = None,
        network: Annotated[Optional[str], typer.Option("--network", "-n")] = None,
        gas_limit: Annotated[Optional[int], typer.Option("--gas-limit")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        pass

    app.command(name)(command)


for name in {names!r}:
    _command(name)
app()
'''


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def zig_argv(project: Path, out: Path) -> list[str]:
    """The exact Zig command `ghost build` runs for the project's contract (recorded from
    an in-process build), writing to `out`."""
    from ghost_cli.config.project import load_project
    from ghost_cli.toolchain import build, zig

    seen: list[list[str]] = []

    def recording(args, **kwargs):
        seen.append(list(args))
        return zig.run_zig(args, **kwargs)

    build.run_zig, original = recording, build.run_zig
    try:
        build.build_project(load_project(project), force=True)  # a real compile to record
    finally:
        build.run_zig = original
    [args] = [a for a in seen if a[0] == "build-exe"]
    args = [f"-femit-bin={out}" if a.startswith("-femit-bin=") else a for a in args]
    return zig.zig_command() + args


def command_names() -> list[str]:
    from ghost_cli.cli.main import app

    return [c.name or c.callback.__name__ for c in app.registered_commands] + [
        g.name for g in app.registered_groups]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    ghost = [sys.executable, "-m", "ghost_cli"]
    # As users run it: with bytecode caches (the warm-up runs write them), else every
    # process compiles ghost's modules again.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = tmp / "bench"
        # A Zig global cache of the bench's own (filled by the first build): a cache shared
        # with other work can make Zig's cache hits several times slower, flattering ghost.
        env["ZIG_GLOBAL_CACHE_DIR"] = os.environ["ZIG_GLOBAL_CACHE_DIR"] = str(tmp / "zig-global")
        for step in (["new", "bench", "--dir", str(project)], ["build"], ["deploy"]):
            subprocess.run([*ghost, *step], cwd=tmp if step[0] == "new" else project, env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        names = command_names()
        floor_py = tmp / "floor.py"
        floor_py.write_text(FLOOR_APP.format(names=names))
        floor = [sys.executable, str(floor_py)]
        zig = zig_argv(project, tmp / "direct.wasm")
        pairs = {
            f"{name}{opt}": ([*floor, name, "counter", "get", *option],
                             [*ghost, name, "counter", "get", *option])
            for opt, option in (("", []), (" -n", ["--network", "sandbox"]))
            for name in ("call", "query")
        }
        pairs["build"] = (zig, [*ghost, "build"])
        results: dict[str, tuple[list, list]] = {k: ([], []) for k in pairs}
        for cmds in pairs.values():  # warm the page cache and Zig's cache
            for cmd in cmds:
                run(cmd, project, env)
        for _ in range(runs):
            for key, (base, cmd) in pairs.items():
                results[key][0].append(run(base, project, env))
                results[key][1].append(run(cmd, project, env))

    print(f"{len(names)} commands; median of {runs} runs each, alternating baseline and ghost")
    print("(CPU: user + system time of the process, which waiting for a core does not add to)")
    print(f"{'':46}{'ms':>9}{'MiB':>8}{'ratio':>8}{'CPU ms':>9}{'ratio':>8}")
    for key, (base, mine) in results.items():
        label = "zig build-exe (baseline)" if key == "build" else f"typer floor {key}"
        name, _, opt = key.partition(" ")
        args = " --network sandbox" if opt else ""
        b_t, m_t = (statistics.median(t for t, _, _ in rows) for rows in (base, mine))
        b_c, m_c = (statistics.median(c for _, _, c in rows) for rows in (base, mine))
        b_m, m_m = (max(m for _, m, _ in rows) / 1024 for rows in (base, mine))
        print(f"{label:46}{b_t * 1000:9.1f}{b_m:8.1f}{'':8}{b_c * 1000:9.1f}")
        cmd = "ghost build (warm)" if key == "build" else f"ghost {name} counter get{args}"
        print(f"{cmd:46}{m_t * 1000:9.1f}{m_m:8.1f}{m_t / b_t:7.2f}x{m_c * 1000:9.1f}"
              f"{m_c / b_c:7.2f}x")


if __name__ == "__main__":
    main()
