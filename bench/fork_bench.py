"""A query on a fork (`ghost test --fork`) against the same query on the sandbox.

A real `ghost node start` process on loopback holds a counter (deployed, then `add 5`).
Measured in rounds that alternate between them (A B A B ...):
  - sandbox query (the baseline): the counter's `get` on an in-memory sandbox where the
    same counter was deployed and set locally;
  - warm fork query: the same `get` on a fork of the node (chain/fork.py over JSON-RPC),
    after its first query fetched and proved what it reads: nothing goes to the node.
Also, once: the cold fork query (the first one: state root, contract record, code and one
proven storage value fetched over HTTP/1.1) and the fork's open (chain id, state root).

And what the node pays for the state history a fork at a past height needs: signed
counter transactions applied to an in-process NodeCore (durable SQLite) kept without
history (the baseline) and with it, alternating rounds.

    python bench/fork_bench.py [--queries N] [--rounds R] [--txs T]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.fork_reader import fork_network, open_fork
from ghost_cli.client.rpc_client import SyncGhostClient
from ghost_cli.crypto.keypair import KeyPair

CHAIN_ID = 1337


def start_node(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    args = [sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir", str(data_dir),
            "--http", "127.0.0.1:0", "--no-quic", "--chain-id", str(CHAIN_ID),
            "--log-file", str(data_dir.parent / "node.log"), "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    bound = json.loads(line) if line else {}
    if not bound.get("ok"):
        proc.kill()
        raise SystemExit(f"node did not start: {line or proc.wait()}")
    return proc, bound


def build_counter(workdir: Path) -> bytes:
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project("bench", "counter", workdir / "counter")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


def send(client: SyncGhostClient, key: KeyPair, nonce: int, kind: str, **fields) -> dict:
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce, kind=kind,
                     gas_limit=10_000_000, expiry=int(time.time()) + 600, **fields)
    return client.send_transaction(to_json(sign_single(tx, key.secret_key, key.public_key)))


def per_query(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def history_cost(code: bytes, work: Path, txs: int, rounds: int) -> tuple[float, float]:
    """Best seconds per transaction without and with the state history."""
    from ghost_cli.chain.transaction import sign_single
    from ghost_cli.node.core import NodeCore

    key = KeyPair.generate("ml-dsa-65", b"\x43" * 32)
    cores, counters, nonce = {}, {}, {}
    for history in (False, True):
        core = cores[history] = NodeCore.open(work / f"history-{history}",
                                              chain_id=CHAIN_ID, history=history)
        tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=0, kind="deploy",
                         gas_limit=10_000_000, expiry=int(time.time()) + 3600, code=code,
                         label="counter")
        counters[history] = core.send_transaction(
            sign_single(tx, key.secret_key, key.public_key), now=time.time()).address
        nonce[history] = 1
    best = {False: float("inf"), True: float("inf")}
    try:
        for _ in range(rounds):
            for history in (False, True):
                signed = []
                for _ in range(txs):
                    tx = Transaction(chain_id=CHAIN_ID, sender=key.address,
                                     nonce=nonce[history], kind="call",
                                     target=counters[history], function="increment",
                                     gas_limit=10_000_000, expiry=int(time.time()) + 3600)
                    signed.append(sign_single(tx, key.secret_key, key.public_key))
                    nonce[history] += 1
                start = time.perf_counter()
                for one in signed:
                    cores[history].send_transaction(one, now=time.time())
                best[history] = min(best[history], (time.perf_counter() - start) / txs)
    finally:
        for core in cores.values():
            core.close()
    return best[False], best[True]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=300, help="queries per round and side")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--txs", type=int, default=100,
                    help="transactions per round and side for the history's cost")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = build_counter(work)
        proc, bound = start_node(work / "node")
        try:
            url = f"http://{bound['http']}"
            key = KeyPair.generate("ml-dsa-65", b"\x42" * 32)
            with SyncGhostClient(url) as client:
                counter = bytes.fromhex(send(client, key, 0, "deploy", code=code,
                                             label="counter")["address"][2:])
                send(client, key, 1, "call", target=counter, function="add",
                     args=(5).to_bytes(8, "little"))

            sandbox = Sandbox(":memory:", chain_id=CHAIN_ID)
            local = sandbox.deploy(code, name="counter").address
            sandbox.call(local, "add", [5])

            start = time.perf_counter()
            store = open_fork(fork_network(url, None))
            opened = time.perf_counter() - start
            fork = Sandbox(":memory:", store=store, chain_id=CHAIN_ID)
            start = time.perf_counter()
            assert fork.query(counter, "get").result == 5
            cold = time.perf_counter() - start
            fetched = dict(store.fetches)

            def a() -> None:
                sandbox.query(local, "get")

            def b() -> None:
                fork.query(counter, "get")

            sand, forked = [], []
            for _ in range(args.rounds):
                sand.append(per_query(a, args.queries))
                forked.append(per_query(b, args.queries))
            assert store.fetches == fetched  # warm: nothing more went to the node
            fork.close()
            sandbox.close()
        finally:
            proc.terminate()
            proc.wait(20)
        plain, logged = history_cost(code, work, args.txs, args.rounds)
    best_a, best_b = min(sand), min(forked)
    print(f"fork open (chain id, state root over HTTP/1.1): {opened * 1e3:8.2f} ms")
    print(f"cold fork query (contract, code, 1 proven value): {cold * 1e3:8.2f} ms "
          f"fetches {fetched}")
    print(f"sandbox query (baseline), best of {args.rounds}: {best_a * 1e6:8.1f} us")
    print(f"warm fork query,          best of {args.rounds}: {best_b * 1e6:8.1f} us")
    print(f"ratio warm fork / sandbox: {best_b / best_a:.2f}x")
    print(f"ratio cold fork / sandbox: {cold / best_a:.0f}x")
    print(f"node transaction without state history (baseline): {plain * 1e3:7.2f} ms")
    print(f"node transaction with state history:                {logged * 1e3:7.2f} ms")
    print(f"ratio with / without history: {logged / plain:.2f}x")


if __name__ == "__main__":
    main()
