"""HTTP/3 against hostile clients, and HTTP/3's refusals reported as HTTP/1.1's are.

A QPACK header bomb (a HEADERS frame under the 16 KiB head bound that decodes to tens
of MB through the dynamic table) must neither stall the node nor be answered; a 413 or
503 over HTTP/3 is a `rejected` line and a `ghost_rpc_rejected_total` count, and a 503
says `Retry-After: 1`, as over HTTP/1.1 (docs/rpc.md).

Bounds here are generous liveness bounds (seconds), never timing measurements."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time

import httpx
import pytest
from node_helpers import HAVE_QUIC, running, start_node

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_QUIC, reason="the node has no QUIC adapter")]

#: A generous bound for /health to answer while a client attacks the node.
LIVE = 5.0


def _hint(value: int, prefix: int, first: int = 0) -> bytes:
    """A QPACK/HPACK prefixed integer (RFC 7541 §5.1)."""
    top = (1 << prefix) - 1
    if value < top:
        return bytes([first | value])
    out = [first | top]
    value -= top
    while value >= 128:
        out.append((value % 128) | 0x80)
        value //= 128
    out.append(value)
    return bytes(out)


def _varint(value: int) -> bytes:
    from aioquic.buffer import encode_uint_var

    return encode_uint_var(value)


#: The request's own fields from QPACK's static table: :method POST, :path /, :scheme
#: https, :authority (literal value), content-type application/json.
_REQUEST_FIELDS = b"\xd4\xc1\xd7\x50" + _hint(9, 7) + b"127.0.0.1" + b"\xee"
_HEALTH = b'{"jsonrpc":"2.0","id":1,"method":"ghost_health"}'


def _client_protocol():
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.h3.connection import H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.events import ConnectionTerminated, StreamDataReceived, StreamReset

    class Client(QuicConnectionProtocol):
        """HTTP/3 through aioquic's H3Connection (`h3=True`), or raw QUIC streams for
        hand-made frames (`h3=False`): each stream ends answered, reset or closed."""

        h3_mode = True

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.h3 = H3Connection(self._quic) if self.h3_mode else None
            self.waits: dict[int, asyncio.Future] = {}
            self.answers: dict[int, dict] = {}
            self.terminated: int | None = None  # the connection's error code, once closed

        def _settle(self, stream_id: int, outcome: tuple) -> None:
            wait = self.waits.get(stream_id)
            if wait is not None and not wait.done():
                wait.set_result(outcome)

        def quic_event_received(self, event) -> None:
            if isinstance(event, StreamReset):
                self._settle(event.stream_id, ("reset", event.error_code))
            elif isinstance(event, ConnectionTerminated):
                self.terminated = event.error_code
                for stream_id in list(self.waits):
                    self._settle(stream_id, ("closed", event.error_code))
            elif isinstance(event, StreamDataReceived) and self.h3 is None:
                if event.end_stream:
                    self._settle(event.stream_id, ("answered", None))
            if self.h3 is None:
                return
            for e in self.h3.handle_event(event):
                slot = self.answers.setdefault(e.stream_id, {"headers": {}, "body": b""})
                if isinstance(e, HeadersReceived):
                    slot["headers"] = dict(e.headers)
                elif isinstance(e, DataReceived):
                    slot["body"] += e.data
                if getattr(e, "stream_ended", False):
                    self._settle(e.stream_id, ("answered", slot))

        def request(self, body: bytes, extra: tuple = (), end: bool = True) -> int:
            stream_id = self._quic.get_next_available_stream_id()
            self.waits[stream_id] = self._loop.create_future()
            self.h3.send_headers(stream_id, [
                (b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"127.0.0.1"),
                (b":path", b"/"), (b"content-type", b"application/json"), *extra])
            self.h3.send_data(stream_id, body, end_stream=end)
            self.transmit()
            return stream_id

        def raw(self, stream_id: int, data: bytes, end: bool = False) -> None:
            if stream_id not in self.waits and not stream_id & 0x2:
                self.waits[stream_id] = self._loop.create_future()
            self._quic.send_stream_data(stream_id, data, end_stream=end)

        async def outcome(self, stream_id: int, timeout: float) -> tuple:
            if self.terminated is not None:  # closed, maybe before this stream was sent
                self._settle(stream_id, ("closed", self.terminated))
            try:
                return await asyncio.wait_for(asyncio.shield(self.waits[stream_id]), timeout)
            except TimeoutError:
                return ("timeout", None)

    return Client


def _connect(bound: dict, *, h3: bool = True):
    from aioquic.asyncio.client import connect
    from aioquic.h3.connection import H3_ALPN
    from aioquic.quic.configuration import QuicConfiguration

    host, port = bound["quic"].rsplit(":", 1)
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    config.load_verify_locations(cafile=bound["ca"])
    protocol = _client_protocol()
    protocol.h3_mode = h3
    return connect(host, int(port), configuration=config, create_protocol=protocol)


def _health_seconds(url: str) -> float | None:
    """How long /health took over HTTP/1.1, or None if it did not answer within LIVE."""
    start = time.monotonic()
    try:
        ok = httpx.get(f"{url}/health", timeout=LIVE).json()["ok"]
    except httpx.HTTPError:
        return None
    return time.monotonic() - start if ok else None


def test_a_qpack_header_bomb_neither_stalls_the_node_nor_is_answered(tmp_path):
    """One 4 KB dynamic-table entry referenced 15,000 times from a 15 KB HEADERS frame:
    60 MB of headers per stream, were the node to decode them."""
    node = start_node(tmp_path / "data")
    streams, refs, value = 16, 15_000, 4000

    async def bomb() -> list[tuple]:
        async with _connect(node.bound, h3=False) as c:
            await asyncio.sleep(0.3)  # the node's SETTINGS arrive
            quic = c._quic
            control = quic.get_next_available_stream_id(is_unidirectional=True)
            c.raw(control, b"\x00" + _varint(4) + b"\x00")  # control stream, empty SETTINGS
            encoder = quic.get_next_available_stream_id(is_unidirectional=True)
            # Set Dynamic Table Capacity 4096; Insert With Literal Name x-bomb: "a" * 4000.
            c.raw(encoder, b"\x02" + _hint(4096, 5, 0x20) + _hint(6, 5, 0x40) + b"x-bomb"
                  + _hint(value, 7) + b"a" * value)
            c.transmit()
            await asyncio.sleep(0.2)
            # Required Insert Count 1, Base 1; then the entry by relative index 0, again
            # and again.
            block = b"\x02\x00" + _REQUEST_FIELDS + b"\x80" * refs
            assert len(block) < 16 * 1024  # within the documented HEADERS bound
            sent = []
            for _ in range(streams):
                sid = quic.get_next_available_stream_id()
                c.raw(sid, _varint(1) + _varint(len(block)) + block + _varint(0)
                      + _varint(len(_HEALTH)) + _HEALTH, end=True)
                sent.append(sid)
            c.transmit()
            await asyncio.sleep(0.5)  # the frames have reached the node
            health = await asyncio.to_thread(_health_seconds, node.url)
            outcomes = [await c.outcome(sid, LIVE) for sid in sent]
            return health, outcomes

    try:
        health, outcomes = asyncio.run(bomb())
        # The node answered others at once, and none of the bombs.
        assert health is not None, "/health did not answer while the bomb was decoded"
        assert all(kind in ("reset", "closed") for kind, _ in outcomes), outcomes
        assert httpx.get(f"{node.url}/health", timeout=LIVE).json()["ok"] is True
    finally:
        assert node.stop(timeout=LIVE) == 0


def _metric(text: str, name: str, code: str) -> float:
    found = re.search(rf'^{name}{{code="{code}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_http3_413_and_503_are_rejected_lines_and_counts_and_503_says_retry_after(tmp_path):
    """In process: the pool refuses every body as busy (as a full queue does)."""
    from ghost_cli.exceptions import NodeBusyError
    from ghost_cli.node.config import Endpoint, NodeConfig
    from ghost_cli.node.service import NodeService

    out = io.StringIO()
    config = NodeConfig(data_dir=tmp_path / "data", http=Endpoint("127.0.0.1", 0),
                        quic=Endpoint("127.0.0.1", 0))
    service = NodeService(config, log_stream=out)

    async def busy(*args, **kwargs):
        raise NodeBusyError("the node's execution queue is full: retry later")

    service.pool.run_from = busy

    async def scenario():
        async with running(service) as bound:
            async with _connect(bound) as c:
                big = c.request(b"{", extra=((b"content-length", b"5242880"),), end=False)
                refused = c.request(_HEALTH)
                too_large = await c.outcome(big, LIVE)
                unavailable = await c.outcome(refused, LIVE)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"http://{bound['http']}/metrics")).text
        return too_large, unavailable, metrics

    too_large, unavailable, metrics = asyncio.run(scenario())
    assert too_large[0] == "answered" and too_large[1]["headers"][b":status"] == b"413"
    assert json.loads(too_large[1]["body"])["error"]["data"]["code"] == "too_large"
    assert unavailable[0] == "answered"
    answer = unavailable[1]
    assert answer["headers"][b":status"] == b"503"
    assert answer["headers"].get(b"retry-after") == b"1"
    assert json.loads(answer["body"])["error"]["data"]["code"] == "busy"
    assert _metric(metrics, "ghost_rpc_rejected_total", "too_large") == 1
    assert _metric(metrics, "ghost_rpc_rejected_total", "busy") == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    rejected = [(r["code"], r["peer"].startswith("127.0.0.1:")) for r in lines
                if r["event"] == "rejected"]
    assert sorted(rejected) == [("busy", True), ("too_large", True)]


def test_health_answers_while_a_client_sends_static_table_amplified_headers(tmp_path):
    """With no dynamic table, what is left is QPACK's static table (a 1-byte reference
    decodes to at most 69 bytes): each such HEADERS frame is reset, and the node and the
    attacker's connection go on serving."""
    node = start_node(tmp_path / "data")
    sts = b"\xfa"  # static 58: strict-transport-security: max-age=31536000; ...

    async def scenario():
        async with _connect(node.bound, h3=False) as c:
            await asyncio.sleep(0.3)
            quic = c._quic
            control = quic.get_next_available_stream_id(is_unidirectional=True)
            c.raw(control, b"\x00" + _varint(4) + b"\x00")
            block = b"\x00\x00" + _REQUEST_FIELDS + sts * 16_000
            sent = []
            for _ in range(30):
                sid = quic.get_next_available_stream_id()
                c.raw(sid, _varint(1) + _varint(len(block)) + block + _varint(0)
                      + _varint(len(_HEALTH)) + _HEALTH, end=True)
                sent.append(sid)
            c.transmit()
            outcomes = [await c.outcome(sid, LIVE) for sid in sent]
            # The same connection still serves a request of ordinary size.
            small = quic.get_next_available_stream_id()
            plain = b"\x00\x00" + _REQUEST_FIELDS
            c.raw(small, _varint(1) + _varint(len(plain)) + plain + _varint(0)
                  + _varint(len(_HEALTH)) + _HEALTH, end=True)
            c.transmit()
            return outcomes, await c.outcome(small, LIVE)

    try:
        stop = threading.Event()
        worst = []

        def probe():
            while not stop.is_set():
                worst.append(_health_seconds(node.url))
                time.sleep(0.05)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            outcomes, small = asyncio.run(scenario())
        finally:
            stop.set()
            prober.join(LIVE * 2)
        from aioquic.h3.connection import ErrorCode

        assert outcomes == [("reset", ErrorCode.H3_EXCESSIVE_LOAD)] * 30
        assert small[0] == "answered"
        assert None not in worst
    finally:
        assert node.stop(timeout=LIVE) == 0
