"""Whole-process time of `ghost --help`, against `python -c "import typer"` in the same run.

The two commands take turns (typer, ghost, typer, ghost, ...); each line is the median
of its runs.

    python bench/help_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    typer_cmd = [sys.executable, "-c", "import typer"]
    ghost_cmd = [sys.executable, "-m", "ghost_cli", "--help"]
    for cmd in (typer_cmd, ghost_cmd) * 2:  # warm the page cache
        seconds(cmd)
    times: dict[str, list[float]] = {"typer": [], "ghost": []}
    for _ in range(runs):
        times["typer"].append(seconds(typer_cmd))
        times["ghost"].append(seconds(ghost_cmd))
    baseline, ghost = (statistics.median(times[k]) for k in ("typer", "ghost"))
    print(f"python -c 'import typer' : {baseline * 1000:7.1f} ms (median of {runs}, alternating)")
    print(f"ghost --help             : {ghost * 1000:7.1f} ms (median of {runs}, alternating)")
    print(f"ratio ghost/baseline     : {ghost / baseline:7.2f}x")


if __name__ == "__main__":
    main()
