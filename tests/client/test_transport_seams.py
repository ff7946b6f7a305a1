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


def test_no_aioquic_private_names_in_the_client():
    private = re.compile(r"\._(process_events|connected_waiter|local_max_streams_bidi|"
                         r"closed_down|connected\b|ping_waiters)")
    for path in Path(client_pkg.__file__).parent.glob("*.py"):
        assert not private.search(path.read_text()), path.name
