"""A node under hostile load, as a real process on loopback: never-ending contracts at
large gas limits, a full execution queue, slow-body connections, junk requests. The node
must keep answering /health, queries and transactions, and stop promptly on SIGTERM.

Bounds here are generous liveness bounds (seconds), never timing measurements."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import threading
import time

import httpx
import pytest
from node_helpers import HAVE_QUIC, Client, start_node

from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.node.logging import LINE_BUDGETS
from ghost_cli.vm.gas import MAX_TX_GAS

pytestmark = pytest.mark.slow

#: Far more gas than any run may take: only the wall-clock backstop (or a node's gas
#: cap) ends a never-ending call at this limit.
HUGE_GAS = MAX_TX_GAS  # the per-transaction cap: seconds of work at any price
#: A generous bound for an answer while the node is under attack.
LIVE = 60.0
#: The node's default query gas cap (docs/rpc.md).
QUERY_GAS_CAP = 10_000_000


def _deploy(client: Client, code: bytes, label: str) -> str:
    return client.result("ghost_sendTransaction",
                         tx=client.tx("deploy", code=code, label=label))["address"]


class Attackers:
    """Clients calling never-ending functions back to back until stopped."""

    def __init__(self, url: str, spin: str, keys: list[KeyPair], queries: int) -> None:
        self.url, self.spin, self.stop = url, spin, threading.Event()
        self.replies: list[dict] = []
        self.threads = [threading.Thread(target=self._txs, args=(k,), daemon=True)
                        for k in keys]
        self.threads += [threading.Thread(target=self._queries, daemon=True)
                         for _ in range(queries)]

    def __enter__(self) -> Attackers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(LIVE)

    def _txs(self, key: KeyPair) -> None:
        with Client(self.url, key, httpx.Client(timeout=LIVE)) as c:
            while not self.stop.is_set():
                try:
                    doc = c.call_tx(self.spin, "spin", gas_limit=HUGE_GAS)
                    self.replies.append(c.send(doc))
                except (httpx.HTTPError, AssertionError):
                    return  # the node went away (the SIGTERM test)

    def _queries(self) -> None:
        body = {"jsonrpc": "2.0", "id": 1, "method": "ghost_query",
                "params": {"address": self.spin, "function": "spin",
                           "gas_limit": QUERY_GAS_CAP}}
        with httpx.Client(timeout=LIVE) as http:
            while not self.stop.is_set():
                try:
                    self.replies.append(http.post(self.url, json=body).json())
                except (httpx.HTTPError, ValueError):
                    return


def test_health_queries_and_transactions_answer_while_clients_run_endless_calls(
        tmp_path, key, counter_code, spin_code):
    node = start_node(tmp_path / "data")
    try:
        with Client(node.url, key, httpx.Client(timeout=LIVE)) as victim:
            counter = _deploy(victim, counter_code, "counter")
            spin = _deploy(victim, spin_code, "spin")
            # Ten endless callers: more than the node's 4 workers, and more than the 6
            # threads that once served HTTP, HTTP/3 and /health together.
            keys = [KeyPair.generate("ml-dsa-65", bytes([i]) * 32) for i in range(31, 35)]
            with Attackers(node.url, spin, keys, queries=6) as attack:
                time.sleep(1.0)  # every worker has an endless call by now
                for _ in range(5):
                    r = httpx.get(f"{node.url}/health", timeout=10.0)
                    assert r.status_code == 200 and r.json()["ok"] is True
                got = victim.result("ghost_query", address=counter, function="get")
                assert got["return_data"] == "0x" + (0).to_bytes(8, "little").hex()
                # Queued first come, first served behind at most four endless calls,
                # each ended by the 5 s wall-clock backstop.
                sent = victim.send(victim.call_tx(counter, "increment"))
                assert sent["result"]["return_data"] == "0x" + (1).to_bytes(8, "little").hex()
                height = sent["result"]["block_height"]
                assert httpx.get(f"{node.url}/health", timeout=10.0).json()["height"] >= height
            # The endless calls really ran, and every one ended in an error.
            errors = [r["error"]["data"]["code"] for r in attack.replies if "error" in r]
            assert errors and len(errors) == len(attack.replies)
            assert "timeout" in errors or "out_of_gas" in errors
            assert victim.nonce() == 3
    finally:
        assert node.stop() == 0


def test_sigterm_stops_the_node_within_seconds_while_endless_calls_run(
        tmp_path, key, spin_code):
    node = start_node(tmp_path / "data", "--workers", "2")
    with Client(node.url, key) as c:
        spin = _deploy(c, spin_code, "spin")
    keys = [KeyPair.generate("ml-dsa-65", bytes([i]) * 32) for i in (41, 42, 43)]
    with Attackers(node.url, spin, keys, queries=2):
        time.sleep(1.5)  # both workers inside an endless call, the rest queued
        node.proc.send_signal(signal.SIGTERM)
        assert node.proc.wait(20.0) == 0  # 2 s grace, then running calls are abandoned
    assert node.log()[-1]["event"] == "node_stopped"


def test_a_full_execution_queue_is_a_busy_error_and_health_still_answers(
        tmp_path, key, spin_code):
    node = start_node(tmp_path / "data", "--workers", "1", "--queue", "1")
    try:
        with Client(node.url, key) as c:
            spin = _deploy(c, spin_code, "spin")
            docs = [c.call_tx(spin, "spin", gas_limit=HUGE_GAS, nonce=0,
                              key=KeyPair.generate("ml-dsa-65", bytes([i]) * 32))
                    for i in range(51, 57)]  # six endless calls for one worker and one slot
        replies: list[httpx.Response] = []

        def send(doc: dict) -> None:
            replies.append(httpx.post(node.url, timeout=LIVE, json={
                "jsonrpc": "2.0", "id": 1, "method": "ghost_sendTransaction",
                "params": {"tx": doc}}))

        threads = [threading.Thread(target=send, args=(d,)) for d in docs]
        for t in threads:
            t.start()
        time.sleep(0.5)
        assert httpx.get(f"{node.url}/health", timeout=10.0).json()["ok"] is True
        for t in threads:
            t.join(LIVE)
        busy = [r for r in replies if r.status_code == 503]
        assert busy, [r.status_code for r in replies]
        for r in busy:
            err = r.json()["error"]
            assert (err["code"], err["data"]["code"]) == (-32052, "busy")
            assert r.headers["retry-after"] == "1"
        metrics = httpx.get(f"{node.url}/metrics").text
        assert 'ghost_rpc_rejected_total{code="busy"}' in metrics
    finally:
        node.stop()


def test_one_address_flooding_the_queue_does_not_lock_another_out(
        tmp_path, key, counter_code, spin_code):
    """The waiting places are shared by client address (docs/rpc.md): from 127.0.0.1,
    more endless queries than the node has places; from 127.0.0.2, a victim's queries
    each find a place (the flood's newest gives it up) and are answered."""
    node = start_node(tmp_path / "data", "--workers", "1", "--queue", "4")
    try:
        with Client(node.url, key) as c:
            counter = _deploy(c, counter_code, "counter")
            spin = _deploy(c, spin_code, "spin")
        with Attackers(node.url, spin, [], queries=8) as attack:
            deadline = time.monotonic() + LIVE
            while not any("error" in r and r["error"]["data"]["code"] == "busy"
                          for r in list(attack.replies)):
                assert time.monotonic() < deadline, "the flood never filled the queue"
                time.sleep(0.05)
            other = httpx.HTTPTransport(local_address="127.0.0.2")
            with httpx.Client(transport=other, timeout=LIVE) as victim:
                for _ in range(5):
                    r = victim.post(node.url, json={
                        "jsonrpc": "2.0", "id": 1, "method": "ghost_query",
                        "params": {"address": counter, "function": "get"}})
                    assert r.status_code == 200, r.text
                    assert r.json()["result"]["return_data"] == "0x" + bytes(8).hex()
        busy = [r for r in attack.replies if r.get("error", {}).get("data", {}).get("code")
                == "busy"]
        assert any("gave its place to another client's" in r["error"]["message"]
                   for r in busy)
    finally:
        assert node.stop() == 0


def _slow_body(host: str, port: int) -> socket.socket:
    """A connection that sends headers and a little of a body it never finishes."""
    s = socket.create_connection((host, port), timeout=10.0)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n{\"jsonrpc\":")
    return s


def _closed_by_node(s: socket.socket) -> bool:
    s.settimeout(0.5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_slow_body_connections_are_capped_and_timed_out_and_health_answers(tmp_path):
    node = start_node(tmp_path / "data", "--max-connections", "16")
    host, port = node.bound["http"].rsplit(":", 1)
    slow: list[socket.socket] = []
    try:
        for _ in range(60):  # far past the cap
            slow.append(_slow_body(host, int(port)))
        for _ in range(3):
            r = httpx.get(f"{node.url}/health", timeout=10.0)
            assert r.status_code == 200 and r.json()["ok"] is True
        metrics = httpx.get(f"{node.url}/metrics", timeout=10.0).text
        [open_now] = [line for line in metrics.splitlines()
                      if line.startswith('ghost_connections_open{transport="http"}')]
        assert float(open_now.split()[-1]) <= 16
        time.sleep(10.0)  # the 10 s request deadline
        deadline = time.monotonic() + LIVE
        while not all(_closed_by_node(s) for s in slow):
            assert time.monotonic() < deadline, "slow connections outlived the deadline"
        states = {rec["state"] for rec in node.log() if rec["event"] == "connection"
                  and rec["transport"] == "http"}
        assert {"evicted", "timeout"} <= states
        assert httpx.get(f"{node.url}/health", timeout=10.0).json()["ok"] is True
    finally:
        for s in slow:
            s.close()
        node.stop()


def test_bad_ids_junk_and_huge_names_cost_nothing(tmp_path, key, counter_code):
    node = start_node(tmp_path / "data")
    try:
        with Client(node.url, key) as c:
            counter = _deploy(c, counter_code, "counter")
            doc = c.call_tx(counter, "increment")
            # An id the reply could not carry: refused before the transaction runs.
            body = (b'{"jsonrpc":"2.0","id":1e400,"method":"ghost_sendTransaction",'
                    b'"params":{"tx":' + json.dumps(doc).encode() + b"}}")
            r = httpx.post(node.url, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 200
            assert r.json()["error"]["code"] == -32600 and r.json()["id"] is None
            batch = (b'[{"jsonrpc":"2.0","id":1e400,"method":"ghost_health"},'
                     b'{"jsonrpc":"2.0","id":2,"method":"ghost_health"}]')
            r = httpx.post(node.url, content=batch, headers={"content-type": "application/json"})
            first, second = r.json()
            assert first["error"]["code"] == -32600 and second["result"]["ok"] is True
            assert c.nonce() == 1  # the transaction never ran

            # Junk transactions at random targets add no metric series.
            junk = KeyPair.generate("ml-dsa-65", b"\x77" * 32)
            targets = ["0x" + bytes([i, 0xEE] * 10).hex() for i in range(60)]

            def send_junk(to: list[str]) -> str:
                for t in to:
                    bad = c.call_tx(t, "f", key=junk, nonce=0)
                    bad["auth"]["signature"] = "00" + bad["auth"]["signature"][2:]
                    assert c.send(bad)["error"]["data"]["code"] == "bad_signature"
                return httpx.get(f"{node.url}/metrics").text

            after_10 = send_junk(targets[:10])
            after_60 = send_junk(targets[10:])
            assert not any(t[2:] in after_60 for t in targets)
            assert 'ghost_contract_failures_total{code="bad_signature",contract="other"} 60.0' \
                in after_60
            series = [line.rsplit(" ", 1)[0] for line in after_60.splitlines()
                      if not line.startswith("#")]
            assert series == [line.rsplit(" ", 1)[0] for line in after_10.splitlines()
                              if not line.startswith("#")]

            # A 1 MB method name is not echoed back.
            r = c.http.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": "m" * 1_000_000})
            assert r.json()["error"]["code"] == -32601 and len(r.content) < 1000
            # Oversized call data is refused from its length.
            err = c.error("ghost_query", address=counter, function="get",
                          args="0x" + "00" * (64 * 1024 + 1))
            assert (err["code"], err["data"]["code"]) == (-32001, "too_large")
            # Addresses need their 0x.
            err = c.error("ghost_getAccount", address=counter[2:])
            assert err["code"] == -32602
            # A query over the query gas cap is refused, at the cap it runs.
            err = c.error("ghost_query", address=counter, function="get",
                          gas_limit=QUERY_GAS_CAP + 1)
            assert err["code"] == -32602 and err["data"]["limit"] == QUERY_GAS_CAP
            assert c.result("ghost_query", address=counter, function="get",
                            gas_limit=QUERY_GAS_CAP)["gas_used"] > 0

            metrics = httpx.get(f"{node.url}/metrics").text
            assert "process_resident_memory_bytes" in metrics and "process_open_fds" in metrics
            assert 'ghost_execution_seconds_count{kind="query",status="ok"}' in metrics
            assert 'ghost_execution_seconds_count{kind="call",status="failed"}' in metrics
    finally:
        node.stop()


def test_transport_failures_are_json_log_lines(tmp_path):
    node = start_node(tmp_path / "data")
    try:
        host, port = node.bound["http"].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10.0) as s:
            s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            s.recv(1024)  # uvicorn's 400
        assert httpx.get(f"{node.url}/health").json()["ok"] is True
    finally:
        node.stop()
    lines = node.log()  # every line is JSON (log() parses each)
    errors = [rec for rec in lines if rec["event"] == "library_error"]
    assert any(rec["source"].startswith("uvicorn") for rec in errors), errors
    stderr = (node.data_dir.parent / f"{node.data_dir.name}.stderr").read_text()
    assert "Invalid HTTP request" not in stderr and "Traceback" not in stderr


def _exchange(host: str, port: int, pieces: list[bytes]) -> bytes:
    """Send `pieces` one write (and one pause) at a time; the first line of the answer."""
    with socket.create_connection((host, port), timeout=10.0) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # answered and closed before the rest was sent
            time.sleep(0.05)
        answer = b""
        while b"\r\n" not in answer:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n", 1)[0]


def test_request_heads_are_bounded_however_they_arrive(tmp_path):
    """16 KiB of request line and headers (docs/rpc.md), in one write or many."""
    node = start_node(tmp_path / "data")
    host, port = node.bound["http"].rsplit(":", 1)

    def head(size: int) -> bytes:
        start = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: "
        return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"

    try:
        for size in (16 * 1024, 16 * 1024 + 1, 20_000, 100_000):
            whole = head(size)
            expected = b"HTTP/1.1 200 OK" if size <= 16 * 1024 else b"HTTP/1.1 400 Bad Request"
            assert _exchange(host, int(port), [whole]) == expected, size
            pieces = [whole[i:i + 4096] for i in range(0, len(whole), 4096)]
            assert _exchange(host, int(port), pieces) == expected, size
        assert httpx.get(f"{node.url}/health").json()["ok"] is True
    finally:
        node.stop()


@pytest.mark.skipif(not HAVE_QUIC, reason="the node has no QUIC adapter")
def test_a_full_queue_is_the_same_busy_error_over_http3(tmp_path, key, spin_code):
    from ghost_cli.client.rpc_client import SyncGhostClient
    from ghost_cli.exceptions import NodeBusyError

    node = start_node(tmp_path / "data", "--workers", "1", "--queue", "1")
    try:
        with Client(node.url, key) as c:
            spin = _deploy(c, spin_code, "spin")
            docs = [c.call_tx(spin, "spin", gas_limit=HUGE_GAS, nonce=0,
                              key=KeyPair.generate("ml-dsa-65", bytes([i]) * 32))
                    for i in range(61, 73)]
        # Priced from wall time, an endless call ends within seconds (gas cap), so two
        # feeders keep the one worker and the one queue slot busy with a stream of them.
        pending = list(docs)
        done = threading.Event()

        def feed() -> None:
            while pending and not done.is_set():
                doc = pending.pop()
                reply = httpx.post(node.url, timeout=LIVE, json={
                    "jsonrpc": "2.0", "id": 1, "method": "ghost_sendTransaction",
                    "params": {"tx": doc}})
                if reply.status_code == 503:  # refused unrun: send it again shortly
                    pending.append(doc)
                    time.sleep(0.01)

        # Three feeders, retrying sooner than the probe below looks: when the queue's one
        # place frees, a feeder takes it again before the probe can (a probe that takes
        # it waits there for the worker, and then finds the place free again).
        feeders = [threading.Thread(target=feed) for _ in range(3)]
        for t in feeders:
            t.start()
        busy = None
        deadline = time.monotonic() + LIVE
        with SyncGhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"],
                             transport="quic") as h3:
            while busy is None and pending and time.monotonic() < deadline:
                try:
                    h3.health()
                except NodeBusyError as exc:
                    busy = exc
                time.sleep(0.05)
        done.set()
        for t in feeders:
            t.join(LIVE)
        assert isinstance(busy, NodeBusyError), "the queue never filled"
        assert busy.code == "busy"
    finally:
        node.stop()


def _pipelined_answers(host: str, port: int, data: bytes) -> list[bytes]:
    """Send `data` (pipelined requests) and read until the node closes: each answer's
    status line."""
    with socket.create_connection((host, port), timeout=LIVE) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", answer)


def test_a_pipelined_request_head_is_bounded_too(tmp_path):
    """A head behind an earlier request on the connection arrives while that one runs:
    it is measured when its turn comes, not parsed whatever its size."""
    node = start_node(tmp_path / "data")
    host, port = node.bound["http"].rsplit(":", 1)
    small = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    padded = (b"GET /health HTTP/1.1\r\nHost: x\r\n"
              + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 90) for i in range(500))
              + b"Connection: close\r\n\r\n")
    try:
        assert len(padded) > 16 * 1024
        assert _pipelined_answers(host, int(port), small + padded) == [
            b"HTTP/1.1 200 OK", b"HTTP/1.1 400 Bad Request"]
        assert _pipelined_answers(host, int(port), small + small.replace(
            b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")) == [b"HTTP/1.1 200 OK"] * 2
    finally:
        node.stop()


def _resident_bytes(url: str) -> float:
    metrics = httpx.get(f"{url}/metrics", timeout=LIVE).text
    [line] = [x for x in metrics.splitlines() if x.startswith("process_resident_memory_bytes")]
    return float(line.split()[-1])


def test_pipelined_requests_are_read_only_a_little_ahead(tmp_path):
    """Clients that pipeline megabytes of requests are read as they are answered: the
    node holds 64 KiB (and one socket read) ahead per connection, not what they sent."""
    node = start_node(tmp_path / "data")
    host, port = node.bound["http"].rsplit(":", 1)
    body = b'{"jsonrpc":"2.0","id":1,"method":"ghost_getAccount","params":' \
           b'{"address":"0x0000000000000000000000000000000000000001"}}'
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    stream = request * (8 * 1024 * 1024 // len(request))  # 8 MiB each
    clients = [socket.create_connection((host, int(port))) for _ in range(16)]
    try:
        before = _resident_bytes(node.url)
        for s in clients:  # however much the kernel takes in 2 s: never reading answers
            s.setblocking(False)
        sent = [0] * len(clients)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            for i, s in enumerate(clients):
                with contextlib.suppress(BlockingIOError):
                    sent[i] += s.send(stream[sent[i]:sent[i] + 1024 * 1024])
            time.sleep(0.01)
        assert sum(sent) > 64 * 1024 * 1024  # what unbounded read-ahead would hold
        grown = _resident_bytes(node.url) - before
        assert grown < 32 * 1024 * 1024, grown
        assert httpx.get(f"{node.url}/health", timeout=LIVE).json()["ok"] is True
    finally:
        for s in clients:
            s.close()
        node.stop()


def _never_reading(host: str, port: int) -> socket.socket:
    """A connection that sends batches, pipelined, and never reads an answer: once the
    socket's buffers are full, the node's answers wait on it."""
    one = {"jsonrpc": "2.0", "method": "ghost_getAccount",
           "params": {"address": "0x" + "00" * 19 + "01"}}
    body = json.dumps([dict(one, id=i) for i in range(100)]).encode()
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.settimeout(0.5)
    with contextlib.suppress(TimeoutError, BlockingIOError):
        while True:  # until the kernel takes no more: the node stopped reading it
            s.sendall(request * 20)
    return s


def _health_within(url: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(f"{url}/health", timeout=10.0).json()
        except httpx.TransportError:  # refused at the cap: try again
            assert time.monotonic() < deadline, "no connection for /health"
            time.sleep(0.2)


def _ended(node) -> list[tuple[str, str]]:
    return [(rec["state"], rec.get("reason")) for rec in node.log()
            if rec["event"] == "connection" and rec["transport"] == "http"
            and rec["state"] in ("evicted", "timeout")]


def test_answers_never_read_neither_hold_connections_nor_lock_others_out(tmp_path):
    """A client that never reads its answers has only run requests, so it is not idle,
    yet it held its connection for as long as it liked, and a few such connections held
    every place: now each is evicted first at the cap, and closed once its answer has
    gone unread for 10 s."""
    node = start_node(tmp_path / "data", "--max-connections", "4")
    host, port = node.bound["http"].rsplit(":", 1)
    stuck = [_never_reading(host, int(port)) for _ in range(4)]
    try:
        for _ in range(3):
            assert _health_within(node.url, LIVE)["ok"] is True
        deadline = time.monotonic() + LIVE
        while len(_ended(node)) < len(stuck):
            assert time.monotonic() < deadline, "unread answers held their connections"
            time.sleep(0.2)
        assert set(_ended(node)) <= {("evicted", "connection cap reached"),
                                     ("timeout", "answer not read within 10 s")}
    finally:
        for s in stuck:
            s.close()
        node.stop()


def test_refused_transactions_are_log_lines_within_a_budget(tmp_path, key, counter_code):
    """A transaction its checks refuse costs its sender nothing, so one signed
    transaction sent again and again was a free `tx` line each (about 6,000 lines, 2 MB,
    a second): such lines now have a budget; a recorded transaction's line has none."""
    node = start_node(tmp_path / "data")
    sent = 3000
    try:
        with Client(node.url, key) as c:
            doc = c.call_tx("0x" + "11" * 20, "f", chain_id=999, nonce=0)
            batch = [{"jsonrpc": "2.0", "id": i, "method": "ghost_sendTransaction",
                      "params": {"tx": doc}} for i in range(100)]
            started = time.monotonic()
            for _ in range(sent // len(batch)):
                replies = c.http.post(node.url, json=batch).json()
                assert {r["error"]["data"]["code"] for r in replies} == {"wrong_chain"}
            sending = time.monotonic() - started
            counter = _deploy(c, counter_code, "counter")
            metrics = httpx.get(f"{node.url}/metrics").text
            assert f'ghost_contract_failures_total{{code="wrong_chain",contract="other"}} ' \
                   f'{float(sent)}' in metrics  # the metrics count every one
    finally:
        node.stop()
    log = node.log()
    refused = [r for r in log if r["event"] == "tx" and r["status"] == "wrong_chain"]
    untold = sum(r["lines"] for r in log if r["event"] == "suppressed" and r["of"] == "tx")
    # the budget: its burst, refilled at its rate while the lines came (a loaded machine
    # sends more slowly, and so is allowed more lines, never fewer)
    burst, rate = LINE_BUDGETS["tx"]
    assert len(refused) <= burst + rate * sending + 1 and len(refused) + untold == sent
    [deploy] = [r for r in log if r["event"] == "tx" and r["status"] == "ok"]
    assert deploy["contract"] == counter.lower()


def test_the_next_request_on_a_kept_alive_connection_has_its_own_deadline(tmp_path):
    """A request must arrive whole within the deadline of the previous response, as the
    first within that of the connection opening: a client that trickles its second
    request's head does not hold the connection for ever."""
    node = start_node(tmp_path / "data")
    host, port = node.bound["http"].rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10.0)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        while not _closed_by_node(s):
            assert time.monotonic() - started < LIVE, "the second request had no deadline"
            with contextlib.suppress(OSError):
                s.sendall(b"X-Slow: 1\r\n")  # a byte now and then, as slowloris does
        timeouts = [rec for rec in node.log() if rec["event"] == "connection"
                    and rec["transport"] == "http" and rec["state"] == "timeout"]
        assert timeouts and "no whole request" in timeouts[-1]["reason"]
    finally:
        s.close()
        node.stop()
