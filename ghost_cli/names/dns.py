"""DNS messages for the `ghost.` zone, sans-IO: wire bytes in, wire bytes out.

dnspython does the message encoding; this module only decides what a question in our
zone is answered with. A registered `NAME.ghost.` has TXT records `address=0x...`,
`code_hash=0x...` and `owner=0x...`; TTL 0 because any block may change a name.
"""

from __future__ import annotations

from collections.abc import Callable

from ..exceptions import AnswerLostError, ArgumentError, DoqProtocolError, NotFoundError
from . import ZONE, NameRecord, label_of

#: The node's lookup: a label in, its record or None out (may raise; that is SERVFAIL).
Lookup = Callable[[str], "NameRecord | None"]
TTL = 0
HEADER = 12  # bytes of a DNS header


def _fmt(raw: bytes) -> str:
    return "0x" + raw.hex()


def _bare_error(wire: bytes, rcode: int) -> bytes:
    """A header-only reply for a message dnspython cannot parse: its id, QR set, `rcode`."""
    msg_id = wire[:2] if len(wire) >= 2 else b"\0\0"
    return msg_id + bytes([0x80, rcode & 0xF]) + bytes(8)


def _folded(name) -> str:
    """`name` as text with ASCII letters lowered: DNS compares names case-insensitively
    (RFC 4343), and resolvers randomise the case of what they ask (DNS 0x20). Other bytes
    are escaped by to_text, so they stay as they are and the label is refused."""
    return name.to_text(omit_final_dot=True).lower()


def servfail(wire: bytes) -> bytes:
    """SERVFAIL for `wire`, for an adapter whose lookup broke in a way `answer` did not see."""
    return _bare_error(wire, 2)


def answer(wire: bytes, lookup: Lookup) -> bytes:
    """The response to one DNS query message `wire`, received over DoQ; DoqProtocolError
    for a query that DoQ forbids outright."""
    import dns.edns
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset

    try:
        query = dns.message.from_wire(wire)
        # A response (QR set) is no question: dnspython refuses to answer it, and that
        # must be the sender's FORMERR, not a failure of the node's.
        if query.flags & dns.flags.QR:
            return _bare_error(wire, dns.rcode.FORMERR)
        response = dns.message.make_response(query)
    except (dns.exception.DNSException, ValueError):
        return _bare_error(wire, dns.rcode.FORMERR)
    if any(opt.otype == dns.edns.OptionType.KEEPALIVE for opt in query.options):
        # RFC 9250 5.5.2: a server MUST close the connection on it, not answer.
        raise DoqProtocolError("edns-tcp-keepalive is not allowed on DoQ")
    response.flags &= ~dns.flags.RA  # authoritative only: no recursion offered
    if query.edns > 0:  # RFC 6891 6.1.3: EDNS version 0 is all this responder speaks
        response.set_rcode(dns.rcode.BADVERS)
        return response.to_wire()
    # The opcode first: another opcode's message need not have one question (a DSO or
    # NOTIFY without one is still NOTIMP, RFC 8490 5.1), so its count is no format error.
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY
                           else dns.rcode.FORMERR)
        return response.to_wire()
    question = query.question[0]
    zone = dns.name.from_text(ZONE)
    if question.rdclass != dns.rdataclass.IN or not question.name.is_subdomain(zone):
        response.set_rcode(dns.rcode.REFUSED)
        return response.to_wire()
    response.flags |= dns.flags.AA
    if question.name == zone:
        return response.to_wire()  # the apex exists and has no TXT of its own
    try:
        label = label_of(_folded(question.name))
    except ArgumentError:
        response.set_rcode(dns.rcode.NXDOMAIN)  # no such name can ever be registered
        return response.to_wire()
    try:
        record = lookup(label)
    except Exception:  # the state could not be read: say so, the node stays up
        response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()
    if record is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
    if question.rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
        texts = [f"address={_fmt(record.target)}", f"owner={_fmt(record.owner)}"]
        if record.code_hash is not None:
            texts.insert(1, f"code_hash={_fmt(record.code_hash)}")
        response.answer.append(dns.rrset.from_text_list(
            question.name, TTL, dns.rdataclass.IN, dns.rdatatype.TXT,
            [f'"{t}"' for t in texts]))
    return response.to_wire()  # other types: NOERROR with no answer (NODATA)


def make_query(name: str) -> bytes:
    """A TXT query for `name` with message id 0, as RFC 9250 §4.2.1 requires over DoQ."""
    import dns.message

    query = dns.message.make_query(f"{label_of(name)}.{ZONE}.", "TXT")
    query.id = 0
    return query.to_wire()


def parse_response(name: str, wire: bytes) -> NameRecord:
    """The record in a response to make_query(name); NotFoundError for NXDOMAIN."""
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rdatatype

    label = label_of(name)
    try:
        response = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError) as exc:
        raise AnswerLostError(f"the node's DNS answer for {label}.{ZONE} is not a DNS "
                              f"message: {exc}") from None
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        raise NotFoundError(f"{label}.{ZONE} is not registered on this network")
    if rcode != dns.rcode.NOERROR:
        raise AnswerLostError(f"the node answered {dns.rcode.to_text(rcode)} for "
                              f"{label}.{ZONE}")
    fields: dict[str, str] = {}
    for rrset in response.answer:
        if rrset.rdtype != dns.rdatatype.TXT:
            continue
        for rdata in rrset:
            for text in rdata.strings:
                key, _, value = text.decode("ascii", "replace").partition("=")
                fields[key] = value
    try:
        target, owner = _hex(fields["address"], 20), _hex(fields["owner"], 20)
        code_hash = fields.get("code_hash")
        return NameRecord(label, owner, target,
                          None if code_hash is None else _hex(code_hash, 32))
    except (KeyError, ValueError):
        raise AnswerLostError(f"the node's DNS answer for {label}.{ZONE} has no "
                              "valid address, owner and code_hash records") from None


def _hex(text: str, size: int) -> bytes:
    """`0x` and `size` bytes of hex, as the node writes them; ValueError otherwise."""
    raw = bytes.fromhex(text[2:]) if text.startswith("0x") else b""
    if len(raw) != size:
        raise ValueError(f"expected 0x and {size} bytes of hex")
    return raw
