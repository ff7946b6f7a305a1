"""A node serving a fork (`ghost node start --fork`), without sockets: the fork's
RpcForkReader speaks JSON-RPC to another node's dispatcher through an in-process
transport, and the fork node answers through its own dispatcher."""

from __future__ import annotations

import time

import pytest
from rpc_helpers import CHAIN_ID, Rpc

from ghost_cli.chain.store import open_store
from ghost_cli.client.fork_reader import RpcForkReader
from ghost_cli.client.rpc_client import SyncGhostClient
from ghost_cli.client.transport import TransportStats
from ghost_cli.node.core import NodeCore
from ghost_cli.rpc import Dispatcher, Limits
from ghost_cli.vm.engines import default_engines
from ghost_cli.vm.types import Limits as VmLimits


class DispatcherTransport:
    """JSON-RPC bodies handed straight to a dispatcher (a Transport, client/transport.py)."""

    url = "inproc://node"

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher, self.requests = dispatcher, 0

    async def post(self, body: bytes, *, idempotent: bool) -> bytes:
        self.requests += 1
        return self.dispatcher.handle(body, peer="fork", now=time.time())

    async def aclose(self) -> None:
        pass

    def stats(self) -> TransportStats:
        return TransportStats(None, self.requests, 1, 0)


def _u64(n: int) -> str:
    return "0x" + n.to_bytes(8, "little").hex()


@pytest.fixture
def forked(rpc, dispatcher, counter_code, tmp_path):
    """The node `rpc` with a counter at 1, and a node serving a fork of it."""
    counter = rpc.deploy(counter_code)["address"]
    rpc.send_call(counter, "increment")
    from ghost_cli.chain.fork import ForkStore

    reader = RpcForkReader(SyncGhostClient("inproc://node",
                                           transport=DispatcherTransport(dispatcher)))
    store = ForkStore.open(open_store(":memory:"), reader, chain_id=CHAIN_ID)
    core = NodeCore(store, default_engines(VmLimits(), tmp_path / "modules"),
                    chain_id=CHAIN_ID, policy=None)
    yield counter, Rpc(Dispatcher(core, limits=Limits()), rpc.key)
    core.close()


def test_a_fork_node_reads_the_node_and_keeps_its_transactions(rpc, forked):
    counter, fork = forked
    assert fork.result("ghost_getContract", name="counter")["address"] == counter
    assert fork.result("ghost_query", address=counter, function="get")["return_data"] == (
        _u64(1))
    receipt = fork.result("ghost_sendTransaction", tx=fork.tx(
        "call", target=bytes.fromhex(counter[2:]), function="increment"))
    assert receipt["block_height"] == 3 and receipt["status"] == "ok"
    assert fork.result("ghost_query", address=counter, function="get")["return_data"] == (
        _u64(2))
    assert rpc.result("ghost_query", address=counter, function="get")["return_data"] == (
        _u64(1))  # the forked node never saw it
    assert rpc.result("ghost_nodeInfo")["height"] == 2
    assert fork.error("ghost_getStateRoot")["data"]["code"] == "state"
    assert fork.result("ghost_nodeInfo")["height"] == 3
