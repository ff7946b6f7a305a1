"""A node without a transport: signed ML-DSA-65 `counter.increment` calls straight into
the node's core, and through its JSON-RPC dispatcher and execution pool.

    python bench/node_core_bench.py [--txs 1200] [--callers 50] [--rounds 3]

The node is the one `ghost node start` runs (NodeService: durable SQLite, WAL, an fsync
per commit; metrics and its log file), opened in this process with no transport. Every
call is signed (and for JSON-RPC encoded) before the clock starts and verified by the
node. Three runs, alternating round by round; the best round of each is shown with the
process's CPU time per call:
  - core, 1 caller (the baseline): `NodeCore.send_transaction`, one call after another,
    each its own commit;
  - core, `--callers` threads at once, which group commit serves with one commit per group;
  - JSON-RPC, `--callers` at once: each call's JSON body through the execution pool and
    the dispatcher (parse, verify, run, receipt, metrics, log), as the HTTP/3 adapter
    hands it over, on one event loop.
Against bench/node_bench.py's figures this shows what a transport adds to a call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

from node_bench import CHAIN_ID, build_counter, rpc_body, signed_calls, signed_deploy

from ghost_cli.chain.transaction import SignedTransaction, to_json
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.config import NodeConfig
from ghost_cli.node.core import NodeCore
from ghost_cli.node.service import NodeService


def timed(fn, target, calls: list[list]) -> tuple[float, float]:
    """Calls per second and CPU seconds per call of `fn(target, calls)`."""
    count = sum(len(mine) for mine in calls)
    cpu, start = time.process_time(), time.perf_counter()
    fn(target, calls)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return count / wall, cpu / count


def through_core(core: NodeCore, calls: list[list[SignedTransaction]]) -> None:
    """Each caller on a thread of its own."""
    def caller(mine: list[SignedTransaction]) -> None:
        for signed in mine:
            core.send_transaction(signed, now=time.time())

    threads = [threading.Thread(target=caller, args=(mine,)) for mine in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def through_dispatcher(node: NodeService, bodies: list[list[bytes]]) -> None:
    """Each caller a task on one event loop, its JSON-RPC bodies through the pool and
    dispatcher."""

    async def caller(mine: list[bytes]) -> None:
        for body in mine:
            reply = json.loads(await node.pool.run(node.dispatcher.handle, body,
                                                   peer="127.0.0.1:1", now=time.time()))
            if "error" in reply:
                raise SystemExit(f"a benchmark call was refused: {reply['error']}")

    async def all_callers() -> None:
        await asyncio.gather(*(caller(mine) for mine in bodies))

    asyncio.run(all_callers())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=1200, help="calls per round")
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    many = opts.callers
    labels = ("core, 1 caller", f"core, {many} callers", f"JSON-RPC, {many} callers")
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = build_counter(work)
        # Configured as `ghost node start` is; its transports are never started here.
        node = NodeService(NodeConfig(data_dir=work / "node", chain_id=CHAIN_ID,
                                      log_file=work / "node.log"))
        try:
            counter = node.core.send_transaction(signed_deploy(code), now=time.time()).address
            seed = 0
            for _ in range(opts.rounds):
                for label in labels:
                    seed += 1
                    callers = 1 if label == labels[0] else many
                    keys = [KeyPair.generate("ml-dsa-65",
                                             seed.to_bytes(2, "big") + i.to_bytes(30, "big"))
                            for i in range(callers)]
                    # signed (and for JSON-RPC encoded) before the clock starts
                    calls = signed_calls(keys, counter, max(1, opts.txs // callers))
                    if label.startswith("core"):
                        runs[label].append(timed(through_core, node.core, calls))
                    else:
                        bodies = [[rpc_body("ghost_sendTransaction", {"tx": to_json(signed)})
                                   for signed in mine] for mine in calls]
                        runs[label].append(timed(through_dispatcher, node, bodies))
        finally:
            node.pool.close()
            node.core.close()
    best = {label: max(r) for label, r in runs.items()}
    base = best[labels[0]][0]
    print(f"signed ML-DSA-65 counter.increment, a node without a transport (durable SQLite), "
          f"{opts.txs} calls per round, best of {opts.rounds} alternating rounds")
    print(f"{'':22} {'calls/s':>9} {'CPU ms/call':>12} {'ratio':>6}   rounds (calls/s)")
    for label, (rate, cpu) in best.items():
        rounds = ", ".join(f"{r:.0f}" for r, _ in runs[label])
        print(f"{label:22} {rate:>9.0f} {cpu * 1000:>12.2f} {rate / base:>5.2f}x   {rounds}")


if __name__ == "__main__":
    main()
