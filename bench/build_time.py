"""`ghost build` cold and warm, against invoking Zig directly on the same source.

Cold: empty Zig global and local caches (a fresh directory each), as on a new machine.
Warm: the same build again, nothing changed: `ghost build` answers from its build stamp
without starting Zig; `ghost build --force` compiles from Zig's warm caches, so its ratio
is ghost's own overhead over Zig (ABI extraction, metadata, import checks, start-up).
The baseline is the bare `zig build-exe` command ghost runs (recorded from a build, as
bench/oneshot_bench.py does), timed the same way; warm runs take turns (zig, ghost,
ghost --force, zig, ...).

    python bench/build_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oneshot_bench import zig_argv  # bench/ is the script's directory: on sys.path


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="warm runs per measurement")
    runs = parser.parse_args().runs
    ghost = [sys.executable, "-m", "ghost_cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = tmp / "bench"
        subprocess.run([*ghost, "new", "bench", "--dir", str(project)], check=True,
                       stdout=subprocess.DEVNULL)
        # The very command `ghost build` runs (recorded from a build), not a look-alike; its
        # generated root file is kept apart, as each cold run below empties .ghost/.
        zig = zig_argv(project, tmp / "direct.wasm")
        root = tmp / "ghost-root.zig"
        for i, arg in enumerate(zig):
            if arg.startswith("-Mroot="):
                shutil.copy(project / arg.removeprefix("-Mroot="), root)
                zig[i] = f"-Mroot={root}"
            elif zig[i - 1] == "--cache-dir":
                zig[i] = str(tmp / "zig-local")

        def fresh_env(tag: str) -> dict[str, str]:
            cache = tmp / f"cache-{tag}"
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(project / ".ghost", ignore_errors=True)
            shutil.rmtree(project / ".zig-cache", ignore_errors=True)
            return {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache),
                    "ZIG_LOCAL_CACHE_DIR": str(tmp / f"local-{tag}")}

        zig_env = fresh_env("zig")
        zig_cold = timed(zig, project, zig_env)
        env = fresh_env("ghost")
        ghost_cold = timed([*ghost, "build"], project, env)
        warm: dict[str, list[float]] = {"zig": [], "ghost": [], "force": []}
        for _ in range(runs):
            warm["zig"].append(timed(zig, project, zig_env))
            warm["ghost"].append(timed([*ghost, "build"], project, env))
            warm["force"].append(timed([*ghost, "build", "--force"], project, env))
        zig_warm, ghost_warm, force_warm = (statistics.median(warm[k]) for k in warm)

    print(f"{'':24}{'cold':>10}{'warm':>10}   (warm: median of {runs}, in turns)")
    print(f"{'zig build-exe (base)':24}{zig_cold:>9.2f}s{zig_warm:>9.2f}s")
    print(f"{'ghost build':24}{ghost_cold:>9.2f}s{ghost_warm:>9.2f}s"
          f"{ghost_cold / zig_cold:>9.2f}x{ghost_warm / zig_warm:>9.2f}x")
    print(f"{'ghost build --force':24}{'':>10}{force_warm:>9.2f}s"
          f"{'':>10}{force_warm / zig_warm:>9.2f}x")


if __name__ == "__main__":
    main()
