"""A flood of QUIC Initial packets against a ghost node, and what it does to everyone else.

    python bench/quic_flood.py [--initials 5000] [--rounds 3] [--probes 40] [--source CHECKOUT]

A stranger can start a QUIC handshake with one 1,200-byte UDP packet; the node's answer
(a TLS handshake) costs it far more. This bench starts a real `ghost node start` with
HTTP/1.1 and HTTP/3 on loopback, then alternates two rounds, `--rounds` times each:

- quiet: `--probes` `GET /health` over HTTP/1.1, one after another, timed one by one;
- flood: the same probes, started as one socket (in a process of its own) sends
  `--initials` Initial packets (each a new connection, from one address, never followed
  up) as fast as it can.

It prints each kind's median and worst probe and their ratios (flood / quiet), the
node's CPU time during the round (all threads), and the node's
`ghost_quic_handshakes_total` counts: how many Initials became handshakes, got a Retry,
or were dropped. The Initials are built before the clock starts (aioquic's client, one
connection each). `--source CHECKOUT` runs the node from another checkout's ghost_cli
(the code before a change, say).
"""

from __future__ import annotations

import argparse
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_bench import server_cpu, start_node  # noqa: E402


def initials(port: int, count: int) -> list[bytes]:
    """`count` first datagrams of as many new connections (each its own connection ID)."""
    out = []
    for _ in range(count):
        config = QuicConfiguration(is_client=True, alpn_protocols=["h3"],
                                   verify_mode=ssl.CERT_NONE)
        conn = QuicConnection(configuration=config)
        conn.connect(("127.0.0.1", port), now=time.time())
        out.extend(data for data, _ in conn.datagrams_to_send(now=time.time()))
    return out


def flood(port: int, path: str) -> None:
    """(In a process of its own, so the probes never wait for its GIL.) Send every
    packet in `path` (2-byte length, packet) from one socket, once the parent says go."""
    data = Path(path).read_bytes()
    packets, pos = [], 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 2], "big")
        packets.append(data[pos + 2:pos + 2 + size])
        pos += 2 + size
    print("ready", flush=True)
    sys.stdin.readline()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))


def start_flood(port: int, path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, "--send", str(port), str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    return proc


def probe(client: httpx.Client, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.get(url).raise_for_status()
        times.append(time.perf_counter() - start)
    return times


def handshakes(client: httpx.Client, url: str) -> dict[str, int]:
    """The node's ghost_quic_handshakes_total, by outcome ({} if it has no such series)."""
    counts = {}
    for line in client.get(url).text.splitlines():
        if line.startswith("ghost_quic_handshakes_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            counts[outcome] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--initials", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--source", type=Path, help="run the node from this checkout")
    parser.add_argument("--send", nargs=2, help=argparse.SUPPRESS)  # the flood's process
    args = parser.parse_args()
    if args.send:
        flood(int(args.send[0]), args.send[1])
        return

    with tempfile.TemporaryDirectory() as tmp:
        proc, bound = start_node(Path(tmp) / "node", args.source)
        try:
            host, port = bound["quic"].rsplit(":", 1)
            health = f"http://{bound['http']}/health"
            metrics = f"http://{bound['http']}/metrics"
            packets = Path(tmp) / "initials"
            packets.write_bytes(b"".join(len(p).to_bytes(2, "big") + p
                                         for p in initials(int(port), args.initials)))
            rows: dict[str, list[float]] = {"quiet": [], "flood": []}
            worst: dict[str, float] = {"quiet": 0.0, "flood": 0.0}
            cpu: dict[str, list[float]] = {"quiet": [], "flood": []}
            with httpx.Client(timeout=60) as client:
                probe(client, health, 5)  # warm
                for _ in range(args.rounds):
                    for kind in ("quiet", "flood"):
                        time.sleep(4)  # QUIC's closing period: the last round's are gone
                        before = server_cpu(proc.pid)
                        sender = start_flood(int(port), packets) if kind == "flood" else None
                        if sender:
                            sender.stdin.write("go\n")
                            sender.stdin.flush()
                        times = probe(client, health, args.probes)
                        if sender:
                            sender.stdin.close()
                            sender.wait()
                        after = server_cpu(proc.pid)
                        rows[kind].append(statistics.median(times))
                        worst[kind] = max(worst[kind], max(times))
                        if before and after:
                            cpu[kind].append(after[0] - before[0])
                counts = handshakes(client, metrics)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    quiet, flooded = min(rows["quiet"]), min(rows["flood"])
    print(f"{args.initials} Initials from one address, {args.probes} GET /health per round, "
          f"{args.rounds} rounds each (best round's median; worst probe of all rounds)")
    print(f"{'round':<7}{'median':>11}{'worst':>11}{'node CPU':>11}")
    for kind, median in (("quiet", quiet), ("flood", flooded)):
        spent = f"{min(cpu[kind]):.2f} s" if cpu[kind] else "-"
        print(f"{kind:<7}{median * 1e3:>8.2f} ms{worst[kind] * 1e3:>8.1f} ms{spent:>11}")
    print(f"flood / quiet: median {flooded / quiet:.2f}x, worst "
          f"{worst['flood'] / worst['quiet']:.2f}x")
    if counts:
        print("handshakes (all rounds): " + ", ".join(f"{k} {v}" for k, v in
                                                       sorted(counts.items())))


if __name__ == "__main__":
    main()
