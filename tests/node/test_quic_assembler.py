"""The HTTP/3 request layer, sans-IO: two in-memory QUIC connections pass datagrams by
hand (aioquic's own testing habit), so every limit is checked without a socket."""

from __future__ import annotations

import json

import pytest
from aioquic.buffer import encode_uint_var
from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import StreamReset

from ghost_cli.node.quic import QuicLimits, RequestAssembler, server_configuration, too_large_body
from ghost_cli.node.tls import ensure_dev_tls

CLIENT_ADDR, SERVER_ADDR = ("127.0.0.1", 50000), ("127.0.0.1", 8443)


class Pair:
    """A client H3 connection and a server RequestAssembler, joined in memory."""

    def __init__(self, tmp_path, limits: QuicLimits, max_body: int = 1000) -> None:
        self.now = 1.0
        files = ensure_dev_tls(tmp_path / "node")
        config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                                   server_name="localhost")
        config.load_verify_locations(cadata=files.ca.read_bytes())
        self.client = QuicConnection(configuration=config)
        self.server = QuicConnection(
            configuration=server_configuration(files, limits),
            original_destination_connection_id=self.client.original_destination_connection_id)
        self.client_h3 = H3Connection(self.client)
        self.server_h3 = RequestAssembler(self.server, limits, max_body=max_body,
                                          too_large=too_large_body(max_body))
        self.requests: list = []
        self.responses: dict[int, dict] = {}
        self.client.connect(SERVER_ADDR, now=self.now)
        self.pump()

    def pump(self) -> None:
        """Move datagrams both ways and handle events until both sides fall quiet."""
        for _ in range(50):
            self.now += 0.01  # time moves, or aioquic's pacer holds packets back
            moved = 0
            for data, _ in self.client.datagrams_to_send(now=self.now):
                self.server.receive_datagram(data, CLIENT_ADDR, now=self.now)
                moved += 1
            for data, _ in self.server.datagrams_to_send(now=self.now):
                self.client.receive_datagram(data, SERVER_ADDR, now=self.now)
                moved += 1
            while (event := self.server.next_event()) is not None:
                self.requests += self.server_h3.receive(event)
                moved += 1
            while (event := self.client.next_event()) is not None:
                self._client_event(event)
                moved += 1
            if not moved:
                return
        raise AssertionError("the connections never fell quiet")

    def _client_event(self, event) -> None:
        if isinstance(event, StreamReset):
            self.responses.setdefault(event.stream_id, {})["reset"] = event.error_code
        for e in self.client_h3.handle_event(event):
            slot = self.responses.setdefault(e.stream_id, {"body": b""})
            if isinstance(e, HeadersReceived):
                slot["status"] = int(dict(e.headers)[b":status"])
            elif isinstance(e, DataReceived):
                slot["body"] = slot.get("body", b"") + e.data

    def send(self, body: bytes = b"{}", *, method: bytes = b"POST", path: bytes = b"/",
             end: bool = True, length: int | None = None,
             ctype: bytes | None = b"application/json") -> int:
        stream_id = self.client.get_next_available_stream_id()
        headers = [(b":method", method), (b":scheme", b"https"),
                   (b":authority", b"localhost"), (b":path", path)]
        if ctype is not None:
            headers.append((b"content-type", ctype))
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        self.client_h3.send_headers(stream_id, headers)
        self.client_h3.send_data(stream_id, body, end_stream=end)
        self.pump()
        return stream_id


@pytest.fixture
def pair(tmp_path):
    return Pair(tmp_path, QuicLimits(max_streams=3, max_buffered=1500, max_head=2000))


def _raw_headers_frame(pair: Pair, declared: int, sent: bytes) -> int:
    """A HEADERS frame that declares `declared` bytes and carries `sent` of them."""
    stream_id = pair.client.get_next_available_stream_id()
    pair.client.send_stream_data(stream_id, encode_uint_var(0x1) + encode_uint_var(declared)
                                 + sent)
    pair.pump()
    return stream_id


def test_a_post_becomes_one_request_and_its_response_reaches_the_client(pair):
    stream = pair.send(b'{"jsonrpc": "2.0"}', length=18)
    [request] = pair.requests
    assert (request.stream_id, request.body) == (stream, b'{"jsonrpc": "2.0"}')
    pair.server_h3.respond(stream, 200, b'{"ok": 1}')
    pair.pump()
    assert pair.responses[stream] == {"status": 200, "body": b'{"ok": 1}'}
    assert pair.server_h3.open_streams == 0


def test_wrong_method_or_path_is_answered_without_a_request(pair):
    get = pair.send(b"", method=b"GET")
    elsewhere = pair.send(b"{}", path=b"/admin")
    assert pair.requests == []
    assert pair.responses[get]["status"] == 405
    assert pair.responses[elsewhere]["status"] == 404
    assert pair.server_h3.open_streams == 0


def test_another_content_type_is_415_as_over_http1(pair):
    plain = pair.send(b"{}", ctype=b"text/plain")
    missing = pair.send(b"{}", ctype=None)
    charset = pair.send(b"{}", ctype=b"application/json; charset=utf-8")
    assert [r.stream_id for r in pair.requests] == [charset]
    assert pair.responses[plain]["status"] == pair.responses[missing]["status"] == 415


def test_a_body_over_the_limit_is_refused_by_its_length_or_as_it_arrives(pair):
    declared = pair.send(b"x" * 10, length=5000, end=False)
    undeclared = pair.send(b"x" * 1200)
    assert pair.requests == []
    for stream in (declared, undeclared):
        assert pair.responses[stream]["status"] == 413
        error = json.loads(pair.responses[stream]["body"])["error"]
        assert error["data"]["code"] == "too_large" and "1000 bytes" in error["message"]
    assert pair.server_h3.open_streams == 0


def test_streams_over_the_limit_are_rejected_for_a_retry_and_freed_ones_are_reused(pair):
    held = [pair.send(b"{", end=False) for _ in range(3)]  # bodies never finish
    extra = pair.send(b"{}")
    assert pair.responses[extra]["reset"] == ErrorCode.H3_REQUEST_REJECTED
    assert pair.server_h3.open_streams == 3 and pair.server_h3.refused == 1
    # A request that times out frees its place; the next one is served.
    assert pair.server_h3.abandon(held[0])
    pair.pump()
    assert pair.responses[held[0]]["reset"] == ErrorCode.H3_REQUEST_INCOMPLETE
    served = pair.send(b"{}")
    assert [r.stream_id for r in pair.requests] == [served]


def test_bodies_held_at_once_are_bounded_per_connection(pair):
    first = pair.send(b"x" * 900, end=False)
    second = pair.send(b"y" * 900, end=False)  # 1800 bytes held > max_buffered 1500
    assert "reset" not in pair.responses.get(first, {})
    assert pair.responses[second]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    assert pair.server_h3.open_streams == 1
    # The survivor completes normally.
    pair.client_h3.send_data(first, b"", end_stream=True)
    pair.pump()
    assert [(r.stream_id, len(r.body)) for r in pair.requests] == [(first, 900)]


def test_a_response_to_a_stream_the_client_reset_is_dropped(pair):
    stream = pair.send(b"{}")
    pair.client.stop_stream(stream, ErrorCode.H3_REQUEST_CANCELLED)  # as a timed-out client
    pair.pump()
    assert pair.server_h3.open_streams == 0
    pair.server_h3.respond(stream, 200, b"late")  # no error, nothing sent
    pair.pump()
    assert "status" not in pair.responses.get(stream, {})


def test_a_headers_frame_past_the_head_limit_is_refused_as_it_arrives(pair):
    # aioquic holds a frame whole before decoding it: without a bound, a HEADERS frame
    # declaring a terabyte would be held (and recopied per packet) as long as it flows.
    # 5000 bytes come in several packets: those after the refusal are dropped unread.
    stream = _raw_headers_frame(pair, 1 << 40, b"\0" * 5000)
    assert pair.responses[stream]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    assert pair.requests == [] and pair.server_h3.receiving == ()
    served = pair.send(b"{}")
    assert [r.stream_id for r in pair.requests] == [served]


def test_a_stream_stalled_inside_its_headers_gets_the_request_deadline(pair):
    stream = _raw_headers_frame(pair, 100, b"\0" * 10)
    assert pair.server_h3.opened() == [stream]  # the adapter arms its deadline
    assert pair.server_h3.abandon(stream)
    pair.pump()
    assert pair.responses[stream]["reset"] == ErrorCode.H3_REQUEST_INCOMPLETE
    assert pair.server_h3.receiving == ()


# ---- QPACK: no dynamic table, decoded headers bounded --------------------------------

#: A request's own fields from QPACK's static table (:method POST, :path /, :scheme
#: https, :authority "x", content-type application/json) after a block prefix of no
#: dynamic-table references.
PLAIN_BLOCK = b"\x00\x00" + b"\xd4\xc1\xd7\x50\x01x\xee"
#: Static entry 58, strict-transport-security (69 bytes decoded), by a 1-byte reference.
STS = b"\xfa"


def _raw_request(pair: Pair, block: bytes, *, body: bytes = b"{}", end: bool = True,
                 trailers: bytes | None = None) -> int:
    """A request stream of hand-made frames: HEADERS `block`, DATA `body`, and a trailers
    HEADERS frame of `trailers` when given."""
    stream_id = pair.client.get_next_available_stream_id()
    data = (encode_uint_var(0x1) + encode_uint_var(len(block)) + block
            + encode_uint_var(0x0) + encode_uint_var(len(body)) + body)
    if trailers is not None:
        data += encode_uint_var(0x1) + encode_uint_var(len(trailers)) + trailers
    pair.client.send_stream_data(stream_id, data, end_stream=end)
    pair.pump()
    return stream_id


def test_the_node_offers_no_qpack_dynamic_table_and_bounds_the_field_section(pair):
    from aioquic.h3.connection import Setting

    settings = pair.client_h3._received_settings
    assert settings[Setting.QPACK_MAX_TABLE_CAPACITY] == 0
    assert settings[Setting.QPACK_BLOCKED_STREAMS] == 0
    assert settings[Setting.MAX_FIELD_SECTION_SIZE] == pair.server_h3.limits.max_head


def test_a_client_that_inserts_into_the_dynamic_table_anyway_is_closed(pair):
    # On the client's encoder stream: Set Dynamic Table Capacity 4096, over the 0 the
    # node offered.
    encoder = pair.client_h3._local_encoder_stream_id
    pair.client.send_stream_data(encoder, b"\x3f\xe1\x1f")
    pair.pump()
    assert pair.server._close_event is not None
    assert pair.server._close_event.error_code == ErrorCode.QPACK_ENCODER_STREAM_ERROR
    assert pair.requests == []


def test_headers_that_decode_past_the_bound_are_refused_and_the_connection_serves_on(pair):
    # 2,000 limits.max_head: 19 one-byte references decode to 19 * (69 + 32) bytes.
    small = _raw_request(pair, PLAIN_BLOCK + STS * 10)  # 1,010 + the request's own
    assert [r.stream_id for r in pair.requests] == [small]
    big = _raw_request(pair, PLAIN_BLOCK + STS * 19)  # 181 bytes on the wire
    assert pair.responses[big]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    unfinished = _raw_request(pair, PLAIN_BLOCK + STS * 19, end=False)
    assert pair.responses[unfinished]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    assert [r.stream_id for r in pair.requests] == [small]
    assert pair.server_h3.open_streams == 1 and pair.server_h3.receiving == ()
    served = pair.send(b"{}")
    assert [r.stream_id for r in pair.requests] == [small, served]
    assert pair.server._close_event is None


def test_trailers_are_bounded_as_the_head_decoded_and_on_the_wire(pair):
    decoded = _raw_request(pair, PLAIN_BLOCK, end=False, trailers=b"\x00\x00" + STS * 20)
    assert pair.responses[decoded]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    # A trailers frame aioquic would hold whole, however large it says it is.
    held = _raw_request(pair, PLAIN_BLOCK, end=False)
    pair.client.send_stream_data(held, encode_uint_var(0x1) + encode_uint_var(1 << 40)
                                 + b"\0" * 5000)
    pair.pump()
    assert pair.responses[held]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    assert pair.requests == [] and pair.server_h3.open_streams == 0
    served = pair.send(b"{}")
    assert [r.stream_id for r in pair.requests] == [served]


class _DecoderSpy:
    """The server's QPACK decoder, recording which streams' header blocks it decoded."""

    def __init__(self, decoder) -> None:
        self.decoder, self.decoded = decoder, []

    def feed_header(self, stream_id: int, data: bytes):
        self.decoded.append(stream_id)
        return self.decoder.feed_header(stream_id, data)

    def __getattr__(self, name: str):
        return getattr(self.decoder, name)


def test_more_field_lines_than_the_bound_can_hold_are_refused_before_decoding(pair):
    # 2,000 bytes of field section hold at most 62 fields of 32 bytes' overhead each: a
    # frame of more field lines is refused unread, however small each line decodes to.
    spy = pair.server_h3.h3._decoder = _DecoderSpy(pair.server_h3.h3._decoder)
    many = _raw_request(pair, PLAIN_BLOCK + STS * 58)  # 63 lines, 65 bytes on the wire
    assert pair.responses[many]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    held = _raw_request(pair, PLAIN_BLOCK, end=False, trailers=b"\x00\x00" + b"\xc1" * 63)
    assert pair.responses[held]["reset"] == ErrorCode.H3_EXCESSIVE_LOAD
    assert spy.decoded == [held]  # its headers only: neither 63-line block
    assert pair.requests == [] and pair.server_h3.open_streams == 0
    served = pair.send(b"{}")
    assert [r.stream_id for r in pair.requests] == [served]
    assert pair.server._close_event is None
