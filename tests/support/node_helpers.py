"""A ghost node as a real process on loopback, and a small JSON-RPC client over httpx."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from jsonrpc_replies import Replies

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.crypto.keypair import KeyPair

CHAIN_ID = 1337
READY_TIMEOUT = 60.0
HAVE_QUIC = importlib.util.find_spec("ghost_cli.node.quic") is not None


@dataclass
class NodeProcess:
    proc: subprocess.Popen
    data_dir: Path
    log_file: Path
    bound: dict

    @property
    def url(self) -> str:
        return f"http://{self.bound['http']}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout)

    def log(self) -> list[dict]:
        return [json.loads(line) for line in self.log_file.read_text().splitlines() if line]


def start_node(data_dir: Path, *extra: str, chain_id: int | None = CHAIN_ID) -> NodeProcess:
    """`python -m ghost_cli node start` on free loopback ports (port 0, read back)."""
    log_file = data_dir.parent / f"{data_dir.name}.log"
    args = [sys.executable, "-m", "ghost_cli", "node", "start", "--data-dir", str(data_dir),
            "--http", "127.0.0.1:0", "--log-file", str(log_file), "--json"]
    args += ["--quic", "127.0.0.1:0"] if HAVE_QUIC else ["--no-quic"]
    if chain_id is not None:
        args += ["--chain-id", str(chain_id)]
    args += list(extra)
    stderr = data_dir.parent / f"{data_dir.name}.stderr"
    with open(stderr, "ab") as err:  # a file, so a chatty node never blocks on a pipe
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    line = _readline(proc, READY_TIMEOUT)
    if not line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"node did not start: {stderr.read_text()}")
    doc = json.loads(line)
    if not doc.get("ok"):  # --json reports a failure to start as one JSON line too
        proc.wait(READY_TIMEOUT)
        raise RuntimeError(f"node did not start (exit {proc.returncode}): {doc['error']}")
    return NodeProcess(proc, data_dir, log_file, doc)


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            return proc.stdout.readline()
        if proc.poll() is not None:
            return ""
    return ""


class Client(Replies):
    """JSON-RPC over HTTP/1.1 with httpx, and signed transactions from one key."""

    def __init__(self, url: str, key: KeyPair, http: httpx.Client | None = None) -> None:
        self.url, self.key = url, key
        self.http = http or httpx.Client(timeout=30)
        self.next_id = 0

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        r = self.http.post(self.url, json={"jsonrpc": "2.0", "id": self.next_id,
                                           "method": method, "params": params})
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def nonce(self, key: KeyPair | None = None) -> int:
        return self.result("ghost_getAccount", address="0x" + (key or self.key).address.hex())[
            "nonce"]

    def tx(self, kind: str, *, nonce: int | None = None, key: KeyPair | None = None,
           chain_id: int = CHAIN_ID, gas_limit: int = 10_000_000, **fields) -> dict:
        key = key or self.key
        tx = Transaction(chain_id=chain_id, sender=key.address,
                         nonce=self.nonce(key) if nonce is None else nonce, kind=kind,
                         gas_limit=gas_limit, expiry=int(time.time()) + 600, **fields)
        return to_json(sign_single(tx, key.secret_key, key.public_key))

    def call_tx(self, address: str, function: str, args: bytes = b"", **kw) -> dict:
        return self.tx("call", target=bytes.fromhex(address[2:]), function=function,
                       args=args, **kw)

    def send(self, doc: dict) -> dict:
        return self.call("ghost_sendTransaction", tx=doc)


def recorded_streams(c: Client, acked: list[tuple[dict, dict]],
                     streams: list[list[dict]]) -> list[tuple[dict, dict]]:
    """Check what a node recorded of concurrent senders' streams and return it as (tx,
    receipt) pairs: every acknowledged transaction is recorded as acknowledged; per sender
    the recorded ones are a prefix of its nonces (a transaction in flight may have
    committed without its answer arriving; nothing after a gap is); and the heights after
    the deploy at 1 have no gap."""
    for doc, receipt in acked:
        assert c.result("ghost_getReceipt", hash=doc["hash"]) == receipt
    recorded = []
    for docs in streams:
        mine = [(d, c.call("ghost_getReceipt", hash=d["hash"])) for d in docs]
        present = [(d, r["result"]) for d, r in mine if "result" in r]
        assert [d for d, _ in present] == docs[:len(present)]
        recorded += present
    assert c.result("ghost_nodeInfo")["height"] == 1 + len(recorded)
    assert sorted(r["block_height"] for _, r in recorded) == list(range(2, 2 + len(recorded)))
    return recorded


@contextlib.asynccontextmanager
async def running(service):
    """A NodeService run in this event loop (in-process tests): its bound addresses,
    stopped on the way out."""
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(service.run(ready.set_result))
    bound = await asyncio.wait_for(ready, 30)
    try:
        yield bound
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)


def built_counter_source(workdir: Path, name: str, source: str) -> bytes:
    """`source` as a counter project's contract, built by `ghost build`'s library core
    (real Zig, real wasm)."""
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project(name, "counter", workdir / name)
    (root / "src" / "counter.zig").write_text(source)
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()



def has_ipv6_loopback(kind: int = socket.SOCK_STREAM) -> bool:
    """Whether this machine can bind a `kind` socket on ::1 (some CI containers cannot)."""
    try:
        with socket.socket(socket.AF_INET6, kind) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True
