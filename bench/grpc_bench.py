"""gRPC against JSON-RPC over HTTP/3: signed calls per second to one node process.

One `ghost node start --grpc ... --quic ...` on loopback serves both from the same
NodeCore, so the figures differ only by the protocol stack:
  - gRPC: grpcio's asyncio channel (HTTP/2 over TCP), ghost.v1.Contracts/Call with the
    transaction's canonical bytes and auth as protobuf;
  - JSON-RPC over HTTP/3 (the baseline): ghost's GhostClient, one pooled QUIC connection,
    ghost_sendTransaction with the tx.json document.
Signed calls are the counter's `increment`, ML-DSA-65, signed before the clock starts
(the node verifies every signature and commits each durably); each concurrent worker has
its own key, so nonces never race. Prints calls/s for each and the gRPC : HTTP/3 ratio,
at 1 and --concurrency calls in flight: the two take turns (gRPC, HTTP/3, gRPC, ...)
`--rounds` times each, and each row shows the best round of each.

    python bench/grpc_bench.py [--calls N] [--concurrency N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.rpc_client import GhostClient
from ghost_cli.config.project import load_project
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.grpc_gen.ghost.v1 import contracts_pb2_grpc
from ghost_cli.node.grpc import signed_to
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

CHAIN_ID = 1337


def start_node(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir", str(data_dir),
         "--http", "127.0.0.1:0", "--quic", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
         "--chain-id", str(CHAIN_ID), "--json", "--log-file", str(data_dir.parent / "node.log")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the node did not start")
    return proc, json.loads(line)


def sign_calls(keys: list[KeyPair], nonces: list[int], per_key: int, target: bytes):
    expiry = int(time.time()) + 3600
    return [[sign_single(Transaction(CHAIN_ID, k.address, n0 + i, "call", 10_000_000, expiry,
                                     target, "increment"), k.secret_key, k.public_key)
             for i in range(per_key)] for k, n0 in zip(keys, nonces, strict=True)]


async def run_workers(batches, send) -> float:
    async def worker(batch):
        for item in batch:
            await send(item)

    start = time.perf_counter()
    await asyncio.gather(*(worker(b) for b in batches))
    return time.perf_counter() - start


async def main(calls: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project("bench", "counter", Path(tmp) / "bench")
        [built] = build_project(load_project(root))
        proc, bound = start_node(Path(tmp) / "node")
        try:
            quic = GhostClient(f"quic://{bound['quic']}", ca=bound["ca"], transport="quic")
            channel = grpc.aio.insecure_channel(bound["grpc"])
            stub = contracts_pb2_grpc.ContractsStub(channel)
            deployer = KeyPair.generate("ml-dsa-65", b"\x01" * 32)
            tx = Transaction(CHAIN_ID, deployer.address, 0, "deploy", 10_000_000,
                             int(time.time()) + 3600, code=Path(built.path).read_bytes())
            target = bytes.fromhex((await quic.send_transaction(to_json(sign_single(
                tx, deployer.secret_key, deployer.public_key))))["address"][2:])

            print(f"signed calls (counter.increment, ML-DSA-65), {calls} per row, "
                  f"one node on loopback")
            print(f"{'in flight':>9}  {'gRPC calls/s':>12}  {'HTTP/3 calls/s':>14}  ratio")
            for width in (1, concurrency):
                keys = [KeyPair.generate("ml-dsa-65", bytes([width, i]) * 16)
                        for i in range(width)]
                per_key = max(1, calls // width)
                nonces = [(await quic.get_account(k.address))["nonce"] for k in keys]
                g_secs = h_secs = math.inf
                # Take turns, so a warming cache or a growing database favours neither.
                for _ in range(rounds):
                    g = sign_calls(keys, nonces, per_key, target)
                    g_secs = min(g_secs, await run_workers(
                        [[signed_to(s) for s in b] for b in g], stub.Call))
                    h = sign_calls(keys, [n + per_key for n in nonces], per_key, target)
                    h_secs = min(h_secs, await run_workers(
                        [[to_json(s) for s in b] for b in h], quic.send_transaction))
                    nonces = [n + 2 * per_key for n in nonces]
                n = per_key * width
                g_rate, h_rate = n / g_secs, n / h_secs
                print(f"{width:>9}  {g_rate:>12.1f}  {h_rate:>14.1f}  "
                      f"{g_rate / h_rate:.2f}x")
            await channel.close()
            await quic.aclose()
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    asyncio.run(main(args.calls, args.concurrency, args.rounds))
