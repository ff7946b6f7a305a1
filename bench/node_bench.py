"""A ghost node under load: signed ML-DSA-65 calls per second and their p50/p99 latency,
with 1 and with 50 concurrent streams, over HTTP/3 and HTTP/1.1, against an echo server.

    python bench/node_bench.py [--txs 1000] [--clients 1,50] [--rounds 2]
        [--transports http/3,http/1.1] [--data-dir DIR] [--compare CHECKOUT]

The node is a real `ghost node start` process on loopback (a durable store: WAL,
synchronous=FULL, so every acknowledged call waited for its commit's fsync). Every call
is signed before the clock starts; what is timed is request -> receipt.

The baseline, measured in the same run with the same client, is an echo server: a
separate process speaking the same transport on the same library (aioquic for HTTP/3,
uvicorn for HTTP/1.1) that answers every POST with a fixed JSON-RPC result and does
nothing else. Node and echo are measured alternately (node, echo, node, echo, ...
`--rounds` times each) and the best round of each is reported, so a noisy moment of the
machine hurts both alike; `vs echo` = calls/s / echo calls/s. The echo figure is what
the transport and the client alone allow on this machine: the node can only approach it.
`--compare CHECKOUT` adds a node run from another checkout's ghost_cli (the code before a
change, say) to the alternation, so before and after are measured under the same load.
Where /proc is there (Linux), each row also shows the server process's CPU time per call
in that round, all threads and its main thread (the event loop) alone: what a call costs
the server, whatever the rate. The `client` column is this process's CPU time per call:
the client shares the machine's cores with the server. `ceiling` is what those two costs
allow on this machine: its cores / (server + client CPU per call), the calls/s if every
core were busy with nothing else; no server of the same per-call cost can pass it here,
however it spreads its work over threads or processes.

Clients: HTTP/3 runs every concurrent call as a stream of one of a few QUIC connections
(the node allows 32 request streams per connection, so 50 streams use two); HTTP/1.1
gives each concurrent call its own keep-alive connection (httpx).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from ghost_cli.chain.transaction import SignedTransaction, Transaction, sign_single, to_json
from ghost_cli.crypto.keypair import KeyPair

CHAIN_ID = 1337
#: Request streams per QUIC connection the client opens (the node's QuicLimits allow 32).
STREAMS_PER_CONNECTION = 25
ECHO_REPLY = b'{"jsonrpc":"2.0","id":1,"result":{"status":"ok"}}'
Send = Callable[[bytes], Awaitable[bytes]]


# ---- transports: the one client, for node and echo alike ------------------------------


@contextlib.asynccontextmanager
async def http11(bound: dict, clients: int) -> AsyncIterator[list[Send]]:
    """One httpx client (one keep-alive connection) per concurrent caller."""
    url = f"http://{bound['http']}/"
    async with contextlib.AsyncExitStack() as stack:
        sends = []
        for _ in range(clients):
            c = await stack.enter_async_context(
                httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)))

            async def send(body: bytes, c: httpx.AsyncClient = c) -> bytes:
                r = await c.post(url, content=body,
                                 headers={"content-type": "application/json"})
                r.raise_for_status()
                return r.content

            sends.append(send)
        yield sends


@contextlib.asynccontextmanager
async def http3(bound: dict, clients: int) -> AsyncIterator[list[Send]]:
    """ghost's own HTTP/3 client: concurrent callers share a few QUIC connections."""
    from ghost_cli.client.transport import Http3Transport

    ca = Path(bound["ca"]).read_bytes()
    conns = [Http3Transport(f"quic://{bound['quic']}", ca_pem=ca, timeout=60)
             for _ in range(max(1, math.ceil(clients / STREAMS_PER_CONNECTION)))]
    try:
        sends = []
        for i in range(clients):
            t = conns[i % len(conns)]

            async def send(body: bytes, t: Http3Transport = t) -> bytes:
                return await t.post(body, idempotent=False)

            sends.append(send)
        yield sends
    finally:
        for t in conns:
            await t.aclose()


@dataclass(frozen=True)
class Transport:
    name: str
    open: Callable[[dict, int], contextlib.AbstractAsyncContextManager[list[Send]]]
    needs: str  # the key in the ready line this transport dials


TRANSPORTS: dict[str, Transport] = {
    "http/3": Transport("http/3", http3, "quic"),
    "http/1.1": Transport("http/1.1", http11, "http"),
}


# ---- the echo server (a separate process: `node_bench.py --echo DIR`) -------------------


def echo_main(data_dir: Path) -> None:
    """aioquic HTTP/3 and uvicorn HTTP/1.1, each answering every request with ECHO_REPLY."""
    import uvicorn
    from aioquic.asyncio import QuicConnectionProtocol, serve
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration

    from ghost_cli.node.quic import QuicLimits, grow_receive_buffer
    from ghost_cli.node.tls import ensure_dev_tls

    headers = [(b":status", b"200"), (b"content-type", b"application/json"),
               (b"content-length", str(len(ECHO_REPLY)).encode())]

    class Echo(QuicConnectionProtocol):
        def __init__(self, *a, **kw) -> None:
            super().__init__(*a, **kw)
            self.h3 = H3Connection(self._quic)

        def quic_event_received(self, event) -> None:
            for ev in self.h3.handle_event(event):
                if isinstance(ev, HeadersReceived | DataReceived) and ev.stream_ended:
                    self.h3.send_headers(ev.stream_id, headers)
                    self.h3.send_data(ev.stream_id, ECHO_REPLY, end_stream=True)
            self.transmit()

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": ECHO_REPLY})

    async def run() -> None:
        tls = ensure_dev_tls(data_dir, ("127.0.0.1",))
        config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
        config.load_cert_chain(tls.cert, tls.key)
        quic = await serve("127.0.0.1", 0, configuration=config, create_protocol=Echo)
        grow_receive_buffer(quic._transport, QuicLimits().receive_buffer)  # as the node does
        port = quic._transport.get_extra_info("sockname")[1]
        # As the node configures uvicorn (node/http.py): h11, no proxy headers, no log.
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, http="h11",
                                               log_level="error", lifespan="off",
                                               access_log=False, proxy_headers=False))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        http_port = server.servers[0].sockets[0].getsockname()[1]
        print(json.dumps({"ok": True, "quic": f"127.0.0.1:{port}", "ca": str(tls.ca),
                          "http": f"127.0.0.1:{http_port}"}), flush=True)
        await task

    asyncio.run(run())


def start(args: list[str], env: dict | None = None, cwd: Path | None = None
          ) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
    line = proc.stdout.readline()
    bound = json.loads(line) if line else {}
    if not bound.get("ok"):
        proc.kill()
        raise SystemExit(f"{args[2]} did not start: {line or proc.wait()}")
    return proc, bound


def start_node(data_dir: Path, source: Path | None = None) -> tuple[subprocess.Popen, dict]:
    """A node from this ghost, or (`source`) from the ghost_cli package in that checkout."""
    env = None
    if source is not None:
        env = {**os.environ, "PYTHONPATH": str(source)}
    # `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH: run
    # from `source` itself, or the ghost_cli beside the caller would be imported instead.
    return start([sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir",
                  str(data_dir.resolve()), "--http", "127.0.0.1:0", "--quic", "127.0.0.1:0",
                  "--chain-id", str(CHAIN_ID), "--log-file",
                  str(data_dir.resolve().parent / f"{data_dir.name}.log"), "--json"], env,
                 cwd=source.resolve() if source is not None else None)


def start_echo(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    return start([sys.executable, __file__, "--echo", str(data_dir)])


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


def signed_calls(keys: list[KeyPair], counter: bytes, per_key: int, first_nonce: int = 0
                 ) -> list[list[SignedTransaction]]:
    """`per_key` signed counter.increment calls from each key (node_core_bench too)."""
    expiry = int(time.time()) + 3600
    return [[sign_single(
        Transaction(chain_id=CHAIN_ID, sender=k.address, nonce=first_nonce + n, kind="call",
                    gas_limit=1_000_000, expiry=expiry, target=counter, function="increment"),
        k.secret_key, k.public_key) for n in range(per_key)] for k in keys]


def sign_calls(keys: list[KeyPair], counter: bytes, per_key: int, first_nonce: int = 0
               ) -> list[list[dict]]:
    """`signed_calls`, as JSON (pg_bench too)."""
    return [[to_json(signed) for signed in mine]
            for mine in signed_calls(keys, counter, per_key, first_nonce)]


def signed_deploy(code: bytes) -> SignedTransaction:
    """The counter's deploy, from a fixed key (node_core_bench too)."""
    deployer = KeyPair.generate("ml-dsa-65", b"\xaa" * 32)
    deploy = Transaction(chain_id=CHAIN_ID, sender=deployer.address, nonce=0,
                         kind="deploy", gas_limit=10_000_000,
                         expiry=int(time.time()) + 3600, code=code, label="counter")
    return sign_single(deploy, deployer.secret_key, deployer.public_key)


def signed_bodies(keys: list[KeyPair], counter: bytes, per_key: int) -> list[list[bytes]]:
    return [[rpc_body("ghost_sendTransaction", {"tx": d}) for d in docs]
            for docs in sign_calls(keys, counter, per_key)]


def check(reply: bytes) -> dict:
    doc = json.loads(reply)
    if "error" in doc:
        raise SystemExit(f"a benchmark request was refused: {doc['error']}")
    return doc["result"]


@dataclass(frozen=True)
class Figures:
    count: int
    seconds: float
    latencies: tuple[float, ...]
    cpu: float | None = None  # the server process's CPU seconds over the round
    loop_cpu: float | None = None  # ... of which its main (event-loop) thread's
    client_cpu: float | None = None  # this process's (the client's) CPU seconds

    def cpu_ms(self, seconds: float | None) -> str:
        """CPU milliseconds per call, or '-' where /proc is not there to ask."""
        return "-" if seconds is None else f"{seconds / self.count * 1000:.2f}"

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def ceiling(self, cores: int) -> str:
        """Calls per second `cores` allow at this round's server + client CPU per call."""
        if self.cpu is None or self.client_cpu is None:
            return "-"
        return f"{cores * self.count / (self.cpu + self.client_cpu):.0f}"

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def server_cpu(pid: int | None) -> tuple[float, float] | None:
    """CPU seconds (user + system) of process `pid` and of its main thread, from /proc;
    None without a pid or without /proc."""
    if pid is None:
        return None
    seconds = []
    for path in (f"/proc/{pid}/stat", f"/proc/{pid}/task/{pid}/stat"):
        try:
            with open(path) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        seconds.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return seconds[0], seconds[1]


async def run_clients(transport: Transport, bound: dict, bodies: list[list[bytes]],
                      server_pid: int | None = None) -> Figures:
    """One concurrent caller per list of bodies; each sends its bodies one after another.
    With `server_pid`, the server's CPU time over the timed part is recorded too."""
    latencies: list[float] = []

    async def caller(send: Send, mine: list[bytes]) -> None:
        for body in mine:
            t0 = time.perf_counter()
            check(await send(body))
            latencies.append(time.perf_counter() - t0)

    async with transport.open(bound, len(bodies)) as sends:
        await asyncio.gather(*(caller(sends[0], bodies[0][:1]) for _ in [0]))  # warm up
        latencies.clear()
        bodies = [bodies[0][1:], *bodies[1:]]
        before = server_cpu(server_pid)
        start, client = time.perf_counter(), time.process_time()
        await asyncio.gather(*(caller(s, b) for s, b in zip(sends, bodies, strict=True)))
        seconds, client = time.perf_counter() - start, time.process_time() - client
        after = server_cpu(server_pid)
    cpu = loop = None
    if before is not None and after is not None:
        cpu, loop = after[0] - before[0], after[1] - before[1]
    return Figures(len(latencies), seconds, tuple(latencies), cpu, loop, client)


# ---- main --------------------------------------------------------------------------------


async def deploy_counter(bound: dict, code: bytes) -> bytes:
    async with TRANSPORTS["http/1.1"].open(bound, 1) as [send]:
        receipt = check(await send(rpc_body("ghost_sendTransaction",
                                            {"tx": to_json(signed_deploy(code))})))
    return bytes.fromhex(receipt["address"][2:])


async def bench(args: argparse.Namespace, workdir: Path) -> None:
    code = build_counter(workdir)
    procs = []
    try:
        # name, bound, counter, server process id
        servers: list[tuple[str, dict, bytes | None, int]] = []
        proc, bound = start_node(args.data_dir or workdir / "node")
        procs.append(proc)
        servers.append(("node", bound, await deploy_counter(bound, code), proc.pid))
        if args.compare:
            proc, other = start_node(workdir / "compare", args.compare)
            procs.append(proc)
            servers.append(("node before", other, await deploy_counter(other, code), proc.pid))
        proc, echo = start_echo(workdir / "echo")
        procs.append(proc)
        servers.append(("echo", echo, None, proc.pid))
        counter = servers[0][2]
        assert counter is not None
        print(f"node: {bound['http']} (HTTP/1.1), {bound['quic']} (HTTP/3); store: "
              f"{bound.get('store')} (fsync per commit)"
              + (f"; compare: the node of {args.compare}" if args.compare else ""))
        print(f"signed calls: ML-DSA-65, counter.increment, {args.txs} per round; "
              f"{args.rounds} rounds of each server, alternating; best round shown\n")
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        print("CPU ms/call: the server process's CPU time per call in its best round (all "
              "threads; loop: its main thread, the event loop); client: this process's; "
              f"ceiling: {cores} cores / (server + client CPU per call), in calls/s\n")
        header = (f"{'transport':<9} {'streams':>7} {'server':<11} {'calls/s':>8} "
                  f"{'p50 ms':>7} {'p99 ms':>7} {'vs echo':>8} {'CPU ms/call':>11} "
                  f"{'loop':>5} {'client':>6} {'ceiling':>7}   rounds (calls/s)")
        print(header)
        print("-" * len(header))
        seed = 0
        for transport in [TRANSPORTS[name] for name in args.transports]:
            for clients in args.clients:
                per = max(2, args.txs // clients)
                runs: dict[str, list[Figures]] = {name: [] for name, *_ in servers}
                for _ in range(args.rounds):
                    for name, where, target, pid in servers:
                        seed += 1
                        keys = [KeyPair.generate(
                            "ml-dsa-65", seed.to_bytes(2, "big") + i.to_bytes(30, "big"))
                            for i in range(clients)]
                        # the echo gets the same bodies as a node would
                        bodies = signed_bodies(keys, target or counter, per)
                        runs[name].append(await run_clients(transport, where, bodies, pid))
                best = {name: max(f, key=lambda x: x.per_second) for name, f in runs.items()}
                for name, f in best.items():
                    print(f"{transport.name:<9} {clients:>7} {name:<11} {f.per_second:>8.0f} "
                          f"{f.pct(0.5):>7.2f} {f.pct(0.99):>7.2f} "
                          f"{f.per_second / best['echo'].per_second:>8.2f} "
                          f"{f.cpu_ms(f.cpu):>11} {f.cpu_ms(f.loop_cpu):>5} "
                          f"{f.cpu_ms(f.client_cpu):>6} {f.ceiling(cores):>7}   "
                          + ", ".join(f"{r.per_second:.0f}" for r in runs[name]), flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--echo":
        echo_main(Path(sys.argv[2]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--txs", type=int, default=1000, help="Signed calls per round.")
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 50],
                   help="Concurrent streams, comma-separated.")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--compare", type=Path, default=None, metavar="CHECKOUT",
                   help="Also measure a node run from another ghost checkout (e.g. the code "
                        "before a change), alternating with this one and the echo server.")
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
