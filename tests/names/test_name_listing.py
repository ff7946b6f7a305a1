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


def _tampered(rpc: Rpc, change):
    """The node's real events, each passed through `change` (a hostile or broken node)."""
    read = _reader(rpc)
    return lambda address, since, limit: [change(dict(e)) for e in read(address, since, limit)]


@pytest.mark.parametrize("change", [
    lambda e: {**e, "data": "0xzz"},
    lambda e: {**e, "data": "0x01"},  # too short to be an entry
    lambda e: {**e, "data": e["data"] + "00"},  # a byte past the entry
    lambda e: {**e, "data": "0x02000000ffff" + "00" * 40},  # a name that is not UTF-8
    lambda e: {**e, "data": "0x03000000" + b"\x1b[2".hex() + "00" * 40},  # nor a label
    lambda e: {**e, "data": "0x08000000" + b"n0.ghost".hex() + "00" * 40},  # a whole name
    lambda e: {**e, "data": "0x03000000" + b"n0\n".hex() + "00" * 40},
    lambda e: {k: v for k, v in e.items() if k != "tx_hash"},
    lambda e: {**e, "block_height": "1"},
    lambda e: {**e, "tx_hash": ["not", "hashable"]},
])
def test_malformed_events_are_the_nodes_fault_not_a_crash(rpc, change):
    from ghost_cli.exceptions import NodeUnavailableError

    _change(rpc, "register", "n0", b"\x01" * 20)
    with pytest.raises(NodeUnavailableError, match="events of the names registry are malformed"):
        registered_names(_tampered(rpc, change))


def test_a_node_that_ignores_from_block_cannot_keep_the_listing_going(rpc):
    """Every page must move on: a full page of blocks already passed is refused, not
    asked for again forever."""
    from ghost_cli.exceptions import NodeUnavailableError

    for i in range(3):
        _change(rpc, "register", f"n{i}", bytes([i]) * 20)
    read, calls = _reader(rpc), []

    def stuck(address, since, limit):
        calls.append(since)
        assert len(calls) < 10, f"still asking: {calls}"
        return read(address, 0, limit)  # the same page, whatever was asked

    with pytest.raises(NodeUnavailableError, match="not at or after"):
        registered_names(stuck, page=2)
