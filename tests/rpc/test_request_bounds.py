"""Hostile requests through Dispatcher.handle over a real NodeCore: ids the reply could
not carry, unbounded names and data, oversized replies, junk that would grow metrics."""

from __future__ import annotations

import json

import pytest
from node_helpers import built_counter_source
from rpc_helpers import NOW, Rpc

from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import PanicError, RevertError, one_line
from ghost_cli.node.core import QUERY_GAS_CAP, NodeCore
from ghost_cli.node.metrics import NodeMetrics
from ghost_cli.rpc import Dispatcher, Limits, codec
from ghost_cli.rpc.errors import MAX_MESSAGE
from ghost_cli.rpc.methods import MAX_HEX_BYTES, MAX_NAME_CHARS

#: A contract whose failures carry line breaks of its choosing, and whose event name holds
#: a NUL.
LINES_SOURCE = """const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

pub fn revert_lines() u64 {
    ghost.revert("first\\nsecond\\r\\u{2028}third");
}

pub fn panic_lines() u64 {
    @panic("first\\nsecond");
}

pub fn nul_event() u64 {
    ghost.emit("a\\x00b", &.{}, "");
    return 1;
}
"""


@pytest.fixture(scope="session")
def lines_code(tmp_path_factory) -> bytes:
    return built_counter_source(tmp_path_factory.mktemp("lines"), "lines", LINES_SOURCE)


@pytest.fixture
def counter(rpc, counter_code) -> str:
    return rpc.deploy(counter_code)["address"]


def _body(doc) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize("raw_id", [b"1e400", b"-1e400", b"9223372036854775808", b"true",
                                    b'"' + b"x" * 257 + b'"', b"[1]", b"{}"])
def test_an_id_the_reply_cannot_carry_is_refused_before_the_request_runs(rpc, counter, raw_id):
    tx = rpc.tx("call", target=bytes.fromhex(counter[2:]), function="increment")
    body = (b'{"jsonrpc":"2.0","id":' + raw_id + b',"method":"ghost_sendTransaction",'
            b'"params":{"tx":' + _body(tx) + b"}}")
    reply = rpc.raw(body)
    assert reply["id"] is None and reply["error"]["code"] == -32600
    assert "id must be" in reply["error"]["message"]
    assert rpc.result("ghost_getAccount", address="0x" + rpc.key.address.hex())["nonce"] == 1


def test_a_bad_id_fails_only_its_own_batch_entry(rpc, counter):
    body = (b'[{"jsonrpc":"2.0","id":1e400,"method":"ghost_health"},'
            b'{"jsonrpc":"2.0","id":2,"method":"ghost_health"},'
            b'{"jsonrpc":"2.0","id":"' + b"y" * 256 + b'","method":"ghost_health"}]')
    first, second, third = rpc.raw(body)
    assert first["error"]["code"] == -32600 and first["id"] is None
    assert second["id"] == 2 and second["result"]["ok"] is True
    assert third["id"] == "y" * 256 and "result" in third


@pytest.mark.parametrize("rid", [None, 0, -5, 2**63 - 1, 1.5, "", "a" * 256])
def test_ordinary_ids_are_echoed(rid):
    assert codec.valid_id(rid)


def test_an_unknown_method_name_is_not_echoed_whole(rpc):
    reply = rpc.raw(_body({"jsonrpc": "2.0", "id": 1, "method": "m" * 60_000}))
    assert reply["error"]["code"] == -32601
    assert len(reply["error"]["message"]) < 100


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "a\u2028b", "a\x85b", "\ud800"])
def test_an_unknown_param_name_is_quoted_so_the_message_stays_one_line(rpc, name):
    reply = rpc.raw(b'{"jsonrpc":"2.0","id":1,"method":"ghost_nodeInfo","params":{'
                    + json.dumps(name).encode() + b":1}}")
    message = reply["error"]["message"]
    assert reply["error"]["code"] == -32602 and message.startswith("ghost_nodeInfo has no param")
    assert len(message.splitlines()) == 1 and message.isprintable()
    message.encode("utf-8")  # no lone surrogate either


@pytest.mark.parametrize("exc", [RevertError("a\nb\r\u2028c\x85d\ud800"),
                                 PanicError("panic: a\nb", panic="a\nb")])
def test_an_error_object_message_is_one_line_whatever_the_error_carries(exc):
    from ghost_cli.rpc.errors import error_object

    error = error_object(exc)
    assert len(error["message"].splitlines()) == 1 and error["message"].isprintable()
    assert error["message"] == one_line(exc.message)
    assert error["data"].get("reason", error["data"].get("panic")) == exc.details.get(
        "reason", exc.details.get("panic"))  # data keeps the text exact


@pytest.mark.parametrize("function, exact", [
    ("revert_lines", ("reason", "first\nsecond\r\u2028third")),
    ("panic_lines", ("panic", "first\nsecond")),
])
def test_a_contracts_line_breaks_stay_out_of_the_one_line_message(rpc, lines_code, function,
                                                                   exact):
    """A revert reason or panic message is the contract's choice: the error's message (and
    a failed receipt's) is still one line, its line breaks escaped; `data` has them as
    sent."""
    address = rpc.deploy(lines_code, name="lines")["address"]
    for error in (rpc.error("ghost_query", address=address, function=function),
                  rpc.send_call(address, function)["error"]):
        assert len(error["message"].splitlines()) == 1 and error["message"].isprintable()
        assert "first\\nsecond" in error["message"]
        assert error["data"][exact[0]] == exact[1]
    failed = rpc.result("ghost_getReceipt", hash=error["data"]["tx_hash"])["error"]
    assert failed["message"] == error["message"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_a_deploy_whose_metadata_no_reply_can_carry_is_an_invalid_module(rpc, counter_code,
                                                                          number):
    """Metadata is what ghost_getContract answers with: a NaN in it would make every
    answer about the contract an internal error, so the deploy is refused, unrecorded."""
    from ghost_cli.vm.wasm_module import METADATA_SECTION, add_custom_section, read_metadata

    text = json.dumps(read_metadata(counter_code))[:-1] + f', "x": {number}}}'
    code = add_custom_section(counter_code, METADATA_SECTION, text.encode())
    sender = "0x" + rpc.key.address.hex()
    before = (rpc.result("ghost_getAccount", address=sender), rpc.result("ghost_nodeInfo"))
    err = rpc.error("ghost_sendTransaction", tx=rpc.tx("deploy", code=code, label="nan"))
    assert (err["code"], err["data"]["code"]) == (-32041, "invalid_module")
    assert (rpc.result("ghost_getAccount", address=sender), rpc.result("ghost_nodeInfo")
            ) == before
    assert rpc.error("ghost_getContract", name="nan")["code"] == -32040


@pytest.mark.parametrize("method, params", [
    ("ghost_getContract", {"name": "a\0b"}),
    ("ghost_getEvents", {"name": "\0"}),
    ("ghost_query", {"address": "0x" + "11" * 20, "function": "get\0"}),
])
def test_a_nul_in_a_string_param_is_invalid_params_on_every_store(store_url, tmp_path, key,
                                                                   method, params):
    """PostgreSQL text holds no NUL: such a name was the `state` error there (the node's
    database failing, its location named) and an ordinary lookup on SQLite."""
    core = NodeCore.open(tmp_path / "node", chain_id=1337, store=store_url)
    try:
        err = Rpc(Dispatcher(core), key).error(method, **params)
        assert (err["code"], err["data"]["code"]) == (-32602, "invalid_params")
        assert "NUL" in err["message"]
    finally:
        core.close()


def test_a_deploy_labelled_with_a_nul_is_rejected_on_every_store(store_url, tmp_path, key,
                                                                  counter_code):
    """A label is recorded as text, which PostgreSQL cannot hold with a NUL in it: such a
    deploy was the `state` error there and a registered name on SQLite; it is malformed
    (tx_rejected) on both, and nothing is recorded."""
    from ghost_cli.chain.transaction import Transaction, sign_single, to_json

    core = NodeCore.open(tmp_path / "node", chain_id=1337, store=store_url)
    try:
        rpc = Rpc(Dispatcher(core), key)
        tx = Transaction(chain_id=1337, sender=key.address, nonce=0, kind="deploy",
                         gas_limit=10_000_000, expiry=int(NOW) + 600, code=counter_code,
                         label="a-b")
        object.__setattr__(tx, "label", "a\0b")  # as a client without the check signs it
        err = rpc.error("ghost_sendTransaction",
                        tx=to_json(sign_single(tx, key.secret_key, key.public_key)))
        assert (err["code"], err["data"]["code"]) == (-32010, "tx_rejected")
        assert "NUL" in err["message"]
        assert rpc.result("ghost_getAccount", address="0x" + key.address.hex())["nonce"] == 0
        assert rpc.result("ghost_nodeInfo")["height"] == 0
    finally:
        core.close()


def test_an_event_name_with_a_nul_is_recorded_on_every_store(store_url, tmp_path, key,
                                                             lines_code):
    """Topic 0 "a\\0b" named its event "a\\x00b", which a PostgreSQL store could not
    record: the transaction was the `state` error there, unrecorded (on SQLite it ran).
    The NUL reads as U+FFFD, as a byte that is not UTF-8 does; the topic keeps it."""
    core = NodeCore.open(tmp_path / "node", chain_id=1337, store=store_url)
    try:
        rpc = Rpc(Dispatcher(core), key)
        address = rpc.deploy(lines_code, name="lines")["address"]
        receipt = rpc.result("ghost_sendTransaction", tx=rpc.tx(
            "call", target=bytes.fromhex(address[2:]), function="nul_event"))
        [event] = receipt["events"]
        assert event["name"] == "a\ufffdb"
        assert event["topics"] == ["0x610062" + "00" * 29]
        [found] = rpc.result("ghost_getEvents", name="a\ufffdb")["events"]
        assert found["tx_hash"] == receipt["tx_hash"]
    finally:
        core.close()


def test_error_messages_are_cut_at_the_limit(rpc, counter):
    reply = rpc.call("ghost_getAccount", address="0x" + "11" * 20,
                     **{f"p{'q' * 100}{i}": 1 for i in range(400)})
    assert reply["error"]["code"] == -32602 and "(and 395 more)" in reply["error"]["message"]
    assert len(reply["error"]["message"]) <= MAX_MESSAGE
    from ghost_cli.exceptions import NotFoundError
    from ghost_cli.rpc.errors import error_object

    long = error_object(NotFoundError("x" * 10_000, reason="r" * 10_000))
    assert len(long["message"]) == MAX_MESSAGE and long["message"].endswith("...")
    assert len(long["data"]["reason"]) == MAX_MESSAGE


@pytest.mark.parametrize("method, param", [("ghost_getReceipt", "hash"),
                                           ("ghost_getCode", "code_hash"),
                                           ("ghost_getEvents", "topic")])
@pytest.mark.parametrize("size", [33, MAX_HEX_BYTES, MAX_HEX_BYTES + 1, 1024 * 1024])
def test_a_hash_of_any_wrong_length_is_invalid_params(core, key, method, param, size):
    """A 32-byte param is wrong at 33 bytes and at a megabyte alike: the hex limit of
    args and key (too_large) is not its to answer."""
    rpc = Rpc(Dispatcher(core), key)  # the node's own 4 MiB body limit
    err = rpc.error(method, **{param: "0x" + "00" * size})
    assert (err["code"], err["data"]["code"]) == (-32602, "invalid_params")
    assert err["message"].startswith(f"{param} must be 32 bytes")


def test_call_data_over_the_limit_is_refused_from_its_length(rpc, counter):
    err = rpc.error("ghost_query", address=counter, function="get",
                    args="0x" + "zz" * (MAX_HEX_BYTES + 1))  # not even hex: never decoded
    assert (err["code"], err["data"]["code"], err["data"]["limit"]) == (
        -32001, "too_large", MAX_HEX_BYTES)
    err = rpc.error("ghost_query", address=counter, function="f" * (MAX_NAME_CHARS + 1))
    assert err["code"] == -32602


def test_addresses_need_their_0x(rpc, counter):
    err = rpc.error("ghost_getAccount", address=counter[2:])
    assert err["code"] == -32602 and "0x-prefixed" in err["message"]
    err = rpc.error("ghost_query", address=counter[2:] + "00", function="get")
    assert err["code"] == -32602


def test_queries_have_their_own_gas_cap(rpc, counter):
    err = rpc.error("ghost_query", address=counter, function="get",
                    gas_limit=QUERY_GAS_CAP + 1)
    assert (err["code"], err["data"]["code"], err["data"]["limit"]) == (
        -32602, "invalid_params", QUERY_GAS_CAP)
    ok = rpc.result("ghost_query", address=counter, function="get", gas_limit=QUERY_GAS_CAP)
    assert ok["gas_used"] > 0
    err = rpc.error("ghost_query", address=counter, function="get", gas_limit=21_001)
    assert err["data"]["code"] == "out_of_gas"  # a small limit is honoured, not raised


def test_a_reply_over_the_limit_becomes_a_too_large_error_in_its_place(core, key, counter_code):
    small = Rpc(Dispatcher(core, limits=Limits(max_reply=400)), key)
    address = small.deploy(counter_code)["address"]
    entries = [{"jsonrpc": "2.0", "id": i, "method": "ghost_getContract",
                "params": {"address": address}} for i in range(2)]
    entries.append({"jsonrpc": "2.0", "id": 9, "method": "ghost_health"})
    big, _, health = small.raw(_body(entries))
    assert big["id"] == 0 and big["error"]["data"] == {"code": "too_large", "limit": 400}
    assert health["result"]["ok"] is True


def test_junk_transactions_add_no_metric_series(tmp_path, key):
    metrics = NodeMetrics()
    core = NodeCore.open(tmp_path / "m", chain_id=1337, observers=(metrics,))
    try:
        rpc = Rpc(Dispatcher(core, observers=(metrics,)), key)
        junk = KeyPair.generate("ml-dsa-65", b"\x09" * 32)

        def series(n: int) -> list[str]:
            for i in range(n):
                doc = rpc.tx("call", target=bytes([i + 1]) * 20, function="f", nonce=0,
                             signer=junk)
                doc["auth"]["signature"] = "00" + doc["auth"]["signature"][2:]
                assert rpc.error("ghost_sendTransaction", tx=doc)["data"]["code"] == \
                    "bad_signature"
            text = metrics.render().decode()
            return [line.rsplit(" ", 1)[0] for line in text.splitlines()
                    if not line.startswith("#")]

        assert series(3) == series(30)
        text = metrics.render().decode()
        assert 'ghost_contract_failures_total{code="bad_signature",contract="other"} 33.0' \
            in text
        assert "01" * 20 not in text
    finally:
        core.close()


def test_health_is_answered_from_memory(core, rpc, counter):
    height = rpc.result("ghost_health")["height"]
    core.store.close()  # even with no store to read
    assert core.health() == {"ok": True, "height": height, "store": "sqlite"}
    assert NOW  # the dispatcher's clock is the adapter's


def test_a_transactions_call_data_and_size_are_bounded_before_it_runs(core, key, counter):
    from ghost_cli.rpc.methods import MAX_TX_BYTES

    rpc = Rpc(Dispatcher(core), key)  # the default 4 MiB body
    big = rpc.tx("call", target=bytes.fromhex(counter[2:]), function="increment",
                 args=b"\0" * (MAX_HEX_BYTES + 1))
    err = rpc.error("ghost_sendTransaction", tx=big)
    assert (err["code"], err["data"]) == (-32001, {"code": "too_large", "limit": MAX_HEX_BYTES})
    huge = dict(big, tx="00" * (MAX_TX_BYTES + 1))  # refused from its length, undecoded
    err = rpc.error("ghost_sendTransaction", tx=huge)
    assert (err["code"], err["data"]) == (-32001, {"code": "too_large", "limit": MAX_TX_BYTES})
    assert rpc.result("ghost_getAccount", address="0x" + key.address.hex())["nonce"] == 1


def test_execution_and_commit_latency_are_histograms(tmp_path, key, counter_code):
    metrics = NodeMetrics()
    core = NodeCore.open(tmp_path / "h", chain_id=1337, observers=(metrics,))
    try:
        rpc = Rpc(Dispatcher(core, observers=(metrics,)), key)
        address = rpc.deploy(counter_code)["address"]
        rpc.result("ghost_query", address=address, function="get")
        replay = rpc.send_call(address, "increment", nonce=0)  # the deploy's nonce
        assert replay["error"]["data"]["code"] == "bad_nonce"
        text = metrics.render().decode()
        assert "ghost_commit_seconds_count 1.0" in text  # the deploy; a refusal commits nothing
        for kind, status in (("deploy", "ok"), ("query", "ok"), ("call", "failed")):
            assert f'ghost_execution_seconds_count{{kind="{kind}",status="{status}"}} 1.0' in text
    finally:
        core.close()


def test_positional_params_are_counted_under_their_method(tmp_path, key):
    metrics = NodeMetrics()
    core = NodeCore.open(tmp_path / "p", chain_id=1337, observers=(metrics,))
    try:
        rpc = Rpc(Dispatcher(core, observers=(metrics,)), key)
        err = rpc.raw(b'{"jsonrpc":"2.0","id":1,"method":"ghost_nodeInfo","params":[1]}')
        assert err["id"] == 1 and err["error"]["data"]["code"] == "invalid_params"
        # a notification gets no answer, whatever its params; an unknown method is -32601
        assert rpc.raw(b'{"jsonrpc":"2.0","method":"ghost_nodeInfo","params":[1]}') is None
        err = rpc.raw(b'{"jsonrpc":"2.0","id":2,"method":"nope","params":[1]}')
        assert err["error"]["code"] == -32601
        text = metrics.render().decode()
        assert 'ghost_rpc_requests_total{method="ghost_nodeInfo"} 2.0' in text
        assert 'ghost_rpc_errors_total{code="invalid_params",method="ghost_nodeInfo"} 2.0' in text
    finally:
        core.close()


def test_events_no_reply_could_carry_are_refused_before_they_are_read(core, key):
    """1,000 events of 64 KiB each, 64 MiB as hex twice over: once built in full (some
    300 MB) and then refused as a reply over 8 MiB; now refused at MAX_EVENT_BYTES of
    event data and topics, from the rows' lengths. Fewer of them are answered."""
    from ghost_cli.chain.store import ReceiptRecord
    from ghost_cli.rpc.methods import MAX_EVENT_BYTES
    from ghost_cli.vm.types import Event

    name, emitter = b"Big".ljust(32, b"\0"), b"\x05" * 20
    with core.store.transaction():
        for h in range(1, 9):
            core.store.add_block(h, 0, h.to_bytes(32, "big"))
            core.store.put_receipt(ReceiptRecord(
                h.to_bytes(32, "big"), h, "call", bytes(20), emitter, "f", 1, b"", (),
                tuple(Event(emitter, (name,), bytes(64 * 1024)) for _ in range(10))))
    rpc = Rpc(Dispatcher(core), key)
    refused = rpc.call("ghost_getEvents", limit=1000)["error"]
    assert refused["data"] == {"code": "too_large", "limit": MAX_EVENT_BYTES}
    assert "hold 5245440 bytes" in refused["message"]
    assert len(rpc.result("ghost_getEvents", limit=60)["events"]) == 60


def test_a_receipt_no_reply_could_carry_is_refused_unread_and_its_events_paged(core, key):
    """One transaction's 70 events of 64 KiB: its receipt, 9 MB as hex, was built whole
    (360 MB of node memory for 50,000 events of 1 KiB) and then refused as a reply over
    8 MiB; now it is refused from the events' lengths, and ghost_getEvents pages through
    that one block with after_index."""
    from ghost_cli.chain.store import ReceiptRecord
    from ghost_cli.rpc.methods import MAX_EVENT_BYTES
    from ghost_cli.vm.types import Event

    name, emitter, tx_hash = b"Big".ljust(32, b"\0"), b"\x05" * 20, b"\xab" * 32
    with core.store.transaction():
        core.store.add_block(1, 0, tx_hash)
        core.store.put_receipt(ReceiptRecord(
            tx_hash, 1, "call", bytes(20), emitter, "f", 1, b"", (),
            tuple(Event(emitter, (name,), bytes([i]) * 64 * 1024) for i in range(70))))
    rpc = Rpc(Dispatcher(core), key)
    refused = rpc.call("ghost_getReceipt", hash="0x" + tx_hash.hex())["error"]
    assert refused["data"] == {"code": "too_large", "limit": MAX_EVENT_BYTES}
    assert "70 events" in refused["message"] and "ghost_getEvents" in refused["message"]
    first = rpc.result("ghost_getEvents", from_block=1, to_block=1, limit=50)["events"]
    rest = rpc.result("ghost_getEvents", from_block=1, to_block=1, limit=50,
                      after_index=first[-1]["index"])["events"]
    assert [e["index"] for e in first + rest] == list(range(70))
    assert rest[-1]["data"] == "0x" + "45" * 64 * 1024


def test_the_state_size_metric_counts_storage_alone_once_a_height(core, monkeypatch):
    """GET /metrics is open to anyone and its ghost_state_keys read the store: it
    counted every row of seven tables (23 ms at 200,000 events, receipts, blocks and
    names, growing with the chain) on every scrape; now storage only, once a height."""
    from ghost_cli.chain.store.sql import SqlStore

    counted = []
    count = SqlStore.storage_keys
    monkeypatch.setattr(SqlStore, "storage_keys",
                        lambda self: counted.append(1) or count(self))
    monkeypatch.setattr(SqlStore, "counts", lambda self: pytest.fail("counts() read"))
    with core.store.transaction():
        core.store.storage_apply(b"\x05" * 20, {b"a": b"1", b"b": b"2"}, height=1)
        core.store.add_block(1, 0, b"\x01" * 32)
    assert [core.state_keys() for _ in range(3)] == [2, 2, 2] and len(counted) == 1
    with core.store.transaction():
        core.store.storage_apply(b"\x05" * 20, {b"c": b"3"}, height=2)
        core.store.add_block(2, 0, b"\x02" * 32)
    assert [core.state_keys() for _ in range(3)] == [3, 3, 3] and len(counted) == 2
