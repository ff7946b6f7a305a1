"""An unexpected failure inside a gRPC handler (a bug) is answered and logged as JSON-RPC
answers and logs one: INTERNAL with the -32603 `internal_error` error object, and an
`internal_error` log line naming the method; a refusal (a ghost error) is no log line."""

from __future__ import annotations

import asyncio
import io
import json

import grpc
import httpx
from node_helpers import running

from ghost_cli.grpc_gen.ghost.v1 import chain_pb2 as chain
from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc
from ghost_cli.node.config import Endpoint, NodeConfig
from ghost_cli.node.service import NodeService


def test_an_unexpected_failure_is_an_internal_error_logged_as_over_json_rpc(tmp_path):
    out = io.StringIO()
    config = NodeConfig(data_dir=tmp_path / "data", http=Endpoint("127.0.0.1", 0),
                        grpc=Endpoint("127.0.0.1", 0))
    service = NodeService(config, log_stream=out)

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    service.core.nonce = broken

    async def scenario():
        async with running(service) as bound:
            async with grpc.aio.insecure_channel(bound["grpc"]) as channel:
                stub = chain_pb2_grpc.ChainStub(channel)
                try:
                    await stub.GetAccount(chain.GetAccountRequest(address=b"\1" * 20))
                except grpc.aio.AioRpcError as exc:
                    failed = exc
                try:  # a refusal: NOT_FOUND, counted but not logged
                    await stub.GetBlock(chain.GetBlockRequest(height=10**6))
                except grpc.aio.AioRpcError as exc:
                    refused = exc
            async with httpx.AsyncClient() as http:
                reply = (await http.post(f"http://{bound['http']}/", json={
                    "jsonrpc": "2.0", "id": 1, "method": "ghost_getAccount",
                    "params": {"address": "0x" + "01" * 20}})).json()
                metrics = (await http.get(f"http://{bound['http']}/metrics")).text
        return failed, refused, reply, metrics

    failed, refused, reply, metrics = asyncio.run(scenario())
    assert failed.code() == grpc.StatusCode.INTERNAL
    trailing = dict(failed.trailing_metadata())
    assert trailing["ghost-code"] == "internal_error"
    # The same error object JSON-RPC answers for the same failure, nothing leaked.
    assert json.loads(trailing["ghost-error"]) == reply["error"] == {
        "code": -32603, "message": "internal error", "data": {"code": "internal_error"}}
    assert "simulated" not in failed.details()
    assert refused.code() == grpc.StatusCode.NOT_FOUND
    assert ('ghost_rpc_errors_total{code="internal_error",'
            'method="/ghost.v1.Chain/GetAccount"} 1.0') in metrics
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    internal = [(r["method"], r["error"]) for r in lines if r["event"] == "internal_error"]
    assert internal == [("/ghost.v1.Chain/GetAccount", "RuntimeError"),
                        ("ghost_getAccount", "RuntimeError")]
    assert not [r for r in lines if r["event"] == "rejected"]  # gRPC refusals: not lines
