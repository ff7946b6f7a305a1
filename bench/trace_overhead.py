"""What a call trace costs: sandbox queries of the token template with no recorder (the
baseline) and with a `-v` recorder switched on (vm/trace.py), alternating A B A B, on
WebAssembly and ZVM. The contract function reads storage twice per query (balance_of),
so host calls dominate what tracing adds.

    python bench/trace_overhead.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def build(root: Path, target: str) -> bytes:
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    project = new_project("tok", "token", root / target)
    [result] = build_project(load_project(project), target=target)
    return Path(result.path).read_bytes()


def per_call(sb, calls: int, recorder) -> float:
    from ghost_cli.vm.trace import recording

    who = sb.default_sender
    start = time.perf_counter()
    for _ in range(calls):
        if recorder is None:
            sb.query("tok", "balance_of", [who])
        else:
            with recording(recorder):
                sb.query("tok", "balance_of", [who])
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from ghost_cli.chain.sandbox import Sandbox
    from ghost_cli.vm.trace import Recorder

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for target in ("wasm", "zvm"):
            code = build(root, target)
            with Sandbox(root / f"{target}.db") as sb:
                sb.deploy(code, [1000], name="tok")  # init(supply) is the constructor
                per_call(sb, 20, None)  # warm the module caches
                off, on = [], []
                for _ in range(args.rounds):
                    off.append(per_call(sb, args.calls, None))
                    on.append(per_call(sb, args.calls, Recorder(1)))
                a, b = statistics.median(off), statistics.median(on)
                print(f"{target:>4}: trace off {a * 1e6:8.1f} us/query (baseline), "
                      f"-v on {b * 1e6:8.1f} us/query, ratio {b / a:.3f} "
                      f"({args.rounds} rounds of {args.calls}, medians)")


if __name__ == "__main__":
    main()
