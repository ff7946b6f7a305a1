"""HTTP/3 against HTTP/1.1 to one node process: signed calls and reads, 1 and 50 at once.

One `ghost node start` on loopback serves both transports from the same dispatcher, so
the figures differ only by transport. Measured with ghost's own async client:
  - HTTP/3: one pooled QUIC connection, concurrent requests as streams of it;
  - HTTP/1.1 (the baseline): httpx's keep-alive pool, one TCP connection per request
    in flight.
Signed calls are the counter's `increment`, ML-DSA-65, signed before the clock starts
(the node verifies every signature); each concurrent worker has its own key, so nonces
never race. Reads are `ghost_query` of `get`. Each row prints calls/s, p50 and p99
latency, and the HTTP/3 : HTTP/1.1 ratio. The two take turns (HTTP/1.1, HTTP/3,
HTTP/1.1, ...) `--rounds` times each per row; each shows its round of most calls/s.

    python bench/transport_bench.py [--calls N] [--reads N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.rpc_client import GhostClient
from ghost_cli.config.project import load_project
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_bench import CHAIN_ID, start_node  # noqa: E402


def client(bound: dict, transport: str) -> GhostClient:
    if transport == "quic":
        return GhostClient(f"quic://{bound['quic']}", ca=bound["ca"], transport="quic")
    return GhostClient(f"http://{bound['http']}", transport="http")


def signed_calls(keys: list[KeyPair], per_key: int, target: bytes) -> list[list[dict]]:
    expiry = int(time.time()) + 3600
    return [[to_json(sign_single(Transaction(CHAIN_ID, k.address, n, "call", 10_000_000,
                                             expiry, target, "increment"),
                                 k.secret_key, k.public_key)) for n in range(per_key)]
            for k in keys]


async def run(node: GhostClient, work: list[list], send) -> tuple[float, list[float]]:
    """Each inner list is one worker's requests, sent one after another; workers at once."""
    latencies: list[float] = []

    async def worker(items: list) -> None:
        for item in items:
            t = time.perf_counter()
            await send(node, item)
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker(items) for items in work))
    return time.perf_counter() - start, latencies


def row(label: str, elapsed: float, lat: list[float]) -> dict:
    lat = sorted(lat)
    return {"label": label, "rate": len(lat) / elapsed, "p50": statistics.median(lat) * 1e3,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3}


async def scenario(bound: dict, address: bytes, calls: int, reads: int, seed: int,
                   rounds: int) -> list:
    results = []
    calldata = b""  # `get` and `increment` take no arguments
    for concurrency in (1, 50):
        for kind in ("signed calls", "reads"):
            pair: dict[str, dict] = {}
            for _ in range(rounds):
                for transport in ("http", "quic"):
                    seed += 1
                    async with client(bound, transport) as node:
                        await node.health()  # connect (and for QUIC, handshake) untimed
                        if kind == "signed calls":
                            keys = [KeyPair.generate("ml-dsa-65", seed.to_bytes(4, "big") +
                                                     i.to_bytes(28, "big"))
                                    for i in range(concurrency)]
                            work = signed_calls(keys, max(1, calls // concurrency), address)
                            elapsed, lat = await run(node, work,
                                                     lambda n, doc: n.send_transaction(doc))
                        else:
                            per = max(1, reads // concurrency)
                            work = [[None] * per for _ in range(concurrency)]
                            elapsed, lat = await run(
                                node, work, lambda n, _: n.query(address, "get", calldata))
                        stats = node.stats()
                    this = row(f"{kind}, {concurrency} at once, {transport}", elapsed, lat)
                    this["connections"] = stats.connections_opened
                    if transport not in pair or this["rate"] > pair[transport]["rate"]:
                        pair[transport] = this
            results.append(pair)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="signed calls per row")
    parser.add_argument("--reads", type=int, default=2000, help="reads per row")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project("bench", "counter", Path(tmp) / "bench")
        [built] = build_project(load_project(root))
        proc, bound = start_node(Path(tmp) / "node")
        try:
            async def setup() -> bytes:
                deployer = KeyPair.generate("ml-dsa-65", b"\x42" * 32)
                async with client(bound, "quic") as node:
                    nonce = (await node.get_account(deployer.address))["nonce"]
                    tx = Transaction(CHAIN_ID, deployer.address, nonce, "deploy", 10_000_000,
                                     int(time.time()) + 3600,
                                     code=Path(built.path).read_bytes(), label="counter")
                    receipt = await node.send_transaction(
                        to_json(sign_single(tx, deployer.secret_key, deployer.public_key)))
                return bytes.fromhex(receipt["address"][2:])

            address = asyncio.run(setup())
            results = asyncio.run(scenario(bound, address, args.calls, args.reads, 1000,
                                           args.rounds))
        finally:
            proc.terminate()
            proc.wait(20)
    print(f"node at {bound['quic']} (QUIC) and {bound['http']} (HTTP/1.1), one process; "
          "baseline: HTTP/1.1")
    print(f"{'':38} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'conns':>6}")
    for pair in results:
        for r in (pair["http"], pair["quic"]):
            conns = "-" if r["connections"] is None else r["connections"]
            print(f"{r['label']:38} {r['rate']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
                  f"{conns:>6}")
        q, h = pair["quic"], pair["http"]
        print(f"{'  ratio HTTP/3 : HTTP/1.1':38} {q['rate'] / h['rate']:8.2f}x "
              f"{q['p50'] / h['p50']:7.2f}x {q['p99'] / h['p99']:7.2f}x")


if __name__ == "__main__":
    main()
