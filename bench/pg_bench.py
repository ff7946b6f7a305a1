"""Signed calls per second with 1, 2 and 3 nodes over one PostgreSQL database, beside
one node on SQLite (the baseline), measured in the same run, alternating A B A B.

    python bench/pg_bench.py [--txs 120] [--clients 6] [--rounds 2] [--pg URL]

Every node is a real `ghost node start` process on loopback; the clients (threads, one
key each, calls signed before the clock starts) are spread over the nodes in use. Without
--pg a throwaway PostgreSQL server is started (tests/support/pg_cluster.py; fsync off there, so
the figures show ghost's cost, not the disk's). Prints calls/s per setup and the ratio to
the SQLite node.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from node_bench import CHAIN_ID, build_counter, sign_calls  # noqa: E402

from ghost_cli.chain.transaction import Transaction, sign_single, to_json  # noqa: E402
from ghost_cli.crypto.keypair import KeyPair  # noqa: E402


def start_node(data_dir: Path, store: str | None) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir", str(data_dir),
            "--http", "127.0.0.1:0", "--no-quic", "--chain-id", str(CHAIN_ID),
            "--log-file", str(data_dir.parent / f"{data_dir.name}.log"), "--json"]
    if store:
        args += ["--store", store]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    bound = json.loads(line) if line else {}
    if not bound.get("ok"):
        proc.kill()
        raise SystemExit(f"node did not start: {line or proc.wait()}")
    return proc, f"http://{bound['http']}/"


def post(http: httpx.Client, url: str, method: str, params: dict) -> dict:
    doc = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                               "params": params}).json()
    if "error" in doc:
        raise SystemExit(f"node refused a benchmark request: {doc['error']}")
    return doc["result"]


def deploy(url: str, code: bytes) -> bytes:
    k = KeyPair.generate("ml-dsa-65", b"\xaa" * 32)
    tx = Transaction(chain_id=CHAIN_ID, sender=k.address, nonce=0, kind="deploy",
                     gas_limit=10_000_000, expiry=int(time.time()) + 3600, code=code,
                     label="counter")
    with httpx.Client(timeout=60) as http:
        got = post(http, url, "ghost_sendTransaction",
                   {"tx": to_json(sign_single(tx, k.secret_key, k.public_key))})
    return bytes.fromhex(got["address"][2:])


def run(urls: list[str], counter: bytes, txs: int, clients: int, seeds) -> float:
    """Calls per second: `clients` threads, client i sending through urls[i % len]."""
    keys = [KeyPair.generate("ml-dsa-65", next(seeds).to_bytes(32, "big"))
            for _ in range(clients)]
    streams = sign_calls(keys, counter, txs // clients)

    def client(i: int) -> None:
        with httpx.Client(timeout=60) as http:
            for doc in streams[i]:
                post(http, urls[i % len(urls)], "ghost_sendTransaction", {"tx": doc})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(len(s) for s in streams) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--txs", type=int, default=120, help="signed calls per run")
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pg", help="an empty PostgreSQL database URL (default: a throwaway server)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cluster = None
        if args.pg is None:
            from pg_cluster import PgCluster

            cluster = PgCluster()
            args.pg = cluster.new_database()
        procs = []
        try:
            code = build_counter(work)
            proc, sqlite_url = start_node(work / "sqlite", None)
            procs.append(proc)
            pg_urls = []
            for i in range(3):
                proc, url = start_node(work / f"pg{i}", args.pg)
                procs.append(proc)
                pg_urls.append(url)
            counters = {"sqlite": deploy(sqlite_url, code), "pg": deploy(pg_urls[0], code)}
            setups = {"sqlite, 1 node": ([sqlite_url], "sqlite"),
                      **{f"postgresql, {n} node{'s' * (n > 1)}": (pg_urls[:n], "pg")
                         for n in (1, 2, 3)}}
            seeds = itertools.count(1000)
            results: dict[str, list[float]] = {name: [] for name in setups}
            for _ in range(args.rounds):  # A B C D A B C D: drift hits every setup alike
                for name, (urls, which) in setups.items():
                    results[name].append(run(urls, counters[which], args.txs, args.clients,
                                             seeds))
        finally:
            for p in procs:
                p.terminate()
                p.wait(30)
            if cluster is not None:
                cluster.close()
    base = max(results["sqlite, 1 node"])
    print(f"signed calls (ML-DSA-65, counter.increment): {args.txs} per run, "
          f"{args.clients} clients, best of {args.rounds} alternating rounds")
    print(f"{'setup':<22} {'calls/s':>8} {'vs sqlite':>10}")
    for name, figures in results.items():
        print(f"{name:<22} {max(figures):>8.1f} {max(figures) / base:>9.2f}x")


if __name__ == "__main__":
    main()
