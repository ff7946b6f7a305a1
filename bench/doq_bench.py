"""Name resolutions per second over DNS-over-QUIC, against the JSON-RPC lookup over HTTP/3.

One `ghost node start` on loopback; `bench.ghost` is registered to the names registry
itself with one signed transaction. Measured with ghost's own async client:
  - DoQ: GhostClient.resolve_name, one pooled QUIC connection (ALPN doq), one stream per
    query; the node answers with a query of the registry's `entry` plus the target's
    code hash;
  - baseline: ghost_getContract by address over HTTP/3 (one pooled connection), the
    JSON-RPC lookup a client would otherwise make.
Sequential (1 in flight) and concurrent (50 in flight), the two taking turns (DoQ,
HTTP/3, DoQ, ...) `--rounds` times each; prints the best round of each per second and
their ratio.

    python bench/doq_bench.py [--n N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from ghost_cli.abi import encode_value
from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.client.rpc_client import GhostClient
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.names import REGISTRY_ADDRESS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_bench import CHAIN_ID, start_node  # noqa: E402


async def rate(fn, n: int, concurrency: int) -> float:
    queue = list(range(n))

    async def worker():
        while queue:
            queue.pop()
            await fn()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, bound = start_node(Path(tmp) / "data")
        try:
            url = f"quic://{bound['quic']}"
            async with GhostClient(url, ca=bound["ca"]) as client:
                key = KeyPair.generate("ed25519", b"\x42" * 32)
                tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=0,
                                 gas_limit=10**7, expiry=int(time.time()) + 600, kind="call",
                                 target=REGISTRY_ADDRESS, function="register",
                                 args=encode_value("string", "bench")
                                 + encode_value("address", REGISTRY_ADDRESS))
                await client.send_transaction(to_json(sign_single(tx, key.secret_key,
                                                                  key.public_key)))
                record = await client.resolve_name("bench.ghost")  # warm both connections
                assert record.target == REGISTRY_ADDRESS
                await client.get_contract(address=REGISTRY_ADDRESS)

                async def doq():
                    await client.resolve_name("bench.ghost")

                async def rpc():
                    await client.get_contract(address=REGISTRY_ADDRESS)

                print(f"{'in flight':>10} {'DoQ /s':>10} {'HTTP/3 getContract /s':>22} "
                      f"{'ratio':>7}")
                for concurrency in (1, 50):
                    a = b = 0.0
                    for _ in range(rounds):
                        a = max(a, await rate(doq, n, concurrency))
                        b = max(b, await rate(rpc, n, concurrency))
                    print(f"{concurrency:>10} {a:>10.0f} {b:>22.0f} {a / b:>7.2f}")
                print(f"DoQ connections opened: {client._doq.opened}, queries "
                      f"{client._doq.queries}")
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
