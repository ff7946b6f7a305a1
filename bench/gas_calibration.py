"""Gas calibration: wall time per unit of gas for every host call, against plain arithmetic.

    python bench/gas_calibration.py [--quick] [--only NAME] [--engine wasm|zvm|both] [--json]

Gas is only a fair bound on a call if one unit of gas buys about the same wall time
whatever the contract spends it on. This bench runs, on each engine, a loop of plain
arithmetic (the baseline) and one loop per host function, alternating baseline and row
(A B A B ...) and keeping each one's best run, and prints ns per gas, the ratio to the
arithmetic loop on the same engine, and whether it meets the goal (ratio <= GOAL).

Host calls run with the cheapest arguments that still do the work a contract can ask for
(32-byte keys, values and messages; malformed keys and signatures, which cost the
least gas): the worst case per unit of gas, which is the one that matters.

ZVM rows use the interpreter as it is: a NOP loop, an arithmetic loop (the baseline),
one HOSTCALL loop per host function, and one loop per post-quantum verify opcode and
parameter set (PQ_VERIFY_DILITHIUM, PQ_VERIFY_SPHINCS, priced by vm/zvm/handlers/pq.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ghost_cli.vm.gas import HOST_RATIO_GOAL as GOAL  # docs/host-abi.md: 20x arithmetic

CALLER = b"\x11" * 20
ADDRESS = b"\x22" * 20
INPUT = bytes(range(40))  # ZVM's input_* see it after the 4-byte selector
GAS = 10**12

# Memory layout for the host-call loops (wasm memory / ZVM memory): a 32-byte key at 0,
# a topic at 0, data/messages at 256, outputs at 512.., all inside the first page.
KEY, DATA, OUT, OUT2, OUT3 = 0, 256, 512, 1024, 1536

#: Arguments of each host function in the loops, in parameter order.
HOST_ARGS: dict[str, tuple[int, ...]] = {
    "storage_read": (KEY, 32, OUT, 32),
    "storage_write": (KEY, 32, DATA, 32),
    "storage_delete": (KEY, 32),
    "storage_has": (KEY, 32),
    "input_size": (),
    "input_copy": (OUT, 0, 32),
    "set_return": (DATA, 32),
    "emit_event": (KEY, 1, DATA, 32),
    "caller": (OUT,),
    "self_address": (OUT,),
    "block_height": (),
    "block_time": (),
    "chain_id": (),
    "gas_left": (),
    "debug_log": (DATA, 32),
    "hash_sha256": (DATA, 32, OUT),
    "hash_keccak256": (DATA, 32, OUT),
    "hash_blake2b256": (DATA, 32, OUT),
    "sig_verify": (DATA, 32, OUT, 32, OUT2, 64),
    "multisig_verify": (DATA, 8, OUT, 32, OUT2, 8),
    "bls_aggregate_verify": (DATA, 0, OUT, 0, OUT2, 32, OUT3, 96),
    "kem_encapsulate": (DATA, 32, OUT, 32, OUT2, OUT3),
    "kem_decapsulate": (DATA, 32, OUT, 32, OUT2),
    "keygen_seeded": (0, DATA, 32, OUT, 64),
    "merkle_verify": (DATA, OUT, KEY, 32, OUT2, 32, OUT3, 8),
}
#: Not benched: it ends the call (its price is per byte of the reason, like set_return).
SKIPPED = {"revert": "ends the call; priced like set_return",
           "panic": "ends the call (the SDK traps right after it); priced like debug_log"}


@dataclass
class Row:
    engine: str
    name: str
    ns_per_gas: float
    gas_per_iter: float
    ns_per_iter: float
    ratio: float = 0.0

    def to_json(self) -> dict:
        return {"engine": self.engine, "name": self.name, "ns_per_gas": self.ns_per_gas,
                "gas_per_iteration": self.gas_per_iter, "ns_per_iteration": self.ns_per_iter,
                "ratio_to_arithmetic": self.ratio, "meets_goal": self.ratio <= GOAL}


# ---- wasm --------------------------------------------------------------------------------


def _wasm_loop(body: str) -> bytes:
    import wasmtime

    from ghost_cli.vm.host_table import HOST_FUNCTIONS

    imports = []
    for f in HOST_FUNCTIONS:
        params = " ".join(t for _, t in f.params)
        results = " ".join(f.results)
        sig = (f" (param {params})" if params else "") + (f" (result {results})" if results else "")
        imports.append(f'(import "ghost" "{f.name}" (func ${f.name}{sig}))')
    return wasmtime.wat2wasm(f"""(module {' '.join(imports)}
      (memory (export "memory") 1)
      (func (export "run") (local $i i32) (local $a i32)
        (call $input_copy (i32.const 4096) (i32.const 0) (i32.const 4))
        (local.set $i (i32.load (i32.const 4096)))
        (block $done (loop $top
          (br_if $done (i32.eqz (local.get $i)))
          {body}
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br $top)))
        (drop (local.get $a))))""")


WASM_ARITHMETIC = (
    "(local.set $a (i32.add (i32.mul (local.get $a) (i32.const 31)) (local.get $i)))" * 4)


def _wasm_host_body(name: str) -> str:
    from ghost_cli.vm.host_table import BY_NAME

    call = f"(call ${name} {' '.join(f'(i32.const {a})' for a in HOST_ARGS[name])})"
    return f"(drop {call})" if BY_NAME[name].results else call


class WasmRunner:
    def __init__(self) -> None:
        from ghost_cli.vm.types import Limits
        from ghost_cli.vm.wasm import WasmEngine

        self.engine = WasmEngine(Limits(timeout_seconds=60.0))

    def make(self, body: str) -> Callable[[int], tuple[float, int]]:
        from ghost_cli.vm.types import CallContext

        code = _wasm_loop(body)
        self.engine.load(code)  # compile outside the timing

        def run(iterations: int) -> tuple[float, int]:
            # The loop count is the first 4 bytes of the call data.
            data = iterations.to_bytes(4, "little") + INPUT[4:]
            ctx = CallContext(CALLER, ADDRESS, data, GAS)
            start = time.perf_counter()
            outcome = self.engine.execute(code, "run", ctx, {}.get)
            return time.perf_counter() - start, outcome.gas_used

        return run


# ---- ZVM ---------------------------------------------------------------------------------


def _zvm_loop(body: str) -> str:
    return f"""
        PUSH4 {{n}}
loop:   JUMPDEST
        DUP1
        ISZERO
        PUSH2 @end
        JUMPI
{body}
        PUSH1 1
        SWAP1
        SUB
        PUSH2 @loop
        JUMP
end:    JUMPDEST
        POP
        HALT
"""


ZVM_NOP = "\n".join(["        NOP"] * 16)
ZVM_ARITHMETIC = "\n".join(["        PUSH1 31", "        PUSH1 7", "        MUL",
                            "        PUSH1 5", "        ADD", "        POP"] * 4)


def _zvm_host_body(name: str) -> str:
    from ghost_cli.vm.host_table import BY_NAME

    lines = [f"        PUSH4 {a}" for a in reversed(HOST_ARGS[name])]  # first param on top
    lines.append(f"        HOSTCALL {name}")
    if BY_NAME[name].results:
        lines.append("        POP")
    return "\n".join(lines)


def _zvm_pq_rows() -> dict[str, str]:
    """One loop body per post-quantum parameter set: a 32-byte message, and a signature
    and key of the right lengths, all zeros (verified all the same, then refused)."""
    import importlib

    from ghost_cli.vm.zvm.handlers.pq import ML_DSA_SETS, SLH_DSA_SETS

    sets = [("PQ_VERIFY_DILITHIUM", p, name) for p, name in ML_DSA_SETS.items()]
    sets += [("PQ_VERIFY_SPHINCS", i, name) for i, name in enumerate(SLH_DSA_SETS)]
    rows = {}
    for op, param, name in sets:
        scheme = importlib.import_module(f"pqcrypto.sign.{name}")
        sig, pk = scheme.SIGNATURE_SIZE, scheme.PUBLIC_KEY_SIZE
        operands = (0, 32, 64, sig, 64 + sig, pk, param)  # msgOff first: pushed last
        lines = [f"        PUSH4 {a}" for a in reversed(operands)]
        rows[f"{op.split('_')[-1].lower()}:{name}"] = "\n".join([*lines, f"        {op}",
                                                                 "        POP"])
    return rows


class ZvmRunner:
    def __init__(self) -> None:
        from ghost_cli.vm.types import Limits
        from ghost_cli.vm.zvm.engine import ZvmEngine

        self.engine = ZvmEngine(Limits(timeout_seconds=600.0))

    def make(self, body: str) -> Callable[[int], tuple[float, int]]:
        from ghost_cli.vm.types import CallContext
        from ghost_cli.vm.zvm import assemble, encode_zvmc

        source = _zvm_loop(body)
        loaded: dict[int, tuple[object, bytes]] = {}

        def run(iterations: int) -> tuple[float, int]:
            if iterations not in loaded:
                blob = encode_zvmc(assemble(source.format(n=iterations)))
                loaded[iterations] = (self.engine.load(blob), blob)
            contract, blob = loaded[iterations]
            ctx = CallContext(CALLER, ADDRESS, INPUT, GAS)
            start = time.perf_counter()
            result = self.engine.run_message(contract, blob, INPUT, ctx, {}.get)
            return time.perf_counter() - start, result.gas_used + result.refund

        return run


# ---- measuring ---------------------------------------------------------------------------


def _iterations(run: Callable[[int], tuple[float, int]], target_s: float) -> int:
    """A loop count whose run takes about `target_s`."""
    fixed = min(run(1)[0] for _ in range(3))  # also warms up
    n = 16
    while True:
        seconds, _ = run(n)
        if seconds >= max(target_s / 8, 20 * fixed) or n >= 1 << 26:
            return max(16, int(n * target_s / max(seconds, 1e-9)))
        n *= 4


class Loop:
    """One loop, run at n iterations and at 1: the difference cancels the fixed cost of
    the call itself (instantiation, setup); the best round counts."""

    def __init__(self, run: Callable[[int], tuple[float, int]], target_s: float) -> None:
        self.run = run
        self.n = _iterations(run, target_s)
        self.best_n = self.best_1 = float("inf")
        self.gas_n = self.gas_1 = 0

    def round(self) -> None:
        t1, self.gas_1 = self.run(1)
        tn, self.gas_n = self.run(self.n)
        self.best_1, self.best_n = min(self.best_1, t1), min(self.best_n, tn)

    @property
    def per_iteration(self) -> tuple[float, float]:
        """(ns, gas) per iteration."""
        return ((max(self.best_n - self.best_1, 1e-12)) * 1e9 / (self.n - 1),
                (self.gas_n - self.gas_1) / (self.n - 1))


def measure(engine: str, name: str, run: Callable[[int], tuple[float, int]],
            baseline: Loop, target_s: float, rounds: int) -> tuple[Row, Row]:
    """Alternate baseline and row (A B A B ...), each keeping its fastest round."""
    loop = Loop(run, target_s)
    for _ in range(rounds):
        baseline.round()
        loop.round()
    a_ns, a_gas = baseline.per_iteration
    b_ns, b_gas = loop.per_iteration
    arith = Row(engine, "arithmetic", a_ns / a_gas, a_gas, a_ns, 1.0)
    row = Row(engine, name, b_ns / max(b_gas, 1e-9), b_gas, b_ns)
    row.ratio = row.ns_per_gas / arith.ns_per_gas
    return arith, row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer rounds")
    parser.add_argument("--only", action="append", default=[],
                        help="bench only these rows (host function names, 'nop', "
                        "'pq' or one ZVM verify row such as 'sphincs:slh_dsa_shake_256f'); "
                        "repeatable")
    parser.add_argument("--engine", choices=("wasm", "zvm", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    target_s, rounds = (0.05, 3) if args.quick else (0.2, 5)

    from ghost_cli.vm.gas import HOST_GAS_PER_US, HOST_PRICES

    names = [n for n in HOST_PRICES if n not in SKIPPED]
    if args.only:
        names = [n for n in names if n in args.only]
    rows: list[Row] = []
    baselines: dict[str, Row] = {}

    def note(arith: Row, row: Row) -> None:
        rows.append(row)
        best = baselines.get(arith.engine)
        if best is None or arith.ns_per_gas < best.ns_per_gas:
            baselines[arith.engine] = arith
        if not args.json:
            flag = "ok" if row.ratio <= GOAL else "OVER"
            print(f"  {row.engine:4} {row.name:30} {row.ns_per_gas:10.3f} ns/gas "
                  f"{row.gas_per_iter:>11,.0f} gas/call {row.ns_per_iter / 1e3:9.2f} µs/call "
                  f"x{row.ratio:8.2f} (arith {arith.ns_per_gas:.3f})  {flag}", flush=True)

    if not args.json:
        print(f"goal: ns/gas of every row <= {GOAL:g}x the arithmetic loop on the same engine; "
              f"HOST_GAS_PER_US = {HOST_GAS_PER_US}")
        print(f"  {'eng':4} {'row':30} {'ns/gas':>17} {'gas/iteration':>20} "
              f"{'time/iteration':>17} {'ratio':>9}")
    if args.engine in ("wasm", "both"):
        wasm = WasmRunner()
        base = Loop(wasm.make(WASM_ARITHMETIC), target_s)
        for name in names:
            note(*measure("wasm", name, wasm.make(_wasm_host_body(name)), base, target_s,
                          rounds))
    if args.engine in ("zvm", "both"):
        zvm = ZvmRunner()
        base = Loop(zvm.make(ZVM_ARITHMETIC), target_s)
        if not args.only or "nop" in args.only:
            note(*measure("zvm", "nop", zvm.make(ZVM_NOP), base, target_s, rounds))
        for name in names:
            note(*measure("zvm", name, zvm.make(_zvm_host_body(name)), base, target_s, rounds))
        # Opcodes that do a host's work of their own: post-quantum verification.
        for name, body in _zvm_pq_rows().items():
            if not args.only or name in args.only or "pq" in args.only:
                note(*measure("zvm", name, zvm.make(body), base, target_s, rounds))

    over = [r for r in rows if r.ratio > GOAL]
    if args.json:
        print(json.dumps({"goal": GOAL, "host_gas_per_us": HOST_GAS_PER_US,
                          "baselines": {k: v.to_json() for k, v in baselines.items()},
                          "rows": [r.to_json() for r in rows], "skipped": SKIPPED,
                          "over_goal": [f"{r.engine}:{r.name}" for r in over]}, indent=2))
    else:
        for engine, arith in baselines.items():
            print(f"baseline {engine}: arithmetic loop {arith.ns_per_gas:.3f} ns/gas "
                  f"({arith.gas_per_iter:.0f} gas per iteration)")
        print(f"skipped: {', '.join(f'{k} ({v})' for k, v in SKIPPED.items())}")
        print(f"rows over the {GOAL:g}x goal: {', '.join(f'{r.engine}:{r.name}' for r in over)}"
              if over else f"every row within {GOAL:g}x of arithmetic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
