"""Sandbox call latency for the counter's `increment`, warm and in-process.

Figures from one run, on the counter built by `ghost build`, measured in rounds that
alternate between them (A B C A B C ...):
  - titanoboa (the baseline, when the bench extra is installed): a Vyper counter's
    `increment` through boa's in-process EVM, the closest tool Python developers use;
  - bare wasmtime-py: a fresh Store with fuel, instantiate, call `increment`, with every
    host import a Python function that does the least it can;
  - engine: ghost's WasmEngine.execute (limits, gas, bounds checks, the storage overlay);
  - sandbox call: a full `call` from a development account (trusted local: unsigned),
    ABI encoding, executor, a committed SQLite transaction with block, nonce, receipt
    and event rows, on a state file (as `ghost call` on the sandbox);
  - sandbox call, in memory: the same on an in-memory store, as `ghost test` runs;
  - sandbox call, signed: the same with an ML-DSA-65 signature made and verified, as
    any keystore key's transaction is.

    python bench/call_latency.py [--calls N] [--rounds R] [--cpu]

`--cpu` times each round by the process's CPU time (time.process_time) instead of the wall
clock: on a machine shared with other work, time spent waiting for a core then counts for
no one (every run here is single-threaded apart from wasmtime's epoch ticker).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import wasmtime

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.host_table import HOST_FUNCTIONS, HOST_MODULE
from ghost_cli.vm.types import CallContext

_VAL = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}


VYPER_COUNTER = """
count: public(uint256)

@external
def increment() -> uint256:
    self.count += 1
    return self.count
"""


CLOCK = time.perf_counter


def per_call(fn, calls: int) -> float:
    start = CLOCK()
    for _ in range(calls):
        fn()
    return (CLOCK() - start) / calls


def titanoboa_increment():
    """boa's counter `increment` as a mutating call, or None without titanoboa."""
    try:
        import boa
    except ImportError:
        return None
    counter = boa.loads(VYPER_COUNTER)
    return counter.increment


def bare_wasmtime(code: bytes):
    """The least a Python host can do per call: storage in a dict, nothing checked."""
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, code)
    linker = wasmtime.Linker(engine)
    storage: dict[bytes, bytes] = {}

    def mem(caller):
        return caller["memory"]

    def storage_read(caller, kp, kl, op, cap):
        value = storage.get(bytes(mem(caller).read(caller, kp, kp + kl)))
        if value is None:
            return -1
        mem(caller).write(caller, value[:cap], op)
        return len(value)

    def storage_write(caller, kp, kl, vp, vl):
        m = mem(caller)
        storage[bytes(m.read(caller, kp, kp + kl))] = bytes(m.read(caller, vp, vp + vl))

    def caller_fn(caller, op):
        mem(caller).write(caller, b"\x01" * 20, op)

    special = {"storage_read": storage_read, "storage_write": storage_write,
               "caller": caller_fn, "input_size": lambda caller: 0}
    for f in HOST_FUNCTIONS:
        ty = wasmtime.FuncType([_VAL[t] for _, t in f.params], [_VAL[t] for t in f.results])
        default = (lambda *a: 0) if f.results else (lambda *a: None)
        linker.define_func(HOST_MODULE, f.name, ty, special.get(f.name, default),
                           access_caller=True)

    def call() -> None:
        store = wasmtime.Store(engine)
        store.set_fuel(10_000_000)
        instance = linker.instantiate(store, module)
        instance.exports(store)["increment"](store)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500, help="calls per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cpu", action="store_true",
                        help="time by process CPU time instead of wall time")
    opts = parser.parse_args()
    if opts.cpu:
        global CLOCK
        CLOCK = time.process_time
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project("bench", "counter", Path(tmp) / "bench")
        [built] = build_project(load_project(root))
        code = built.path.read_bytes()
        with Sandbox(Path(tmp) / "bench.db") as sandbox, Sandbox(":memory:") as in_memory, \
                Sandbox(Path(tmp) / "signed.db", trust_dev_accounts=False) as signed:
            for each in (sandbox, in_memory, signed):
                each.deploy(code, name="counter")
            address = sandbox.resolve("counter")
            storage: dict[bytes, bytes | None] = {}
            ctx = CallContext(caller=sandbox.default_sender, address=address, input=b"",
                              gas_limit=10_000_000)

            def engine_call() -> None:
                out = sandbox.engines.execute(code, "increment", ctx, storage.get)
                storage.update(out.writes)

            runs = {
                "titanoboa counter increment": titanoboa_increment(),
                "bare wasmtime-py": bare_wasmtime(code),
                "ghost engine.execute": engine_call,
                "ghost sandbox call": lambda: sandbox.call("counter", "increment"),
                "ghost sandbox call, in memory": lambda: in_memory.call("counter", "increment"),
                "ghost sandbox call, signed": lambda: signed.call("counter", "increment"),
            }
            runs = {k: f for k, f in runs.items() if f is not None}
            for fn in runs.values():  # warm up
                per_call(fn, min(100, opts.calls))
            times: dict[str, list[float]] = {k: [] for k in runs}
            for _ in range(opts.rounds):
                for label, fn in runs.items():
                    times[label].append(per_call(fn, opts.calls))
    best = {k: min(v) for k, v in times.items()}
    base_label = next(iter(best))
    base = best[base_label]
    if base_label != "titanoboa counter increment":
        print("titanoboa is not installed (pip install -e '.[bench]'): "
              "the baseline is bare wasmtime-py")
    print(f"{'':32}{'us/call':>10}{'calls/s':>10}{'ratio':>8}   "
          f"(best of {opts.rounds} rounds of {opts.calls} warm calls, alternating"
          f"{'; CPU time' if opts.cpu else ''})")
    for label, t in best.items():
        print(f"{label:32}{t * 1e6:>10.1f}{1 / t:>10,.0f}{t / base:>7.2f}x")


if __name__ == "__main__":
    main()
