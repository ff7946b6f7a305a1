"""The node's pieces without a process: config, the durable store, metrics registries,
log redaction, and the ASGI app driven with in-memory receive/send."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace

import pytest

from ghost_cli.exceptions import ConfigError, UsageError
from ghost_cli.node.config import Endpoint, NodeConfig, resolve_chain_id
from ghost_cli.node.core import Executed, NodeCore
from ghost_cli.node.http import HttpApp
from ghost_cli.node.logging import LogFile, NodeLog
from ghost_cli.node.metrics import NodeMetrics
from ghost_cli.rpc import Dispatcher, Limits


@pytest.mark.parametrize("text, host, port", [
    ("127.0.0.1:8545", "127.0.0.1", 8545), ("[::1]:0", "::1", 0), ("localhost:1", "localhost", 1),
])
def test_endpoints(text, host, port):
    ep = Endpoint.parse(text, "--http")
    assert (ep.host, ep.port) == (host, port)
    assert Endpoint.parse(str(ep), "--http") == ep


@pytest.mark.parametrize("text", ["8545", ":8545", "host:", "host:99999", "host:x"])
def test_bad_endpoints(text):
    with pytest.raises(UsageError, match="HOST:PORT"):
        Endpoint.parse(text, "--http")


def test_a_node_needs_a_transport(tmp_path):
    with pytest.raises(UsageError, match="at least one transport"):
        NodeConfig(tmp_path, http=None, quic=None)


def test_the_data_dir_remembers_its_chain(tmp_path):
    assert resolve_chain_id(tmp_path / "d", None) == 1337
    assert resolve_chain_id(tmp_path / "d", 1337) == 1337
    with pytest.raises(ConfigError, match="holds chain 1337, not chain 5"):
        resolve_chain_id(tmp_path / "d", 5)
    assert resolve_chain_id(tmp_path / "e", 5) == 5


def test_the_nodes_store_is_durable_wal(tmp_path):
    core = NodeCore.open(tmp_path, chain_id=1)
    try:
        # WAL with synchronous=FULL (fsync per commit): tests/chain/test_store.py checks
        # what `durable` sets
        assert core.store.backend == "sqlite" and core.store.durable
        assert core.store.authenticated  # state roots and proofs
    finally:
        core.close()


def test_metrics_registries_are_per_node():
    a, b = NodeMetrics(), NodeMetrics()
    a.request("ghost_health", None, 0.001)
    a.executed(Executed(b"\1" * 32, b"\2" * 20, "call", b"\3" * 20, 30_000, "ok", 0.01, 5))
    a.executed(Executed(b"\1" * 32, b"\2" * 20, "call", b"\3" * 20, 25_000, "reverted", 0.01, 5))
    a.connection_opened("quic")
    a.stream_opened("quic")
    a.handshake("quic", "retry")
    text = a.render().decode()
    assert 'ghost_rpc_requests_total{method="ghost_health"} 1.0' in text
    assert f'ghost_contract_gas_total{{contract="0x{"03" * 20}"}} 30000.0' in text
    assert 'ghost_contract_failures_total{code="reverted"' in text
    assert 'ghost_connections_open{transport="quic"} 1.0' in text
    assert 'ghost_streams_open{transport="quic"} 1.0' in text
    assert 'ghost_quic_handshakes_total{outcome="retry"} 1.0' in text
    assert "ghost_health" not in b.render().decode()


def test_logs_are_json_lines_and_drop_secret_fields():
    out = io.StringIO()
    log = NodeLog(out, clock=lambda: 1.5)
    log.write("x", passphrase="hunter2", signature="00ff", tx="abcd", peer="1.2.3.4:5",
              hash=b"\xab")
    log.rejected("bad", peer="p:1", method="ghost_health", code="invalid_params")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"ts": 1.5, "event": "x", "peer": "1.2.3.4:5", "hash": "0xab"}
    assert second["code"] == "invalid_params" and second["reason"] == "bad"
    assert "hunter2" not in out.getvalue()


def test_an_exception_quoting_a_huge_input_is_logged_in_a_bounded_line():
    out = io.StringIO()
    log = NodeLog(out, clock=lambda: 1.5)
    log.internal_error("ghost_query", ValueError("bad name " + "x" * 1_000_000))
    log.library_error("asyncio", "y" * 1_000_000, KeyError("z" * 1_000_000))
    internal, library = (json.loads(line) for line in out.getvalue().splitlines())
    assert internal["message"].startswith("bad name x") and len(internal["message"]) <= 1000
    assert len(library["message"]) <= 1000 and len(library["error_message"]) <= 1000


def test_lines_a_stranger_causes_for_free_are_rate_limited_and_counted():
    out, now = io.StringIO(), [100.0]
    log = NodeLog(out, clock=lambda: now[0], budgets={"rejected": (2, 1.0)})
    for _ in range(5):
        log.rejected("junk", peer="p:1", method=None, code="parse_error")
    for _ in range(3):  # paid for with gas: never limited
        log.write("tx", hash=b"\x01")
    now[0] += 1.0  # one more line's worth of budget
    log.rejected("junk", peer="p:1", method=None, code="parse_error")
    log.rejected("junk", peer="p:1", method=None, code="parse_error")
    log.flush_suppressed()
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == [
        "rejected", "rejected", "tx", "tx", "tx", "suppressed", "rejected", "suppressed"]
    assert events[5] == {"ts": 101.0, "event": "suppressed", "of": "rejected", "lines": 3}
    assert events[7]["lines"] == 1
    log.flush_suppressed()  # nothing more was dropped: nothing more to say
    assert len(out.getvalue().splitlines()) == 8


def test_the_log_file_rolls_over_so_it_never_fills_the_disk(tmp_path):
    path = tmp_path / "node.log"
    sink = LogFile(path, max_bytes=4096)
    log = NodeLog(sink, budgets={})
    for i in range(500):
        log.write("tx", hash=bytes([i % 256]) * 32, n=i)
    sink.close()
    older = tmp_path / "node.log.1"
    assert path.stat().st_size <= 4096 and older.stat().st_size <= 4096
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node.log", "node.log.1"]
    lines = (older.read_text() + path.read_text()).splitlines()
    assert [json.loads(line)["n"] for line in lines] == list(range(500 - len(lines), 500))


# ---- the ASGI app, without a server ---------------------------------------------------


class FakeCore:
    def health(self):
        return {"ok": True, "height": 7}


def asgi(app, method, path, body=b"", headers=(), chunks=None):
    """Drive the app once; returns (status, headers, body, receive calls)."""
    chunks = list(chunks if chunks is not None else [body])
    received, sent = [], []

    async def receive():
        received.append(1)
        if not chunks:
            return {"type": "http.disconnect"}
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "client": ("127.0.0.1", 9),
             "headers": [(k.lower(), v) for k, v in headers]}
    asyncio.run(app(scope, receive, send))
    start, body_msg = sent
    return start["status"], dict(start["headers"]), body_msg["body"], len(received)


@pytest.fixture
def app():
    return HttpApp(Dispatcher(FakeCore(), limits=Limits(max_body=100)), NodeMetrics(),
                   clock=lambda: 0.0)


def test_rpc_over_asgi(app):
    body = b'{"jsonrpc":"2.0","id":1,"method":"ghost_health"}'
    status, headers, out, _ = asgi(app, "POST", "/", body,
                                   [(b"content-type", b"application/json; charset=utf-8")])
    assert status == 200 and json.loads(out)["result"] == {"ok": True, "height": 7}
    assert headers[b"content-type"] == b"application/json"


def test_a_declared_oversized_body_is_never_read(app):
    status, headers, out, reads = asgi(app, "POST", "/", b"x" * 101, [
        (b"content-type", b"application/json"), (b"content-length", b"101")])
    assert status == 413 and reads == 0 and headers[b"connection"] == b"close"
    assert json.loads(out)["error"]["data"] == {"code": "too_large", "limit": 100}


def test_a_chunked_body_stops_being_read_past_the_limit(app):
    status, _, out, reads = asgi(app, "POST", "/", headers=[(b"content-type", b"application/json")],
                                 chunks=[b" " * 60, b" " * 60, b" " * 60, b"{}"])
    assert status == 413 and reads == 2


def test_notifications_only_is_204_without_a_length(app):
    status, headers, out, _ = asgi(app, "POST", "/", b'{"jsonrpc":"2.0","method":"ghost_health"}',
                                   [(b"content-type", b"application/json")])
    assert status == 204 and out == b"" and b"content-length" not in headers


def test_other_routes(app):
    assert asgi(app, "GET", "/health")[0:3:2] == (200, b'{"ok": true, "height": 7}')
    status, headers, out, _ = asgi(app, "GET", "/metrics")
    assert status == 200 and headers[b"content-type"].startswith(b"text/plain")
    assert asgi(app, "GET", "/")[0] == 405
    assert asgi(app, "POST", "/", b"{}", [(b"content-type", b"text/plain")])[0] == 415
    assert asgi(app, "GET", "/x")[0] == 404


def test_block_times_never_go_back(tmp_path, counter_code, key):
    """Requests queue for the writer with their arrival time; a later block never gets an
    earlier time than the block before it."""
    from ghost_cli.chain.transaction import Transaction, sign_single

    core = NodeCore.open(tmp_path, chain_id=1337)
    try:
        def tx(nonce, **fields):
            t = Transaction(chain_id=1337, sender=key.address, nonce=nonce, gas_limit=10**7,
                            expiry=2_000_000_000, **fields)
            return sign_single(t, key.secret_key, key.public_key)

        r = core.send_transaction(tx(0, kind="deploy", code=counter_code), now=1_700_000_010)
        core.send_transaction(tx(1, kind="call", target=r.address, function="increment"),
                              now=1_700_000_000)
        assert core.store.block_time(1) == core.store.block_time(2) == 1_700_000_010
    finally:
        core.close()


def test_reads_neither_wait_for_the_writer_nor_see_its_uncommitted_writes(tmp_path):
    import threading

    core = NodeCore.open(tmp_path, chain_id=1337)
    someone = b"\x42" * 20
    try:
        got: list[int] = []
        with core._lock, core.store.transaction():  # a writer mid-transaction
            core.store.set_nonce(someone, 9)
            reader = threading.Thread(target=lambda: got.append(core.nonce(someone)))
            reader.start()
            reader.join(10)
            assert not reader.is_alive() and got == [0]
        assert core.nonce(someone) == 9  # committed: now every reader sees it
    finally:
        core.close()


def test_a_failure_outside_any_method_is_a_logged_json_rpc_error(monkeypatch):
    out = io.StringIO()
    dispatcher = Dispatcher(FakeCore(), observers=(NodeLog(out),))
    monkeypatch.setattr(dispatcher, "handle", lambda *a, **k: 1 / 0)
    app = HttpApp(dispatcher, NodeMetrics(), clock=lambda: 0.0)
    status, headers, body, _ = asgi(app, "POST", "/", b"{}",
                                    [(b"content-type", b"application/json")])
    assert status == 500 and headers[b"content-type"] == b"application/json"
    assert json.loads(body)["error"] == {"code": -32603, "message": "internal error",
                                         "data": {"code": "internal_error"}}
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert (line["event"], line["error"]) == ("internal_error", "ZeroDivisionError")


def test_on_a_node_a_name_belongs_to_its_first_deployer(tmp_path, counter_code, key):
    from ghost_cli.chain.transaction import Transaction, sign_single
    from ghost_cli.crypto.address import format_address
    from ghost_cli.crypto.keypair import KeyPair
    from ghost_cli.exceptions import NameTakenError

    stranger = KeyPair.generate("ed25519", b"\x07" * 32)
    core = NodeCore.open(tmp_path, chain_id=1337)
    try:
        def deploy(signer, nonce):
            t = Transaction(chain_id=1337, sender=signer.address, nonce=nonce, gas_limit=10**7,
                            expiry=2_000_000_000, kind="deploy", code=counter_code,
                            label="counter")
            return core.send_transaction(sign_single(t, signer.secret_key, signer.public_key),
                                         now=1_700_000_000)

        first = deploy(key, 0).address
        with pytest.raises(NameTakenError, match="belongs to " + format_address(key.address)):
            deploy(stranger, 0)
        assert core.nonce(stranger.address) == 0 and core.store.address_of("counter") == first
        assert deploy(key, 1).address == core.store.address_of("counter") != first
    finally:
        core.close()


def test_a_store_of_another_chain_leaves_a_new_data_dir_unclaimed(tmp_path):
    from ghost_cli.node.service import NodeService

    NodeCore.open(tmp_path / "a", chain_id=5).close()
    config = NodeConfig(tmp_path / "b", chain_id=7, store=str(tmp_path / "a" / "state.db"))
    with pytest.raises(ConfigError, match="chain"):
        NodeService(config)
    assert not (tmp_path / "b" / "node.json").exists()
    NodeService(replace(config, chain_id=5)).core.close()  # the store's own chain: claimed
    assert resolve_chain_id(tmp_path / "b", None) == 5
