"""A node's core without a transport: signed ML-DSA-65 `counter.increment` calls through
`NodeCore.send_transaction`, from one caller and from many at once.

    python bench/node_core_bench.py [--txs 1200] [--callers 50] [--rounds 3]

The core is the one `ghost node start` runs (durable SQLite: WAL, an fsync per commit),
opened in this process; every call is signed before the clock starts, and the core
verifies it as it would a call from the network. The baseline is the same calls from one
caller, one after another (each its own commit); the other run has `--callers` threads
calling at once, which group commit serves with one commit per group. Rounds alternate
(one caller, many callers, ...); the best round of each is shown, with the process's CPU
time per call. Compared with bench/node_bench.py, this is the ceiling a transport leaves
room for.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from node_bench import CHAIN_ID, build_counter

from ghost_cli.chain.transaction import SignedTransaction, Transaction, sign_single
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.core import NodeCore


def deploy(core: NodeCore, code: bytes) -> bytes:
    key = KeyPair.generate("ml-dsa-65", b"\xaa" * 32)
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=0, kind="deploy",
                     gas_limit=10_000_000, expiry=int(time.time()) + 3600, code=code,
                     label="counter")
    return core.send_transaction(sign_single(tx, key.secret_key, key.public_key),
                                 now=time.time()).address


def signed_calls(counter: bytes, callers: int, per: int, seed: int
                 ) -> list[list[SignedTransaction]]:
    keys = [KeyPair.generate("ml-dsa-65", seed.to_bytes(2, "big") + i.to_bytes(30, "big"))
            for i in range(callers)]
    expiry = int(time.time()) + 3600
    return [[sign_single(Transaction(chain_id=CHAIN_ID, sender=k.address, nonce=n,
                                     kind="call", target=counter, function="increment",
                                     gas_limit=1_000_000, expiry=expiry),
                         k.secret_key, k.public_key) for n in range(per)] for k in keys]


def run(core: NodeCore, calls: list[list[SignedTransaction]]) -> tuple[float, float]:
    """Calls per second and CPU seconds per call, each caller on a thread of its own."""
    def caller(mine: list[SignedTransaction]) -> None:
        for signed in mine:
            core.send_transaction(signed, now=time.time())

    threads = [threading.Thread(target=caller, args=(mine,)) for mine in calls]
    count = sum(len(mine) for mine in calls)
    cpu, start = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return count / wall, cpu / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=1200, help="calls per round")
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = build_counter(work)
        core = NodeCore.open(work / "node", chain_id=CHAIN_ID)
        try:
            counter = deploy(core, code)
            runs: dict[int, list[tuple[float, float]]] = {1: [], opts.callers: []}
            seed = 0
            for _ in range(opts.rounds):
                for callers in runs:
                    seed += 1
                    calls = signed_calls(counter, callers, max(1, opts.txs // callers), seed)
                    runs[callers].append(run(core, calls))
        finally:
            core.close()
    best = {callers: max(r) for callers, r in runs.items()}
    base = best[1][0]
    print(f"signed ML-DSA-65 counter.increment through NodeCore (durable SQLite), "
          f"{opts.txs} calls per round, best of {opts.rounds} alternating rounds")
    print(f"{'callers':>8} {'calls/s':>9} {'CPU ms/call':>12} {'vs 1':>6}   rounds (calls/s)")
    for callers, (rate, cpu) in best.items():
        rounds = ", ".join(f"{r:.0f}" for r, _ in runs[callers])
        print(f"{callers:>8} {rate:>9.0f} {cpu * 1000:>12.2f} {rate / base:>5.2f}x   {rounds}")


if __name__ == "__main__":
    main()
