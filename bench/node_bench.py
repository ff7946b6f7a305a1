"""A ghost node under load: signed ML-DSA-65 calls per second and their p50/p99 latency,
with 1 and with 50 concurrent clients, and read-only query latency, per transport.

    python bench/node_bench.py [--txs 600] [--queries 500] [--clients 1,50]
        [--transports http/1.1] [--data-dir DIR]

The node is a real `ghost node start` process on loopback (a durable store: WAL,
synchronous=FULL, so every acknowledged call waited for fsync). Every call is signed
before the clock starts; what is timed is request -> receipt. The baseline, measured in
the same run, is the same kind of signed calls applied in-process to a NodeCore (no
transport, no JSON-RPC): `ratio` = transport throughput / in-process throughput.

Transports are a table (TRANSPORTS): each opens a client for the node's bound addresses
and returns `send(body) -> response body`. Adding one (e.g. HTTP/3) adds its columns and
a ratio against HTTP/1.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from ghost_cli.chain.transaction import Transaction, from_json, sign_single, to_json
from ghost_cli.crypto.keypair import KeyPair

CHAIN_ID = 1337
Send = Callable[[bytes], Awaitable[bytes]]


# ---- transports ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def http11(bound: dict) -> AsyncIterator[Send]:
    """One httpx client (one keep-alive connection) per simulated client."""
    url = f"http://{bound['http']}/"
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)) as c:
        async def send(body: bytes) -> bytes:
            r = await c.post(url, content=body, headers={"content-type": "application/json"})
            r.raise_for_status()
            return r.content

        yield send


@dataclass(frozen=True)
class Transport:
    name: str
    open: Callable[[dict], contextlib.AbstractAsyncContextManager[Send]]
    needs: str  # the key in the node's ready line this transport dials


TRANSPORTS: dict[str, Transport] = {
    "http/1.1": Transport("http/1.1", http11, "http"),
}


# ---- the node ---------------------------------------------------------------------------


def start_node(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    args = [sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir", str(data_dir),
            "--http", "127.0.0.1:0", "--quic", "127.0.0.1:0", "--chain-id", str(CHAIN_ID),
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


# ---- requests ----------------------------------------------------------------------------


def rpc_body(method: str, params: dict, rid: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                       "params": params}).encode()


def sign_calls(keys: list[KeyPair], counter: bytes, per_key: int, first_nonce: int = 0
               ) -> list[list[dict]]:
    expiry = int(time.time()) + 3600
    return [[to_json(sign_single(
        Transaction(chain_id=CHAIN_ID, sender=k.address, nonce=first_nonce + n, kind="call",
                    gas_limit=1_000_000, expiry=expiry, target=counter, function="increment"),
        k.secret_key, k.public_key)) for n in range(per_key)] for k in keys]


def check(reply: bytes) -> dict:
    doc = json.loads(reply)
    if "error" in doc:
        raise SystemExit(f"node refused a benchmark request: {doc['error']}")
    return doc["result"]


@dataclass(frozen=True)
class Figures:
    count: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_clients(transport: Transport, bound: dict, bodies: list[list[bytes]]) -> Figures:
    """One client per list of bodies; each sends its bodies one after another."""
    latencies: list[float] = []

    async def client(mine: list[bytes]) -> None:
        async with transport.open(bound) as send:
            for body in mine:
                t0 = time.perf_counter()
                check(await send(body))
                latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(client(b) for b in bodies))
    return Figures(len(latencies), time.perf_counter() - start, tuple(latencies))


def in_process_baseline(code: bytes, txs: int, workdir: Path) -> Figures:
    """The same signed calls applied straight to a NodeCore: no transport, no JSON-RPC."""
    from ghost_cli.node.core import NodeCore

    core = NodeCore.open(workdir / "baseline", chain_id=CHAIN_ID)
    try:
        deployer = KeyPair.generate("ml-dsa-65", b"\xbb" * 32)
        tx = Transaction(chain_id=CHAIN_ID, sender=deployer.address, nonce=0, kind="deploy",
                         gas_limit=10_000_000, expiry=int(time.time()) + 3600, code=code,
                         label="counter")
        counter = core.send_transaction(sign_single(tx, deployer.secret_key,
                                                    deployer.public_key), now=time.time()).address
        [docs] = sign_calls([deployer], counter, txs, first_nonce=1)
        signed = [from_json(d) for d in docs]
        latencies = []
        start = time.perf_counter()
        for s in signed:
            t0 = time.perf_counter()
            core.send_transaction(s, now=time.time())
            latencies.append(time.perf_counter() - t0)
        return Figures(len(latencies), time.perf_counter() - start, tuple(latencies))
    finally:
        core.close()


# ---- main --------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, workdir: Path) -> None:
    code = build_counter(workdir)
    proc, bound = start_node(args.data_dir or workdir / "node")
    try:
        deployer = KeyPair.generate("ml-dsa-65", b"\xaa" * 32)
        transports = [TRANSPORTS[name] for name in args.transports]
        async with transports[0].open(bound) as send:
            deploy = Transaction(chain_id=CHAIN_ID, sender=deployer.address, nonce=0,
                                 kind="deploy", gas_limit=10_000_000,
                                 expiry=int(time.time()) + 3600, code=code, label="counter")
            receipt = check(await send(rpc_body("ghost_sendTransaction", {"tx": to_json(
                sign_single(deploy, deployer.secret_key, deployer.public_key))})))
        counter = bytes.fromhex(receipt["address"][2:])
        query = rpc_body("ghost_query", {"address": receipt["address"], "function": "get"})

        print(f"node: {bound.get('http')} (HTTP/1.1)"
              + (f", {bound['quic']} (HTTP/3)" if "quic" in bound else "")
              + "; store: WAL, synchronous=FULL")
        print(f"signed calls: ML-DSA-65, counter.increment, {args.txs} per run; "
              f"queries: counter.get, {args.queries} per run\n")
        header = (f"{'transport':<10} {'clients':>7} {'calls/s':>9} {'p50 ms':>8} "
                  f"{'p99 ms':>8} {'query p50':>10} {'query p99':>10} {'queries/s':>10}")
        print(header)
        print("-" * len(header))
        results: dict[tuple[str, int], tuple[Figures, Figures]] = {}
        seed = 0
        for transport in transports:
            if transport.needs not in bound:
                print(f"{transport.name:<10} (the node serves no {transport.needs})")
                continue
            for clients in args.clients:
                seed += 1
                keys = [KeyPair.generate("ml-dsa-65", bytes([seed]) + i.to_bytes(31, "big"))
                        for i in range(clients)]
                per = max(1, args.txs // clients)
                calls = [[rpc_body("ghost_sendTransaction", {"tx": d}) for d in docs]
                         for docs in sign_calls(keys, counter, per)]
                tx_figs = await run_clients(transport, bound, calls)
                qper = max(1, args.queries // clients)
                q_figs = await run_clients(transport, bound, [[query] * qper] * clients)
                results[(transport.name, clients)] = (tx_figs, q_figs)
                print(f"{transport.name:<10} {clients:>7} {tx_figs.per_second:>9.0f} "
                      f"{tx_figs.pct(0.5):>8.2f} {tx_figs.pct(0.99):>8.2f} "
                      f"{q_figs.pct(0.5):>10.2f} {q_figs.pct(0.99):>10.2f} "
                      f"{q_figs.per_second:>10.0f}")

        base = in_process_baseline(code, min(args.txs, 300), workdir)
        print(f"\nbaseline: in-process NodeCore.send_transaction, 1 caller: "
              f"{base.per_second:.0f} calls/s, p50 {base.pct(0.5):.2f} ms, "
              f"p99 {base.pct(0.99):.2f} ms")
        for (name, clients), (tx_figs, _) in results.items():
            print(f"ratio {name} x{clients} / in-process: "
                  f"{tx_figs.per_second / base.per_second:.2f}")
        first = args.transports[0]
        for (name, clients), (tx_figs, q_figs) in results.items():
            if name != first and (first, clients) in results:
                ref_tx, ref_q = results[(first, clients)]
                print(f"ratio {name} / {first} x{clients}: calls/s "
                      f"{tx_figs.per_second / ref_tx.per_second:.2f}, query p50 "
                      f"{q_figs.pct(0.5) / ref_q.pct(0.5):.2f}")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--txs", type=int, default=600)
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 50])
    p.add_argument("--transports", type=lambda s: s.split(","), default=list(TRANSPORTS))
    p.add_argument("--data-dir", type=Path, default=None,
                   help="Node data directory (default: a temporary one). The disk decides "
                        "fsync cost.")
    args = p.parse_args()
    unknown = set(args.transports) - set(TRANSPORTS)
    if unknown:
        raise SystemExit(f"unknown transport(s) {sorted(unknown)}; known: {list(TRANSPORTS)}")
    with tempfile.TemporaryDirectory(prefix="ghost-node-bench-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
