"""The ghost.v1 gRPC services against a real node process, through grpcio's own stubs."""

from __future__ import annotations

import json
import queue
import threading
import time

import grpc
import httpx
import pytest
from node_helpers import CHAIN_ID, Client, start_node

from ghost_cli.chain.transaction import Transaction, from_json, sign_single
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2 as chain
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc, contracts_pb2_grpc
from ghost_cli.grpc_gen.ghost.v1 import contracts_pb2 as pb
from ghost_cli.node.grpc import MAX_CLIENT_SUBSCRIPTIONS, signed_to

pytestmark = pytest.mark.slow


@pytest.fixture
def channel(node):
    with grpc.insecure_channel(node.bound["grpc"]) as ch:
        yield ch


@pytest.fixture
def stubs(channel):
    return contracts_pb2_grpc.ContractsStub(channel), chain_pb2_grpc.ChainStub(channel)


def _signed(key, nonce: int, kind: str, **fields) -> pb.SignedTransaction:
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce, kind=kind,
                     gas_limit=10_000_000, expiry=int(time.time()) + 600, **fields)
    return signed_to(sign_single(tx, key.secret_key, key.public_key))


def _nonce(chain_stub, key) -> int:
    return chain_stub.GetAccount(chain.GetAccountRequest(address=key.address)).nonce


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def test_deploy_call_query_receipt_blocks_and_event_stream(node, stubs, key, counter_code):
    contracts, chain_stub = stubs
    start = _nonce(chain_stub, key)
    deployed = contracts.Deploy(_signed(key, start, "deploy", code=counter_code,
                                        label="grpc-counter"))
    assert deployed.kind == "deploy" and len(deployed.address) == 20

    # A subscriber from block 0 gets the recorded event first, then new ones as they land.
    events = contracts.SubscribeEvents(pb.SubscribeEventsRequest(address=deployed.address))
    blocks = chain_stub.SubscribeBlocks(chain.SubscribeBlocksRequest(
        from_block=deployed.block_height), timeout=60)  # a block that never comes fails
    got: queue.Queue = queue.Queue()

    def listen() -> None:
        try:
            for e in events:
                got.put(e)
        except grpc.RpcError as exc:  # cancelled below
            got.put(exc)

    threading.Thread(target=listen, daemon=True).start()

    first = contracts.Call(_signed(key, start + 1, "call", target=deployed.address,
                                   function="increment"))
    assert first.return_data == _u64(1) and first.block_height == deployed.block_height + 1
    e1 = got.get(timeout=20)
    assert (e1.event.name, e1.tx_hash, e1.block_height) == ("Incremented", first.tx_hash,
                                                            first.block_height)
    second = contracts.Call(_signed(key, start + 2, "call", target=deployed.address,
                                    function="increment"))
    e2 = got.get(timeout=20)
    assert e2.tx_hash == second.tx_hash and key.address in e2.event.topics[1]

    assert [next(blocks).height for _ in range(3)] == [deployed.block_height + i
                                                        for i in range(3)]
    # A transaction that runs and fails is a block too: it wakes the subscription alone.
    with pytest.raises(grpc.RpcError) as failed:
        contracts.Call(_signed(key, start + 3, "call", target=deployed.address,
                               function="add", args=_u64(2**64 - 1)))
    assert failed.value.code() == grpc.StatusCode.ABORTED
    assert next(blocks).height == deployed.block_height + 3
    events.cancel()
    blocks.cancel()

    q = contracts.Query(pb.QueryRequest(address=deployed.address, function="get"))
    assert q.return_data == _u64(2)
    assert contracts.GetReceipt(pb.GetReceiptRequest(tx_hash=second.tx_hash)) == second
    latest = chain_stub.GetLatestBlock(chain.GetLatestBlockRequest())
    assert (latest.height, latest.chain_id) == (second.block_height + 1, CHAIN_ID)
    assert chain_stub.GetBlock(chain.GetBlockRequest(height=first.block_height)).tx_hash == \
        first.tx_hash
    assert _nonce(chain_stub, key) == start + 4

    # A late subscriber replays the history (from_block), with nothing twice.
    replay = contracts.SubscribeEvents(pb.SubscribeEventsRequest(address=deployed.address,
                                                                 name="Incremented"))
    assert [next(replay).tx_hash for _ in range(2)] == [first.tx_hash, second.tx_hash]
    replay.cancel()

    # The same state through JSON-RPC: one core behind both.
    with Client(node.url, key) as c:
        assert c.result("ghost_getReceipt", hash="0x" + second.tx_hash.hex())["block_height"] \
            == second.block_height
    text = httpx.get(f"{node.url}/metrics").text
    assert 'ghost_rpc_requests_total{method="/ghost.v1.Contracts/Call"} 3.0' in text


def _error(exc: grpc.RpcError) -> dict:
    meta = dict(exc.trailing_metadata() or ())
    return json.loads(meta["ghost-error"])


def test_ghost_errors_map_to_status_codes_with_the_ghost_error(node, stubs, key, counter_code):
    contracts, chain_stub = stubs
    with pytest.raises(grpc.RpcError) as info:
        contracts.GetReceipt(pb.GetReceiptRequest(tx_hash=b"\x01" * 32))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert _error(info.value)["data"]["code"] == "not_found"

    start = _nonce(chain_stub, key)
    deploy = _signed(key, start, "deploy", code=counter_code)
    contracts.Deploy(deploy)
    with pytest.raises(grpc.RpcError) as info:  # the same transaction again: a replay
        contracts.Deploy(deploy)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(info.value.trailing_metadata())["ghost-code"] == "bad_nonce"

    with pytest.raises(grpc.RpcError) as info:  # a call transaction sent to Deploy
        contracts.Deploy(_signed(key, start + 1, "call", target=b"\x02" * 20, function="f"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "use Call" in info.value.details()

    with pytest.raises(grpc.RpcError) as info:
        contracts.Call(pb.SignedTransaction(tx=b"not a transaction"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _error(info.value)["data"]["code"] == "tx_rejected"

    with pytest.raises(grpc.RpcError) as info:
        chain_stub.GetAccount(chain.GetAccountRequest(address=b"\x01" * 3))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "20 bytes" in info.value.details()

    for height in (10_000, 2**63, 2**64 - 1):  # uint64 heights past what a store holds too
        with pytest.raises(grpc.RpcError) as info:
            chain_stub.GetBlock(chain.GetBlockRequest(height=height))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND, height

    with pytest.raises(grpc.RpcError) as info:  # code no engine takes
        contracts.Deploy(_signed(key, start + 1, "deploy", code=b"\0asm junk"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _error(info.value)["data"]["code"] == "invalid_module"

    with pytest.raises(grpc.RpcError) as info:  # the encoded transaction's 1 MiB bound
        contracts.Deploy(_signed(key, start + 1, "deploy", code=b"\0" * (1 << 20)))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _error(info.value)["data"]["code"] == "too_large"

    with pytest.raises(grpc.RpcError) as info:  # the status message never echoes 5,000
        contracts.Query(pb.QueryRequest(address=b"\x02" * 20, function="f" * 5000))
    assert len(info.value.details()) <= 512
    assert _nonce(chain_stub, key) == start + 1


def test_unknown_methods_and_garbage_payloads_are_clear_errors(node, channel, stubs, key):
    raw = channel.unary_unary("/ghost.v1.Contracts/Nope")
    with pytest.raises(grpc.RpcError) as info:
        raw(b"")
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as info:
        channel.unary_unary("/ghost.v9.Other/Deploy")(b"\x00")
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED

    deploy = channel.unary_unary("/ghost.v1.Contracts/Deploy")  # raw bytes, no serializer
    with pytest.raises(grpc.RpcError) as info:
        deploy(b"\xff\xff\xff\xff garbage")  # not protobuf at all
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid ghost.v1.SignedTransaction message" in info.value.details()

    # Another message's bytes: tx's field number with the wrong wire type (varint).
    with pytest.raises(grpc.RpcError) as info:
        deploy(chain.GetBlockRequest(height=5).SerializeToString())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # A valid but empty message: the missing field is named.
    with pytest.raises(grpc.RpcError) as info:
        deploy(b"")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tx is required" in info.value.details()

    contracts, chain_stub = stubs  # the node is still up, on both transports
    assert _nonce(chain_stub, key) == 0
    assert httpx.get(f"{node.url}/health").json()["ok"] is True
    assert node.proc.poll() is None


def test_stop_ends_subscriptions_and_the_node_exits_cleanly(node, stubs):
    contracts, chain_stub = stubs
    blocks = chain_stub.SubscribeBlocks(chain.SubscribeBlocksRequest())
    time.sleep(0.5)  # the subscription is open
    assert node.stop() == 0
    with pytest.raises(grpc.RpcError) as info:  # not a clean end: the stream is incomplete
        next(blocks)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert any(rec["event"] == "node_stopped" for rec in node.log())


def test_signed_tx_messages_round_trip_the_tx_json_form(key):
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=3, kind="call",
                     gas_limit=1, expiry=2, target=b"\x05" * 20, function="f")
    signed = sign_single(tx, key.secret_key, key.public_key)
    from ghost_cli.chain.transaction import to_json
    from ghost_cli.node.grpc import signed_from

    assert signed_from(signed_to(signed)) == from_json(to_json(signed))


def test_deploy_runs_the_constructor_from_the_signed_args(node, stubs, key, token_code):
    contracts, chain_stub = stubs
    start = _nonce(chain_stub, key)
    deployed = contracts.Deploy(_signed(key, start, "deploy", code=token_code,
                                        label="grpc-token", args=_u64(777)))
    assert [e.name for e in deployed.events] == ["Transfer"]
    supply = contracts.Query(pb.QueryRequest(address=deployed.address,
                                             function="total_supply"))
    assert supply.return_data == _u64(777)
    with pytest.raises(grpc.RpcError) as info:  # never again, from anyone
        contracts.Call(_signed(key, start + 1, "call", target=deployed.address,
                               function="init", args=_u64(1)))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "constructor" in info.value.details()
    assert _nonce(chain_stub, key) == start + 1

    # A transaction that runs and fails is recorded: nonce used, failed receipt.
    with pytest.raises(grpc.RpcError) as info:
        contracts.Call(_signed(key, start + 1, "call", target=deployed.address,
                               function="transfer", args=b"\x02" * 20 + _u64(778)))
    data = _error(info.value)["data"]
    assert data["code"] == "reverted" and _nonce(chain_stub, key) == start + 2
    failed = contracts.GetReceipt(pb.GetReceiptRequest(tx_hash=bytes.fromhex(
        data["tx_hash"][2:])))
    assert (failed.status, failed.error_code) == ("failed", "reverted")
    assert failed.error_message == "reverted: InsufficientBalance"
    assert failed.gas_used == data["gas_used"] and list(failed.events) == []
    assert deployed.status == "ok" and deployed.error_code == ""


def _trailers_size(exc: grpc.RpcError) -> int:
    """The trailers as a gRPC client's metadata limit counts them (name, value, 32 each);
    the status message percent-encoded as it travels."""
    meta = list(exc.trailing_metadata() or ())
    encoded = "".join(c if c.isascii() and c.isprintable() and c != "%" else
                      "".join(f"%{b:02X}" for b in c.encode()) for c in exc.details())
    return sum(len(k) + len(v) + 32 for k, v in meta) + len("grpc-message") + len(encoded) + 32


def test_long_errors_keep_their_status_within_a_clients_metadata_limit(node, stubs, key,
                                                                        loud_code):
    """A client takes 8 KiB of trailers by default (past it grpcio refuses the response,
    at 16 KiB always, as RESOURCE_EXHAUSTED): a panic carrying its 16 KiB of logs and a
    revert with a long non-ASCII reason still arrive as ABORTED with their ghost error."""
    contracts, chain_stub = stubs
    start = _nonce(chain_stub, key)
    address = contracts.Deploy(_signed(key, start, "deploy", code=loud_code)).address

    with pytest.raises(grpc.RpcError) as info:
        contracts.Query(pb.QueryRequest(address=address, function="loud_panic"))
    assert info.value.code() == grpc.StatusCode.ABORTED
    error = _error(info.value)
    assert (error["message"], error["data"]["code"]) == ("panic: boom", "panic")
    assert "logs" in error["data"]["omitted"] and "logs" not in error["data"]
    assert _trailers_size(info.value) <= 8192
    with Client(node.url, key) as c:  # JSON-RPC's error object still has every detail
        reply = c.call("ghost_query", address="0x" + address.hex(), function="loud_panic")
        assert len(reply["error"]["data"]["logs"]) > 1

    # A transaction that runs and fails is recorded: the status says so, with its hash.
    with pytest.raises(grpc.RpcError) as info:
        contracts.Call(_signed(key, start + 1, "call", target=address, function="loud_panic"))
    assert info.value.code() == grpc.StatusCode.ABORTED
    data = _error(info.value)["data"]
    failed = contracts.GetReceipt(pb.GetReceiptRequest(tx_hash=bytes.fromhex(
        data["tx_hash"][2:])))
    assert (failed.status, failed.error_code) == ("failed", "panic")
    assert _trailers_size(info.value) <= 8192

    for _ in range(3):  # refused at random past 8 KiB: a few tries would see it
        with pytest.raises(grpc.RpcError) as info:
            contracts.Call(_signed(key, _nonce(chain_stub, key), "call", target=address,
                                   function="clef_revert"))
        assert info.value.code() == grpc.StatusCode.ABORTED
        error = _error(info.value)
        assert error["data"]["code"] == "reverted" and error["data"]["tx_hash"]
        assert error["message"].startswith("reverted: \U0001d11e")
        assert info.value.details().startswith("reverted: \U0001d11e")
        assert len(info.value.details().encode()) <= 512
        assert _trailers_size(info.value) <= 8192
    assert _nonce(chain_stub, key) == start + 5


def test_a_reverts_line_breaks_stay_out_of_the_status_message(node, stubs, key, loud_code):
    """The status message is one line, as the error object's message is (the reason with
    its line breaks escaped); `ghost-error`'s data.reason and the receipt keep the rest."""
    contracts, chain_stub = stubs
    start = _nonce(chain_stub, key)
    address = contracts.Deploy(_signed(key, start, "deploy", code=loud_code)).address
    with pytest.raises(grpc.RpcError) as info:
        contracts.Call(_signed(key, start + 1, "call", target=address, function="lines_revert"))
    assert info.value.code() == grpc.StatusCode.ABORTED
    details, error = info.value.details(), _error(info.value)
    assert details == error["message"] == "reverted: first\\nsecond\\u2028third"
    assert error["data"]["reason"] == "first\nsecond\u2028third"
    failed = contracts.GetReceipt(pb.GetReceiptRequest(tx_hash=bytes.fromhex(
        error["data"]["tx_hash"][2:])))
    assert failed.error_message == details


def test_request_metadata_is_bounded_at_16_kib_every_time(node, stubs):
    """As the other transports bound a request's head: 16 KiB counted as HTTP/2 counts a
    header list (name, value, 32 each). Under it a call is served every time (grpcio's own
    default refuses at random past 8 KiB); past it, RESOURCE_EXHAUSTED every time."""
    _, chain_stub = stubs
    request = chain.GetAccountRequest(address=b"\x01" * 20)
    for _ in range(20):
        assert chain_stub.GetAccount(request, metadata=(("x-pad", "a" * 14_000),)).nonce == 0
    for size in (16_400, 100_000):
        with pytest.raises(grpc.RpcError) as info:
            chain_stub.GetAccount(request, metadata=(("x-pad", "a" * size),))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert chain_stub.GetAccount(request).nonce == 0


def test_one_client_holds_at_most_its_share_of_the_subscriptions(tmp_path, key, counter_code):
    """A subscription lasts as long as its client keeps it (one that never reads included):
    one address holds at most MAX_CLIENT_SUBSCRIPTIONS, so it cannot keep the node's places
    from every other client. Clients are told apart as the execution pool tells them: an
    IPv4 address, an IPv6 /64 (IPv4 and ::1 reach one dual-stack listener here)."""
    node = start_node(tmp_path / "data", "--grpc", "[::]:0")
    port = node.bound["grpc"].rsplit(":", 1)[1]
    own = [("grpc.use_local_subchannel_pool", 1)]  # a connection of each channel's own
    channels = [grpc.insecure_channel(f"127.0.0.1:{port}", options=own) for _ in range(3)]
    try:
        contracts = contracts_pb2_grpc.ContractsStub(channels[0])
        contracts.Deploy(_signed(key, 0, "deploy", code=counter_code))  # block 1

        def subscribe(ch: grpc.Channel):
            stream = chain_pb2_grpc.ChainStub(ch).SubscribeBlocks(
                chain.SubscribeBlocksRequest(from_block=1), timeout=60)
            assert next(stream).height == 1  # open: it has sent what is recorded
            return stream

        # the client's share, on one connection, never read past block 1
        held = [subscribe(channels[i // 32]) for i in range(MAX_CLIENT_SUBSCRIPTIONS)]
        with pytest.raises(grpc.RpcError) as info:
            subscribe(channels[1])
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert dict(info.value.trailing_metadata())["ghost-code"] == "busy"
        assert "this client has" in info.value.details()

        with grpc.insecure_channel(f"[::1]:{port}", options=own) as other:
            subscribe(other).cancel()  # another client still gets one

        held.pop().cancel()  # a place given back is the client's again
        deadline = time.monotonic() + 30
        while True:
            try:
                held.append(subscribe(channels[2]))
                break
            except grpc.RpcError as exc:  # the cancel reaches the node a moment later
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for stream in held:
            stream.cancel()
    finally:
        for ch in channels:
            ch.close()
        assert node.stop() == 0
