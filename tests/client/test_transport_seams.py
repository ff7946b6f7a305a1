"""The client's seams: a URL's scheme picks its transport in one table, and the QUIC
clients use aioquic's public surface only."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import ghost_cli.client as client_pkg
from ghost_cli.client.rpc_client import GhostClient
from ghost_cli.client.transport import (
    TRANSPORTS,
    Http3Transport,
    HttpTransport,
    open_transport,
    transport_name,
)
from ghost_cli.exceptions import UsageError


@pytest.mark.parametrize(("url", "cls", "name"), [
    ("quic://127.0.0.1:8443", Http3Transport, "quic"),
    ("http://127.0.0.1:8545", HttpTransport, "http"),
    ("https://node.example:443", HttpTransport, "http"),
])
def test_the_scheme_picks_the_transport(url, cls, name):
    async def main():
        for asked in (None, name):
            transport = open_transport(url, name=asked)
            assert type(transport) is cls and transport.url == url
            await transport.aclose()
        client = GhostClient(url)  # no transport named: the scheme decides
        assert type(client.transport) is cls
        await client.aclose()

    asyncio.run(main())
    assert transport_name(url) == name and urlscheme(url) in TRANSPORTS[name]


def urlscheme(url: str) -> str:
    return url.split("://")[0]


@pytest.mark.parametrize(("url", "name", "match"), [
    ("ftp://127.0.0.1:21", None, "use quic://host:port"),
    ("127.0.0.1:8443", None, "use quic://host:port"),
    ("http://127.0.0.1:8545", "quic", "is not a quic URL: use quic://host:port"),
    ("quic://127.0.0.1:8443", "http", "is not a http URL"),
    ("quic://127.0.0.1:8443", "carrier-pigeon", "unknown transport 'carrier-pigeon'"),
])
def test_a_url_no_transport_serves_is_a_usage_error(url, name, match):
    with pytest.raises(UsageError, match=match):
        open_transport(url, name=name)


@pytest.mark.parametrize("url", [
    "quic://127.0.0.1:99999", "http://127.0.0.1:99999", "http://[::1", "quic://[::1]:x",
    "https://node.example:-1",
])
@pytest.mark.parametrize("name", [None, "quic", "http"])
def test_a_url_python_cannot_take_apart_is_a_usage_error(url, name):
    """A port past 65535 or not a number, or a bracket left open, made urlsplit's
    ValueError a traceback (`ghost network add --url quic://127.0.0.1:99999`, or a
    SyncGhostClient's ExceptionGroup from inside httpx); now one line, exit 2."""
    with pytest.raises(UsageError, match="is not a valid URL"):
        open_transport(url, name=name)
    if name is None:
        with pytest.raises(UsageError, match="is not a valid URL"):
            transport_name(url)


def test_a_sync_client_closed_or_inside_a_running_loop_says_so():
    """docs/client.md: SyncGhostClient runs outside any running loop; close() twice (a
    close() inside its `with` block) does nothing, and a call after it is a UsageError,
    not asyncio's RuntimeError with a "never awaited" coroutine left behind."""
    import warnings

    from ghost_cli.client.rpc_client import SyncGhostClient

    client = SyncGhostClient("http://127.0.0.1:1")

    async def inside():
        client.node_info()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited would warn
        with pytest.raises(UsageError, match="inside a running event loop"):
            asyncio.run(inside())
        with client:
            client.close()
        client.close()
        with pytest.raises(UsageError, match="is closed"):
            client.health()


def test_no_aioquic_private_names_in_the_client():
    private = re.compile(r"\._(process_events|connected_waiter|local_max_streams_bidi|"
                         r"closed_down|connected\b|ping_waiters)")
    for path in Path(client_pkg.__file__).parent.glob("*.py"):
        assert not private.search(path.read_text()), path.name


def test_http_reads_are_sent_again_when_the_connection_breaks_under_them():
    """A kept-alive connection the node closes under a request (no answer at all): a read
    goes again on a new connection; a write is reported as possibly applied."""
    from ghost_cli.exceptions import AnswerLostError

    answer = b'{"jsonrpc": "2.0", "id": 1, "result": 7}'
    seen: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
        await reader.readexactly(length)
        seen.append(length)
        if len(seen) % 2:  # every other request: hang up without a word
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\n\r\n%s" % (len(answer), answer))
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = HttpTransport(f"http://127.0.0.1:{port}")
        try:
            assert await transport.post(b"{}", idempotent=True) == answer
            assert transport.stats().retries == 1
            with pytest.raises(AnswerLostError, match="may have been applied"):
                await transport.post(b"{}", idempotent=False)
        finally:
            await transport.aclose()
            server.close()

    asyncio.run(main())


def test_an_http_node_that_never_answers_is_an_answer_lost_saying_what_to_do():
    """Over HTTP/1.1 as over QUIC: a request not answered within the timeout says how long
    was waited, and a transaction's adds that it may have been applied (docs/client.md),
    where HTTP's said only "did not answer in time"."""
    import socket
    import threading

    from ghost_cli.client.rpc_client import SyncGhostClient
    from ghost_cli.exceptions import AnswerLostError

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # take connections and read nothing from them
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        with SyncGhostClient(url, timeout=0.3) as client:
            with pytest.raises(AnswerLostError) as read:
                client.node_info()
            assert str(read.value) == f"{url} did not answer within 0.3 s"
            with pytest.raises(AnswerLostError, match=r"did not answer within 0\.3 s; the "
                               "transaction may have been applied: look it up with "
                               "`ghost receipt`"):
                client.send_transaction({})
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("pem", [
    b"not a certificate at all",
    b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
])
@pytest.mark.parametrize("given", ["bytes", "file"])
def test_a_ca_without_a_readable_certificate_is_refused_before_connecting(
        tmp_path, pem, given):
    """A CA whose PEM block does not parse used to pass (only the BEGIN line was looked
    for, and bytes not at all); aioquic then failed inside the handshake, printed a
    traceback and waited out the handshake timeout, reported as 'no QUIC handshake
    within 10 s: is a node running there?'. Now a CryptoError (exit 11) at once."""
    from ghost_cli.client.rpc_client import read_ca
    from ghost_cli.exceptions import CryptoError
    from ghost_cli.node.tls import ensure_dev_tls

    ca = pem
    if given == "file":
        ca = tmp_path / "ca.pem"
        ca.write_bytes(pem)
    with pytest.raises(CryptoError, match="holds no PEM certificate|cannot be read") as caught:
        GhostClient("quic://127.0.0.1:8443", ca=ca)
    assert caught.value.exit_code == 11
    files = ensure_dev_tls(tmp_path / "node")  # a development node's own CA reads
    assert read_ca(files.ca) == Path(files.ca).read_bytes()
