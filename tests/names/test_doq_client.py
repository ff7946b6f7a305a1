"""The client's DoQ resolver against a hostile server: a real aioquic server on loopback
(ALPN doq, the node's dev TLS) whose answers are wrong in the ways a stranger can make."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import StreamDataReceived

from ghost_cli.client.transport import DoqResolver
from ghost_cli.exceptions import AnswerLostError
from ghost_cli.names.dns import make_query
from ghost_cli.node.tls import ensure_dev_tls


def _server_protocol(answer: bytes, end: bool):
    class Hostile(QuicConnectionProtocol):
        def quic_event_received(self, event) -> None:
            if isinstance(event, StreamDataReceived) and event.end_stream:
                self._quic.send_stream_data(event.stream_id, answer, end_stream=end)
                self.transmit()
    return Hostile


async def _ask(tmp_path, answer: bytes, *, end: bool, timeout: float) -> None:
    files = ensure_dev_tls(tmp_path / "tls")
    config = QuicConfiguration(is_client=False, alpn_protocols=["doq"])
    config.load_cert_chain(files.cert, files.key)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a free UDP port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await serve("127.0.0.1", port, configuration=config,
                         create_protocol=_server_protocol(answer, end))
    resolver = DoqResolver("127.0.0.1", port, ca_pem=files.ca.read_bytes(), timeout=timeout)
    try:
        await resolver.query(make_query("counter"))
    finally:
        await resolver.aclose()
        server.close()


@pytest.mark.parametrize("answer,end", [
    (b"\x00\x04" + b"x" * 200_000, False),  # more than its length, and no end in sight
    (b"\x00\x04abcdef", True),
])
def test_an_answer_past_its_length_fails_at_once_not_at_the_timeout(tmp_path, answer, end):
    """Bytes past the one message a DoQ stream carries are malformed as soon as they
    arrive: the client neither holds them nor waits out its timeout for a FIN."""
    start = time.monotonic()
    with pytest.raises(AnswerLostError, match="malformed DoQ answer"):
        asyncio.run(_ask(tmp_path, answer, end=end, timeout=20))
    assert time.monotonic() - start < 10
