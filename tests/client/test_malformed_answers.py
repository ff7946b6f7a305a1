"""A node (or whatever answers at its URL) that replies with something we cannot read:
every such answer is an AnswerLostError (exit 14; a transaction may have been applied),
never a traceback. The transport is a test double answering canned bodies: the client and
RemoteNetwork above it are the real ones."""

from __future__ import annotations

import json

import pytest

from ghost_cli.client.fork_reader import RpcForkReader
from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.client.rpc_client import SyncGhostClient
from ghost_cli.config.project import NetworkConfig
from ghost_cli.exceptions import AnswerLostError, CryptoError

URL = "http://127.0.0.1:1"


class Canned:
    """Answers every request with `reply(request)` (bytes, or an object sent as JSON)."""

    url = URL

    def __init__(self, reply) -> None:
        self.reply = reply

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        out = self.reply(json.loads(body))
        return out if isinstance(out, bytes) else json.dumps(out).encode()

    async def aclose(self) -> None:
        pass

    def stats(self):
        return None


def _network(reply) -> RemoteNetwork:
    config = NetworkConfig("n", "node", 1337, url=URL)
    return RemoteNetwork(config, client=SyncGhostClient(URL, transport=Canned(reply)))


def _result(value):
    return lambda req: {"jsonrpc": "2.0", "id": req["id"], "result": value}


def _error(value):
    return lambda req: {"jsonrpc": "2.0", "id": req["id"], "error": value}


@pytest.mark.parametrize("reply", [
    _result("a string, not a contract"),
    _result({"address": 7, "abi": {}}),
    _result({"address": "0xzz", "abi": {}}),
    _error({"code": [1], "message": "a list as the code"}),
    _error({"code": -32000, "message": "x", "data": {"code": {"a": 1}}}),
    _error({"code": -32021, "message": "x", "data": {"reason": 5}}),
    _error("a string"),
    _error({"code": -32021, "message": "x", "data": {"gas_used": "lots"}}),
    lambda req: {"jsonrpc": "2.0", "id": req["id"] + 1, "result": {}},
    lambda req: b"<html>not JSON</html>",
    lambda req: b"[" * 100_000,
])
def test_an_answer_that_cannot_be_read_is_an_answer_lost(reply):
    with _network(reply) as net, pytest.raises(AnswerLostError):
        net.resolve("0x" + "11" * 20)


def test_a_malformed_receipt_is_an_answer_lost_not_a_traceback():
    with _network(_result({"address": "0x" + "11" * 20, "gas_used": 1})) as net, \
            pytest.raises(AnswerLostError, match="receipt_from_json"):
        net.receipt(b"\x22" * 32)


def test_a_forks_malformed_proof_is_a_crypto_error():
    reader = RpcForkReader(SyncGhostClient(URL, transport=Canned(_result(
        {"value": 5, "proof": {}, "state_root": "0x" + "00" * 32}))))
    with pytest.raises(CryptoError, match="answered storage with a malformed result"):
        reader.storage(b"\x11" * 20, b"k", 1)
    reader.close()


@pytest.mark.parametrize("result", [
    [1, 2], "a string", None, {"code": 5}, {"code": "0xzz"}, {"events": 5}, {"events": {}},
])
@pytest.mark.parametrize("method", ["get_events", "get_code", "resolve_name"])
def test_client_methods_that_read_a_result_call_one_of_the_wrong_shape_an_answer_lost(
        method, result):
    """GhostClient's methods that read fields of a result (get_events, get_code, and
    resolve_name over http://) raise AnswerLostError for one of the wrong shape, as docs/
    client.md promises, never a TypeError or KeyError; NodePool then moves on."""
    calls = {"get_events": lambda c: c.get_events(),
             "get_code": lambda c: c.get_code(b"\0" * 32),
             "resolve_name": lambda c: c.resolve_name("counter.ghost")}
    with SyncGhostClient(URL, transport=Canned(_result(result))) as client, \
            pytest.raises(AnswerLostError, match="malformed"):
        calls[method](client)


def test_a_name_whose_contract_answer_is_malformed_is_an_answer_lost():
    """resolve_name over http:// reads the target's code_hash from ghost_getContract."""
    entry = "0x28000000" + "01" * 20 + "02" * 20

    def reply(req):
        if req["method"] == "ghost_query":
            return _result({"return_data": entry})(req)
        return _result({"code_hash": 7})(req)

    with SyncGhostClient(URL, transport=Canned(reply)) as client, \
            pytest.raises(AnswerLostError, match="get_contract with a malformed result"):
        client.resolve_name("counter.ghost")


@pytest.mark.parametrize("result", [[1, 2], "a string", None, 5, True])
@pytest.mark.parametrize("method", [
    "send_transaction", "query", "get_receipt", "get_contract", "get_account",
    "get_checkpoint", "get_proof", "get_state_root", "node_info", "health",
])
def test_client_methods_returning_the_nodes_object_refuse_anything_else(method, result):
    """Every method of docs/rpc.md answers a JSON object: GhostClient's methods that hand
    it on unread refuse anything else as an AnswerLostError naming the method (a result
    of the wrong shape, docs/client.md), rather than return a list or a string typed as
    a dict for the caller to trip over."""
    calls = {
        "send_transaction": lambda c: c.send_transaction({}),
        "query": lambda c: c.query(b"\x11" * 20, "get"),
        "get_receipt": lambda c: c.get_receipt(b"\x22" * 32),
        "get_contract": lambda c: c.get_contract(address=b"\x11" * 20),
        "get_account": lambda c: c.get_account(b"\x11" * 20),
        "get_checkpoint": lambda c: c.get_checkpoint(),
        "get_proof": lambda c: c.get_proof(b"\x11" * 20, b"k"),
        "get_state_root": lambda c: c.get_state_root(),
        "node_info": lambda c: c.node_info(),
        "health": lambda c: c.health(),
    }
    with SyncGhostClient(URL, transport=Canned(_result(result))) as client, \
            pytest.raises(AnswerLostError, match=f"answered {method} with a malformed result"):
        calls[method](client)
    with SyncGhostClient(URL, transport=Canned(_result({"a": 1}))) as client:
        assert calls[method](client) == {"a": 1}
