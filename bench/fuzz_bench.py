"""Fuzz executions per second on the sandbox, WebAssembly and ZVM, beside the bare call
rate: the counter template's `add(n)` sent as plain transactions through the test
environment (the baseline) and run by the `fuzz` fixture's engine (`Fuzz`, hypothesis
drawing n, each example inside a snapshot that is rolled back), alternating A B A B.
The isolated-call figure (plain calls, each in its own snapshot) shows what of the
difference is the rollback and what is hypothesis.

    python bench/fuzz_bench.py [--runs N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def build(root: Path, target: str) -> dict[str, Path]:
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    project = new_project("count", "counter", root / target)
    return {r.name: r.path for r in build_project(load_project(project), target=target)}


def bare(counter, runs: int) -> float:
    start = time.perf_counter()
    for i in range(runs):
        counter.add(i)
    return runs / (time.perf_counter() - start)


def isolated(env, counter, runs: int) -> float:
    start = time.perf_counter()
    for i in range(runs):
        with env.isolated():
            counter.add(i)
    return runs / (time.perf_counter() - start)


def fuzzed(env, counter, runs: int, seed: int) -> float:
    from ghost_cli.testing.fuzz import Fuzz, FuzzSettings

    before = len(env.gas_records)  # one per call, reverted ones included
    start = time.perf_counter()
    Fuzz(env, FuzzSettings(runs=runs, seed=seed))(counter.add)
    return (len(env.gas_records) - before) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=256, help="examples / calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from ghost_cli.chain.sandbox import Sandbox
    from ghost_cli.testing.env import GhostEnv

    with tempfile.TemporaryDirectory() as tmp:
        for target in ("wasm", "zvm"):
            sandbox = Sandbox(":memory:")
            env = GhostEnv(sandbox, build(Path(tmp), target), target=target)
            counter = env.deploy("counter")
            bare(counter, 20)  # warm the module cache
            a, b, c = [], [], []
            for r in range(args.rounds):  # A B A B, each round from the same state
                with env.isolated():
                    a.append(bare(counter, args.runs))
                b.append(fuzzed(env, counter, args.runs, seed=r))
                c.append(isolated(env, counter, args.runs))
            sandbox.close()
            base, fz, iso = (statistics.median(x) for x in (a, b, c))
            print(f"{target:>4}: bare calls {base:8.0f}/s (baseline), fuzz executions "
                  f"{fz:8.0f}/s, ratio {fz / base:.3f}; isolated calls {iso:8.0f}/s "
                  f"({args.rounds} rounds of {args.runs}, medians)")


if __name__ == "__main__":
    main()
