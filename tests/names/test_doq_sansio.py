"""DoQ without sockets: two in-memory QUIC connections (ALPN doq) pass datagrams by hand;
the node's DoqStreams frames queries and names/dns.answer makes the replies."""

from __future__ import annotations

import subprocess
import sys

import dns.message
import dns.opcode
import dns.rcode
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, StreamDataReceived, StreamReset

from ghost_cli.names import NameRecord, registry_code
from ghost_cli.names.dns import answer, make_query, parse_response
from ghost_cli.node.doq import DOQ_EXCESSIVE_LOAD, DOQ_PROTOCOL_ERROR, DoqStreams
from ghost_cli.node.quic import (
    UNREAD,
    QuicLimits,
    answers_stalled,
    server_configuration,
    unsent_answers,
)
from ghost_cli.node.tls import ensure_dev_tls

RECORD = NameRecord("counter", b"\x01" * 20, b"\x02" * 20, b"\x03" * 32)


def lookup(label):
    return RECORD if label == "counter" else None


def test_answer_bytes_in_bytes_out():
    r = dns.message.from_wire(answer(make_query("counter.ghost"), lookup))
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert parse_response("counter", answer(make_query("counter"), lookup)) == RECORD
    assert dns.message.from_wire(answer(make_query("other.ghost"), lookup)).rcode() == \
        dns.rcode.NXDOMAIN
    outside = dns.message.make_query("example.com.", "TXT").to_wire()
    assert dns.message.from_wire(answer(outside, lookup)).rcode() == dns.rcode.REFUSED
    formerr = answer(b"\x12\x34junk", lookup)
    assert formerr[:2] == b"\x12\x34" and formerr[3] & 0xF == dns.rcode.FORMERR
    assert answer(b"", lookup)[3] & 0xF == dns.rcode.FORMERR


def test_a_response_sent_as_a_query_is_formerr_not_a_node_failure():
    reply = dns.message.make_response(dns.message.make_query("counter.ghost.", "TXT"))
    reply.id = 0x4242
    formerr = answer(reply.to_wire(), lookup)
    assert formerr[:2] == b"\x42\x42" and formerr[3] & 0xF == dns.rcode.FORMERR


def test_another_opcode_is_notimp_whatever_its_question_count():
    """An opcode other than QUERY is NOTIMP (docs/names.md), also with no question or two:
    DSO messages have none (RFC 8490 5.1), and their count is no format error."""
    import struct

    for opcode in (dns.opcode.NOTIFY, dns.opcode.STATUS, 6):
        for count in (0, 1, 2):
            q = b"\x07counter\x05ghost\x00" + struct.pack(">HH", 16, 1)
            wire = struct.pack(">HHHHHH", 0x4242, opcode << 11, count, 0, 0, 0) + q * count
            r = dns.message.from_wire(answer(wire, lookup))
            assert (r.id, r.rcode(), r.opcode()) == (0x4242, dns.rcode.NOTIMP, opcode)
    two = dns.message.make_query("counter.ghost.", "TXT")
    two.question.append(two.question[0])
    assert dns.message.from_wire(answer(two.to_wire(), lookup)).rcode() == dns.rcode.FORMERR


class Pair:
    def __init__(self, tmp_path, **client_config):
        self.now = 1.0
        files = ensure_dev_tls(tmp_path / "node")
        config = QuicConfiguration(is_client=True, alpn_protocols=["doq"],
                                   server_name="localhost", **client_config)
        config.load_verify_locations(cadata=files.ca.read_bytes())
        self.client = QuicConnection(configuration=config)
        self.server = QuicConnection(
            configuration=server_configuration(files, QuicLimits(), doq=True),
            original_destination_connection_id=self.client.original_destination_connection_id)
        self.doq = DoqStreams(self.server, max_query=512)
        self.answer = lambda wire: answer(wire, lookup)  # what the node's names/dns does
        self.events: list = []
        self.client.connect(("127.0.0.1", 8853), now=self.now)
        self.pump()

    def pump(self):
        for _ in range(50):
            self.now += 0.01
            moved = 0
            for data, _ in self.client.datagrams_to_send(now=self.now):
                self.server.receive_datagram(data, ("127.0.0.1", 5000), now=self.now)
                moved += 1
            for data, _ in self.server.datagrams_to_send(now=self.now):
                self.client.receive_datagram(data, ("127.0.0.1", 8853), now=self.now)
                moved += 1
            while (event := self.server.next_event()) is not None:
                for q in self.doq.receive(event):
                    self.doq.respond(q.stream_id, self.answer(q.wire))
                moved += 1
            while (event := self.client.next_event()) is not None:
                self.events.append(event)
                moved += 1
            if not moved:
                return
        raise AssertionError("never fell quiet")

    def closed_with(self) -> int | None:
        """The client's view of the close: its draining timer runs out first."""
        timer = self.client.get_timer()
        if timer is not None:
            self.client.handle_timer(now=timer)
        while (event := self.client.next_event()) is not None:
            self.events.append(event)
        codes = [e.error_code for e in self.events if isinstance(e, ConnectionTerminated)]
        return codes[0] if codes else None

    def send(self, data: bytes, end=True) -> int:
        sid = self.client.get_next_available_stream_id()
        self.client.send_stream_data(sid, data, end_stream=end)
        self.pump()
        return sid

    def reply(self, sid) -> bytes:
        return b"".join(e.data for e in self.events
                        if isinstance(e, StreamDataReceived) and e.stream_id == sid)


def framed(wire: bytes) -> bytes:
    return len(wire).to_bytes(2, "big") + wire


def test_one_query_per_stream(tmp_path):
    p = Pair(tmp_path)
    a = p.send(framed(make_query("counter.ghost")))
    b = p.send(framed(make_query("nobody.ghost")))
    assert parse_response("counter", p.reply(a)[2:]) == RECORD
    assert dns.message.from_wire(p.reply(b)[2:]).rcode() == dns.rcode.NXDOMAIN


def test_two_queries_on_a_stream_is_a_protocol_error(tmp_path):
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    p.send(q + q)
    assert p.closed_with() == DOQ_PROTOCOL_ERROR


def test_truncated_query_is_a_protocol_error(tmp_path):
    p = Pair(tmp_path)
    p.send(b"\x00\x40abc")
    assert p.closed_with() == DOQ_PROTOCOL_ERROR


def test_oversized_query_resets_only_its_stream(tmp_path):
    p = Pair(tmp_path)
    big = p.send((600).to_bytes(2, "big") + b"x" * 600)
    assert any(isinstance(e, StreamReset) and e.stream_id == big
               and e.error_code == DOQ_EXCESSIVE_LOAD for e in p.events)
    ok = p.send(framed(make_query("counter")))  # the connection is still good
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD


def test_the_shipped_registry_is_the_build_of_contracts_names(tmp_path):
    """names.wasm is reproducible from contracts/names (same source and toolchain)."""
    import shutil
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "contracts" / "names"
    dest = tmp_path / "names"
    shutil.copytree(src, dest, symlinks=False, ignore=shutil.ignore_patterns("build"))
    proc = subprocess.run([sys.executable, "-m", "ghost_cli", "build"], cwd=dest,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (dest / "build" / "names.wasm").read_bytes() == registry_code()


def test_a_name_matches_in_any_case_and_is_answered_as_asked():
    """RFC 4343: DNS names compare case-insensitively; resolvers randomise case (0x20)."""
    for asked in ("COUNTER.ghost.", "CoUnTeR.GHOST."):
        r = dns.message.from_wire(answer(dns.message.make_query(asked, "TXT").to_wire(), lookup))
        assert r.rcode() == dns.rcode.NOERROR
        assert r.answer[0].name.to_text() == asked  # the spelling asked, not folded
    assert parse_response("counter", answer(
        dns.message.make_query("Counter.Ghost.", "TXT").to_wire(), lookup)) == RECORD
    # Only ASCII letters fold: an escaped byte is no label, whatever its case.
    odd = dns.message.make_query("count\\201r.ghost.", "TXT").to_wire()
    assert dns.message.from_wire(answer(odd, lookup)).rcode() == dns.rcode.NXDOMAIN


def test_an_answer_with_a_short_address_is_the_nodes_fault_not_a_crash():
    """A DNS answer that cannot be read is an answer lost (exit 14), as over JSON-RPC."""
    import pytest

    from ghost_cli.exceptions import AnswerLostError

    def short(label):
        return NameRecord(label, b"\x01" * 20, b"\x02", None)

    for bad in (short, lambda label: NameRecord(label, b"\x01" * 20, b"\x02" * 20, b"\x03")):
        with pytest.raises(AnswerLostError, match="no valid address"):
            parse_response("counter", answer(make_query("counter"), bad))


def test_refused_streams_are_forgotten_once_the_client_ends_them(tmp_path):
    """A refused stream's id is kept only while late data can still come on it, so a
    client cycling through oversized queries holds no memory of them on the node."""
    p = Pair(tmp_path)
    for _ in range(100):  # each query whole, FIN included: nothing can follow
        p.send((600).to_bytes(2, "big") + b"x" * 600)
    # Refused before its end arrives: the client's QUIC resets it on STOP_SENDING.
    cut = p.send((600).to_bytes(2, "big") + b"x" * 100, end=False)
    assert any(isinstance(e, StreamReset) and e.stream_id == cut for e in p.events)
    assert p.doq._ignored == set() and p.doq.refused == 101
    ok = p.send(framed(make_query("counter")))  # the connection is still good
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD


def test_a_second_message_after_the_answer_is_still_a_protocol_error(tmp_path):
    """The answer ends the node's side, not the client's: more data on the stream is a
    second message (docs/names.md), not a new query answered on a finished stream."""
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    sid = p.send(q, end=False)
    assert parse_response("counter", p.reply(sid)[2:]) == RECORD
    p.client.send_stream_data(sid, q, end_stream=True)
    p.pump()
    assert p.closed_with() == DOQ_PROTOCOL_ERROR


def test_a_fin_after_the_answer_is_not_an_empty_stream(tmp_path):
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    sid = p.send(q, end=False)
    p.client.send_stream_data(sid, b"", end_stream=True)  # the client ends its side late
    p.pump()
    ok = p.send(q)  # the connection is still good, and nothing of the first is kept
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD
    assert not p.doq.closed and p.doq._streams == {}


def test_an_edns_version_above_zero_is_badvers():
    """RFC 6891 6.1.3: a responder that does not speak the asked EDNS version says so."""
    r = dns.message.from_wire(answer(dns.message.make_query(
        "counter.ghost.", "TXT", use_edns=1).to_wire(), lookup))
    assert r.rcode() == dns.rcode.BADVERS and not r.answer and r.edns == 0
    ok = dns.message.from_wire(answer(dns.message.make_query(
        "counter.ghost.", "TXT", use_edns=0).to_wire(), lookup))
    assert ok.rcode() == dns.rcode.NOERROR and ok.answer


def test_edns_tcp_keepalive_is_a_doq_protocol_error_not_an_answer():
    import dns.edns
    import pytest

    from ghost_cli.exceptions import DoqProtocolError

    q = dns.message.make_query("counter.ghost.", "TXT", use_edns=0, options=[
        dns.edns.GenericOption(dns.edns.OptionType.KEEPALIVE, b"\x00\x10")])
    with pytest.raises(DoqProtocolError, match="edns-tcp-keepalive"):
        answer(q.to_wire(), lookup)
    cookie = dns.message.make_query("counter.ghost.", "TXT", use_edns=0, options=[
        dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"c" * 8)])
    assert parse_response("counter", answer(cookie.to_wire(), lookup)) == RECORD


def test_a_query_finished_after_stop_sending_is_not_answered(tmp_path):
    """STOP_SENDING says the client wants no answer: the rest of its query is dropped,
    not run and answered on a stream QUIC has already reset (which raised)."""
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    sid = p.client.get_next_available_stream_id()
    p.client.send_stream_data(sid, q[:5])
    p.client.stop_stream(sid, 0)
    p.pump()
    p.client.send_stream_data(sid, q[5:], end_stream=True)
    p.pump()
    assert p.doq._streams == {} and p.doq._ignored == set() and p.doq.pending == 0
    ok = p.send(q)
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD


def test_a_dns_answer_that_is_no_dns_message_is_an_answer_lost():
    import pytest

    from ghost_cli.exceptions import AnswerLostError

    with pytest.raises(AnswerLostError, match="is not a DNS message"):
        parse_response("counter", b"\x00\x01garbage")


def test_stop_sending_after_the_answer_leaves_nothing_behind(tmp_path):
    """A client that gives up on a query it has ended (a timeout) while its answer is on
    the way sends STOP_SENDING on a stream this layer is done with: no id is kept for it,
    so a long connection of such queries holds no memory of them. One not yet begun is
    still ignored until it ends."""
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    for _ in range(5):
        sid = p.client.get_next_available_stream_id()
        p.client.send_stream_data(sid, q, end_stream=True)
        for data, _ in p.client.datagrams_to_send(now=p.now):
            p.server.receive_datagram(data, ("127.0.0.1", 5000), now=p.now)
        while (event := p.server.next_event()) is not None:
            for query in p.doq.receive(event):
                p.doq.respond(query.stream_id, answer(query.wire, lookup))
        p.server.datagrams_to_send(now=p.now)  # the answer is lost on its way
        p.client.stop_stream(sid, 0)
        p.pump()
    assert p.doq._ignored == set() and p.doq._streams == {}

    early = p.client.get_next_available_stream_id()
    p.client.send_stream_data(early, b"")  # opened, no byte of its query sent yet
    p.client.stop_stream(early, 0)
    p.pump()
    assert p.doq._ignored == {early}
    p.client.send_stream_data(early, q, end_stream=True)
    p.pump()
    assert p.reply(early) == b"" and p.doq._ignored == set() and p.doq.pending == 0
    ok = p.send(q)
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD


def test_an_answer_nobody_reads_is_seen_stalled_and_its_connection_closed(tmp_path):
    """node/quic.py's rule for unread answers (HTTP/3's, and DoQ's) without sockets: an
    answer past the client's credit waits unsent; while the client grants no more it makes
    no progress, whatever new queries it asks; once it reads, it has made progress. A
    connection closed for it gets DOQ_EXCESSIVE_LOAD."""
    p = Pair(tmp_path, max_stream_data=2000)
    big = b"x" * 60_000
    p.answer = lambda wire: big
    p.client._write_stream_limits = lambda **_: None  # the client stops reading
    q = framed(make_query("counter"))
    sid = p.send(q)
    before = unsent_answers(p.server)
    assert before == {sid: 2000}  # its first credit, and no more
    p.pump()
    assert answers_stalled(before, unsent_answers(p.server))
    other = p.send(q)  # asking is not reading
    assert set(unsent_answers(p.server)) == {sid, other}
    assert answers_stalled(before, unsent_answers(p.server))

    del p.client._write_stream_limits  # it reads again: both answers leave whole
    p.pump()
    assert not answers_stalled(before, unsent_answers(p.server))
    assert unsent_answers(p.server) == {}
    assert p.reply(sid) == p.reply(other) == framed(big)

    p.client._write_stream_limits = lambda **_: None
    last = p.send(q)
    p.doq.unread(UNREAD)
    p.pump()
    assert p.closed_with() == DOQ_EXCESSIVE_LOAD and p.doq.closed
    assert len(p.reply(last)) == 2000  # the rest of its answer is dropped with it


def test_a_query_not_whole_by_the_deadline_is_reset_and_its_place_freed(tmp_path):
    """node/quic.py arms request_timeout for each stream `opened` lists, as for HTTP/3,
    and calls `abandon` when it runs out: the stream is reset with DOQ_EXCESSIVE_LOAD,
    what it still sends is dropped, and the connection goes on. A query whole in its
    first packet is never listed; one that became whole meanwhile is not reset."""
    p = Pair(tmp_path)
    q = framed(make_query("counter"))
    whole = p.send(q)
    stalled = p.send(q[:5], end=False)  # its length promises more than it sends
    slow = p.send(q[:3], end=False)
    assert p.doq.opened() == [stalled, slow]  # each once: the adapter arms a deadline
    p.client.send_stream_data(slow, q[3:], end_stream=True)
    p.pump()
    assert p.doq.opened() == []

    assert not p.doq.abandon(whole) and not p.doq.abandon(slow)  # both answered
    assert parse_response("counter", p.reply(slow)[2:]) == RECORD
    assert p.doq.abandon(stalled)
    p.pump()
    assert [e.error_code for e in p.events
            if isinstance(e, StreamReset) and e.stream_id == stalled] == [DOQ_EXCESSIVE_LOAD]
    assert not p.doq.abandon(stalled)  # gone: a second deadline does nothing
    # The client's QUIC resets its side on STOP_SENDING: nothing of the stream is kept.
    assert p.doq._streams == {} and p.doq._ignored == set() and p.doq.refused == 1
    assert not p.doq.closed
    ok = p.send(q)
    assert parse_response("counter", p.reply(ok)[2:]) == RECORD
