"""A real node process answering DNS over QUIC on its QUIC port, asked by dnspython's own
DoQ client (a third-party implementation of RFC 9250), trusting the node's dev CA."""

from __future__ import annotations

import dns.edns
import dns.exception
import dns.message
import dns.query
import dns.quic
import dns.rcode
import pytest
from node_helpers import Client

from ghost_cli.abi import encode_value, format_address
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.names import REGISTRY_ADDRESS

pytestmark = pytest.mark.slow
#: What dnspython raises when the node resets the stream or closes the connection.
GONE = (dns.exception.DNSException, dns.quic._common.UnexpectedEOF, ConnectionError, OSError)


@pytest.fixture(scope="module")
def registered(node):
    """`counter.ghost` -> the registry itself (a contract, so it has a code hash)."""
    key = KeyPair.generate("ed25519", b"\x09" * 32)
    with Client(node.url, key) as rpc:
        args = encode_value("string", "counter") + encode_value("address", REGISTRY_ADDRESS)
        doc = rpc.call_tx(format_address(REGISTRY_ADDRESS), "register", args)
        reply = rpc.send(doc)
        assert "error" not in reply, reply
        code_hash = rpc.result("ghost_getContract",
                               address=format_address(REGISTRY_ADDRESS))["code_hash"]
    return node, key, code_hash


def where(node):
    host, port = node.bound["quic"].rsplit(":", 1)
    return host, int(port)


def ask(node, name: str, rdtype: str = "TXT", **kw):
    host, port = where(node)
    q = dns.message.make_query(name, rdtype)
    return dns.query.quic(q, host, port=port, verify=node.bound["ca"], timeout=10, **kw)


def test_registered_name(registered):
    node, key, code_hash = registered
    r = ask(node, "counter.ghost.")
    assert r.rcode() == dns.rcode.NOERROR
    texts = sorted(s.decode() for rr in r.answer for rd in rr for s in rd.strings)
    assert texts == sorted([f"address=0x{REGISTRY_ADDRESS.hex()}", f"code_hash={code_hash}",
                            f"owner=0x{key.address.hex()}"])


def test_unknown_name_is_nxdomain_and_outside_the_zone_refused(registered):
    node = registered[0]
    assert ask(node, "nobody.ghost.").rcode() == dns.rcode.NXDOMAIN
    assert ask(node, "Bad_Name.ghost.").rcode() == dns.rcode.NXDOMAIN
    assert ask(node, "example.com.").rcode() == dns.rcode.REFUSED
    assert ask(node, "counter.ghost.", "A").answer == []  # NODATA: the name has TXT only


def _raw(node, payloads: list[bytes], *, end: bool = True) -> bytes:
    """Send raw DoQ stream bytes on one stream of a dnspython QUIC connection."""
    host, port = where(node)
    with dns.quic.SyncQuicManager(verify_mode=node.bound["ca"]) as manager:
        connection = manager.connect(host, port)
        stream = connection.make_stream(timeout=10)
        for i, p in enumerate(payloads):
            stream.send(p, is_end=end and i == len(payloads) - 1)
        return stream.receive(timeout=5)


def test_malformed_message_is_formerr(registered):
    node = registered[0]
    wire = _raw(node, [b"\x00\x00" + b"\x01" * 10 + b"junk"])
    assert wire[:2] == b"\0\0" and wire[3] & 0xF == dns.rcode.FORMERR


def test_two_queries_on_one_stream_close_the_connection_not_the_node(registered):
    node = registered[0]
    q = dns.message.make_query("counter.ghost.", "TXT").to_wire()
    with pytest.raises(GONE):
        _raw(node, [q, q])
    assert ask(node, "counter.ghost.").rcode() == dns.rcode.NOERROR  # still serving


def test_a_query_with_edns_tcp_keepalive_closes_the_connection(registered):
    """RFC 9250 5.5.2: edns-tcp-keepalive has no place on DoQ, and a server MUST close the
    connection with DOQ_PROTOCOL_ERROR rather than answer the query."""
    node = registered[0]
    q = dns.message.make_query("counter.ghost.", "TXT", use_edns=0, options=[
        dns.edns.GenericOption(dns.edns.OptionType.KEEPALIVE, b"")])
    with pytest.raises(GONE):
        _raw(node, [q.to_wire()])
    assert ask(node, "counter.ghost.").rcode() == dns.rcode.NOERROR  # still serving
    closes = [e for e in node.log() if e.get("event") == "connection"
              and e.get("reason") == "edns-tcp-keepalive is not allowed on DoQ"]
    assert closes and not [e for e in node.log() if e.get("event") == "library_error"]


def test_oversized_query_is_refused_and_the_node_stays_up(registered):
    node = registered[0]
    q = dns.message.make_query("counter.ghost.", "TXT")
    q.use_edns(payload=4096, options=[dns.edns.GenericOption(65001, b"x" * 5000)])
    with pytest.raises(GONE):
        _raw(node, [q.to_wire(max_size=65535)])
    assert ask(node, "counter.ghost.").rcode() == dns.rcode.NOERROR


def test_http3_still_served_on_the_same_port(registered):
    node = registered[0]
    from ghost_cli.client.rpc_client import SyncGhostClient

    with SyncGhostClient(f"quic://{node.bound['quic']}", ca=node.bound["ca"]) as client:
        assert client.node_info()["chain_id"] == 1337


def test_a_name_is_found_whatever_the_case_asked(registered):
    """A resolver that randomises the case of its question (DNS 0x20) still finds it."""
    r = ask(registered[0], "CoUnTeR.gHoSt.")
    assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_a_busy_node_answers_servfail_and_logs_no_failure(tmp_path):
    """A full execution queue is load, not a bug: SERVFAIL, as HTTP answers 503."""
    import asyncio

    import dns.asyncquery
    from node_helpers import start_node

    node = start_node(tmp_path / "busy", "--workers", "1", "--queue", "1")
    host, port = where(node)

    async def flood() -> list[int]:
        async with dns.quic.AsyncioQuicManager(verify_mode=node.bound["ca"]) as manager:
            connection = manager.connect(host, port)
            queries = [dns.message.make_query(f"n{i}.ghost.", "TXT") for i in range(30)]
            replies = await asyncio.gather(*[dns.asyncquery.quic(
                q, host, port=port, connection=connection, timeout=10) for q in queries])
            return [r.rcode() for r in replies]

    try:
        rcodes = asyncio.run(flood())
    finally:
        node.stop()
    assert dns.rcode.SERVFAIL in rcodes  # the flood did fill the queue
    assert set(rcodes) <= {dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL}
    assert not [e for e in node.log() if e.get("event") == "library_error"]


@pytest.mark.parametrize("return_data", ["0x", "0x28000000" + "01" * 20, "0x01000000aa", None])
def test_a_malformed_registry_entry_over_http_is_the_nodes_fault(registered, return_data):
    """Over http:// a name is read with ghost_query; an answer that is not owner ++ target
    is the node's malformed answer (AnswerLostError, exit 14), not an address of the wrong
    length."""
    import asyncio

    from ghost_cli.client.rpc_client import GhostClient
    from ghost_cli.exceptions import AnswerLostError

    class Garbled(GhostClient):
        async def query(self, *args, **kwargs):
            doc = await super().query(*args, **kwargs)  # the real answer, then garbled
            return {**doc, "return_data": return_data}

    async def resolve():
        async with Garbled(registered[0].url) as client:
            return await client.resolve_name("counter.ghost")

    with pytest.raises(AnswerLostError, match="registry entry for counter.ghost"):
        asyncio.run(resolve())
