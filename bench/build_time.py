"""`ghost build` cold and warm, against invoking Zig directly on the same source.

Cold: empty Zig global and local caches (a fresh directory each), as on a new machine.
Warm: the same build again. The baseline is the bare `zig build-exe` command ghost runs,
timed the same way, so the ratio is ghost's own overhead (ABI extraction, metadata,
import checks, process start-up).

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
        zig = [sys.executable, "-m", "ziglang", "build-exe", "-target", "wasm32-freestanding",
               "-fno-entry", "-rdynamic", "-O", "ReleaseSmall", "--dep", "ghost",
               "-Mroot=src/counter.zig", "-Mghost=lib/ghost.zig", "--name", "counter",
               "-femit-bin=" + str(tmp / "direct.wasm")]

        def fresh_env(tag: str) -> dict[str, str]:
            cache = tmp / f"cache-{tag}"
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(project / ".ghost", ignore_errors=True)
            shutil.rmtree(project / ".zig-cache", ignore_errors=True)
            return {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache),
                    "ZIG_LOCAL_CACHE_DIR": str(tmp / f"local-{tag}")}

        env = fresh_env("zig")
        zig_cold = timed(zig, project, env)
        zig_warm = statistics.median(timed(zig, project, env) for _ in range(runs))
        env = fresh_env("ghost")
        ghost_cold = timed([*ghost, "build"], project, env)
        ghost_warm = statistics.median(timed([*ghost, "build"], project, env) for _ in range(runs))

    print(f"{'':22}{'cold':>10}{'warm':>10}   (warm: median of {runs})")
    print(f"{'zig build-exe (base)':22}{zig_cold:>9.2f}s{zig_warm:>9.2f}s")
    print(f"{'ghost build':22}{ghost_cold:>9.2f}s{ghost_warm:>9.2f}s")
    print(f"{'ratio ghost/zig':22}{ghost_cold / zig_cold:>9.2f}x{ghost_warm / zig_warm:>9.2f}x")


if __name__ == "__main__":
    main()
