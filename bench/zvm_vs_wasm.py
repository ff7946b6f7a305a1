"""A template built for WebAssembly and for ZVM (lowered), the same calls on both.

Baseline: the wasm build on ghost's WebAssembly engine (wasmtime). Measured in the same
run: the zvm build (`ghost build --target zvm`) on the ZVM interpreter. For each call:
gas used (from sandbox receipts, TX_BASE included) and the engine's time per call (the
engine alone, warm, no signing or SQLite; storage is the deployed contract's, with the
call's own writes kept in a dict), the two engines timed in turns (wasm, zvm, wasm, zvm,
...), best round of each. Also code size and deploy gas.

    python bench/zvm_vs_wasm.py [--calls N] [--template counter|token|arithmetic]
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

#: template -> (constructor arguments, the calls: function and arguments; "to" is an
#: account other than the caller)
TEMPLATES = {
    "counter": ((), (("increment", []), ("add", [3]), ("get", []))),
    "token": ((10**9,), (("transfer", ["to", 1]), ("balance_of", ["to"]),
                         ("total_supply", []))),
    "arithmetic": ((), (("add_u64", [2**40, 7]), ("mul_u128", [2**60, 3**20]),
                        ("mul_div_u256", [2**100, 3**50, 7**30]), ("accumulate", [5]))),
}


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
    parser.add_argument("--template", choices=sorted(TEMPLATES), default="counter")
    opts = parser.parse_args()
    calls, template = opts.calls, opts.template
    ctor_args, functions = TEMPLATES[template]
    with tempfile.TemporaryDirectory() as tmp:
        project = load_project(new_project("bench", template, Path(tmp) / "bench"))
        code = {t: build_project(project, target=t)[0].path.read_bytes() for t in ("wasm", "zvm")}
        with Sandbox(Path(tmp) / "bench.db") as sandbox:
            deploy = {t: sandbox.deploy(code[t], list(ctor_args), name=t).gas_used
                      for t in code}
            abi = sandbox.executor.abi_of(sandbox.resolve("wasm"))
            other = sandbox.accounts[1]
            rows = []
            for function, args in functions:
                args = [other if a == "to" else a for a in args]
                gas = {t: sandbox.call(t, function, args).gas_used for t in code}
                runs = {}
                for t in code:
                    address = sandbox.resolve(t)
                    ctx = CallContext(caller=sandbox.default_sender, address=address,
                                      input=encode_call(abi.function(function), args),
                                      gas_limit=10_000_000)
                    written: dict[bytes, bytes | None] = {}

                    def storage(key: bytes, written=written, address=address) -> bytes | None:
                        if key in written:
                            return written[key]
                        return sandbox.store.storage_get(address, key)

                    def run(t=t, ctx=ctx, storage=storage, written=written,
                            function=function) -> None:
                        out = sandbox.engines.execute(code[t], function, ctx, storage)
                        written.update(out.writes)

                    runs[t] = run
                seconds = per_call(runs, calls)
                rows.append((function, gas, seconds))

    print(f"{template}: code {len(code['wasm']):,} B wasm, {len(code['zvm']):,} B zvmc; deploy gas "
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
