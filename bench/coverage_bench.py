"""What `ghost test --coverage` costs: the same calls with no collector (the baseline) and
with a coverage collector switched on (probed wasm modules, the ZVM step hook),
alternating A B A B, on WebAssembly and ZVM. Two workloads, as a test suite makes them:

- token: transfers and balance queries of the token template (host calls dominate);
- arithmetic: mul_div_u256 of the arithmetic template (Zig's u256 division: long
  stretches of plain code, the worst case for probes and for stepping).

Every call's gas is checked to be the same in both modes.

    python bench/coverage_bench.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

WORKLOADS = {
    "token": ("token", "tok", [1000], lambda sb, i: (
        sb.call("tok", "transfer", [b"\x11" * 20, 1]).gas_used,
        sb.query("tok", "balance_of", [sb.default_sender]).gas_used)),
    "arithmetic": ("arithmetic", "math", None, lambda sb, i: (
        sb.query("math", "mul_div_u256", [2**200 + i, 3**90, 7**50 + 1]).gas_used,)),
}


def build(root: Path, template: str, target: str):
    """The template's project and its built contract."""
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    project = load_project(new_project(template, template, root / f"{template}-{target}"))
    [result] = build_project(project, target=target)
    return project, Path(result.path).read_bytes()


def run(sb, calls: int, step, collector) -> tuple[float, list]:
    from ghost_cli.vm.coverage import collecting

    gas: list = []
    start = time.perf_counter()
    if collector is None:
        for i in range(calls):
            gas += step(sb, i)
    else:
        with collecting(collector):
            for i in range(calls):
                gas += step(sb, i)
    return (time.perf_counter() - start) / calls, gas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from ghost_cli.chain.sandbox import Sandbox
    from ghost_cli.testing.coverage import Collector, project_filter

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for workload, (template, name, init, step) in WORKLOADS.items():
            for target in ("wasm", "zvm"):
                project, code = build(root, template, target)
                # one per session, probing what ghost test probes
                collector = Collector(project_filter(project))
                with Sandbox(":memory:") as sb:
                    sb.deploy(code, name=name, args=init or [])
                    run(sb, 5, step, None)  # warm the module caches
                    run(sb, 5, step, collector)
                    off, on = [], []
                    for _ in range(args.rounds):
                        a, gas_a = run(sb, args.calls, step, None)
                        b, gas_b = run(sb, args.calls, step, collector)
                        if gas_a != gas_b:
                            raise SystemExit(f"{workload} {target}: gas differs with coverage")
                        off.append(a)
                        on.append(b)
                a, b = statistics.median(off), statistics.median(on)
                print(f"{workload:>10} {target:>4}: plain {a * 1e3:8.3f} ms/step (baseline), "
                      f"coverage {b * 1e3:8.3f} ms/step, ratio {b / a:6.2f}x "
                      f"(gas identical; {args.rounds} rounds of {args.calls}, medians)")


if __name__ == "__main__":
    main()
