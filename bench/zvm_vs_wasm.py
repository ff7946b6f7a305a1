"""The counter built for WebAssembly and for ZVM (lowered), the same calls on both.

Baseline: the wasm build on ghost's WebAssembly engine (wasmtime). Measured in the same
run: the zvm build (`ghost build --target zvm`) on the ZVM interpreter. For each call:
gas used (from sandbox receipts, TX_BASE included) and the engine's time per call (the
engine alone, warm, storage in a dict, no signing or SQLite), the two engines timed in
turns (wasm, zvm, wasm, zvm, ...), best round of each. Also code size and deploy gas.

    python bench/zvm_vs_wasm.py [--calls N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ghost_cli.abi import encode_call
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.types import CallContext

CALLS = (("increment", []), ("add", [3]), ("get", []))


ROUNDS = 5


def per_call(fns: dict, calls: int) -> dict:
    """Seconds per call of each function: warmed up, then timed in turns (wasm, zvm, wasm,
    zvm, ...) over ROUNDS rounds of calls/ROUNDS calls each; the best round counts."""
    for fn in fns.values():
        for _ in range(min(20, calls)):  # warm up: module caches, compiled blocks, Python's own
            fn()
    chunk = max(1, calls // ROUNDS)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(chunk):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / chunk)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        project = load_project(new_project("bench", "counter", Path(tmp) / "bench"))
        code = {t: build_project(project, target=t)[0].path.read_bytes() for t in ("wasm", "zvm")}
        with Sandbox(Path(tmp) / "bench.db") as sandbox:
            deploy = {t: sandbox.deploy(code[t], name=t).gas_used for t in code}
            abi = sandbox.executor.abi_of(sandbox.resolve("wasm"))
            rows = []
            for function, args in CALLS:
                gas = {t: sandbox.call(t, function, args).gas_used for t in code}
                runs = {}
                for t in code:
                    ctx = CallContext(caller=sandbox.default_sender, address=sandbox.resolve(t),
                                      input=encode_call(abi.function(function), args),
                                      gas_limit=10_000_000)
                    storage: dict[bytes, bytes | None] = {}

                    def run(t=t, ctx=ctx, storage=storage, function=function) -> None:
                        out = sandbox.engines.execute(code[t], function, ctx, storage.get)
                        storage.update(out.writes)

                    runs[t] = run
                seconds = per_call(runs, calls)
                rows.append((function, gas, seconds))

    print(f"counter: code {len(code['wasm']):,} B wasm, {len(code['zvm']):,} B zvmc; deploy gas "
          f"{deploy['wasm']:,} wasm, {deploy['zvm']:,} zvm ({deploy['zvm'] / deploy['wasm']:.2f}x)")
    print(f"{'call':12}{'gas wasm':>10}{'gas zvm':>10}{'ratio':>8}"
          f"{'us wasm':>10}{'us zvm':>10}{'ratio':>8}   "
          f"(baseline: wasm; {calls} warm calls each, in turns)")
    for function, gas, seconds in rows:
        print(f"{function:12}{gas['wasm']:>10,}{gas['zvm']:>10,}{gas['zvm'] / gas['wasm']:>7.2f}x"
              f"{seconds['wasm'] * 1e6:>10.0f}{seconds['zvm'] * 1e6:>10.0f}"
              f"{seconds['zvm'] / seconds['wasm']:>7.2f}x")


if __name__ == "__main__":
    main()
