"""Whole-process time of `ghost --help`, against `python -c "import typer"` in the same run.

    python bench/help_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    median_seconds([sys.executable, "-m", "ghost_cli", "--help"], 2)  # warm the page cache
    baseline = median_seconds([sys.executable, "-c", "import typer"], runs)
    ghost = median_seconds([sys.executable, "-m", "ghost_cli", "--help"], runs)
    print(f"python -c 'import typer' : {baseline * 1000:7.1f} ms (median of {runs})")
    print(f"ghost --help             : {ghost * 1000:7.1f} ms (median of {runs})")
    print(f"ratio ghost/baseline     : {ghost / baseline:7.2f}x")


if __name__ == "__main__":
    main()
