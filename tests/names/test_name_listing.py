"""`ghost name list`'s replay of the registry's events, page by page, over the JSON-RPC
dispatcher of a real NodeCore."""

from __future__ import annotations

import pytest
from rpc_helpers import CHAIN_ID, Rpc

from ghost_cli.abi import encode_value
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.names import REGISTRY_ADDRESS
from ghost_cli.names.listing import registered_names
from ghost_cli.node.core import NodeCore
from ghost_cli.rpc import Dispatcher


@pytest.fixture
def rpc(tmp_path):
    core = NodeCore.open(tmp_path / "node", chain_id=CHAIN_ID)
    yield Rpc(Dispatcher(core), KeyPair.generate("ed25519", b"\x07" * 32))
    core.close()


def _change(rpc: Rpc, function: str, label: str, to: bytes) -> None:
    args = encode_value("string", label) + encode_value("address", to)
    rpc.result("ghost_sendTransaction", tx=rpc.tx(
        "call", target=REGISTRY_ADDRESS, function=function, args=args))


def _reader(rpc: Rpc):
    def read(address: bytes, since: int, limit: int) -> list[dict]:
        return rpc.result("ghost_getEvents", address="0x" + address.hex(),
                          from_block=since, limit=limit)["events"]
    return read


@pytest.mark.parametrize("page", [1, 2, 3, 1000])
def test_every_name_is_listed_however_many_pages_its_events_take(rpc, page):
    for i in range(7):
        _change(rpc, "register", f"n{i}", bytes([i]) * 20)
    _change(rpc, "update", "n2", b"\xee" * 20)
    _change(rpc, "transfer", "n5", b"\xbb" * 20)

    listed = registered_names(_reader(rpc), page=page)

    assert [r.name for r, _ in listed] == [f"n{i}" for i in range(7)]
    by_name = {r.name: (r, height) for r, height in listed}
    assert by_name["n2"][0].target == b"\xee" * 20 and by_name["n2"][1] == 8
    assert by_name["n5"][0].owner == b"\xbb" * 20 and by_name["n5"][1] == 9
    assert by_name["n0"][0].target == bytes(20) and by_name["n0"][1] == 1
    assert all(r.owner == rpc.key.address for r, _ in listed if r.name != "n5")
