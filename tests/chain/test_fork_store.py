"""The fork store (chain/fork.py), sans-IO: its `RemoteState` is `StoreRemote` below, a
real authenticated store read at a height (what a node's ghost_getProof serves), so the
proofs checked here are real ones. The executor and contract are the sandbox's own."""

import hashlib

import pytest

from ghost_cli.chain.fork import ForkStore
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.store import open_store
from ghost_cli.exceptions import CryptoError, HeightUnavailableError, NotFoundError

COUNT = b"count"


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


class StoreRemote:
    """A node's side of a fork, read straight from its store (no sockets)."""

    location = "test node"

    def __init__(self, store):
        self.store = store
        self.tamper = None  # (address, key) whose value is sent wrong

    def state_root(self, height):
        h = self.store.height() if height is None else height
        return h, self.store.state_root_at(h)

    def contract(self, *, address=None, name=None):
        if address is None:
            address = self.store.address_of(name)
            if address is None:
                return None
        try:
            return self.store.contract(address)
        except NotFoundError:
            return None

    def code(self, code_hash):
        return self.store.code(code_hash)

    def storage(self, address, key, height):
        value = self.store.storage_get_at(address, key, height)
        if (address, key) == self.tamper:
            value = (value or b"") + b"!"
        return value, self.store.prove_at(address, key, height)

    def nonce(self, address):
        return self.store.nonce(address)

    def close(self):
        pass  # the node's store is the fixture's


@pytest.fixture
def node(tmp_path, counter_code):
    """An authenticated chain with a counter at 2, then (a later block) at 3."""
    sb = Sandbox(tmp_path / "node.db", authenticated=True, clock=lambda: 1_700_000_000)
    c = sb.deploy(counter_code, name="counter").address
    sb.call(c, "add", [2])
    sb.call(c, "increment")
    yield sb, c
    sb.close()


def fork_of(sb, height=None, **kw):
    remote = StoreRemote(sb.store)
    store = ForkStore.open(open_store(":memory:"), remote, height=height, **kw)
    return Sandbox(":memory:", store=store, chain_id=sb.chain_id,
                   clock=lambda: 1_700_000_100), remote


def test_reads_the_nodes_state_at_a_height_and_writes_stay_local(node):
    sb, c = node
    at2, _ = fork_of(sb, height=2)
    latest, _ = fork_of(sb)
    assert at2.query(c, "get").result == 2
    assert latest.query(c, "get").result == 3
    assert at2.call("counter", "increment").result == 3  # by name, from the node
    assert at2.store.storage_get(c, COUNT) == u64(3)
    assert sb.store.storage_get(c, COUNT) == u64(3) and sb.store.height() == 3  # untouched
    assert at2.store.height() == 3  # local blocks follow the fork's height
    with at2.snapshot():
        at2.call(c, "add", [10])
        assert at2.query(c, "get").result == 13
    assert at2.query(c, "get").result == 3


def test_a_local_deletion_hides_the_nodes_value(node):
    sb, c = node
    fork, _ = fork_of(sb)
    with fork.store.transaction():
        fork.store.storage_apply(c, {COUNT: None})
    assert fork.store.storage_get(c, COUNT) is None
    assert fork.query(c, "get").result == 0


def test_values_are_fetched_once_and_verified(node):
    sb, c = node
    fork, remote = fork_of(sb)
    for _ in range(3):
        assert fork.query(c, "get").result == 3
    assert fork.store.fetches["storage"] == 1 and fork.store.fetches["code"] == 1
    remote.tamper = (c, b"other")
    with pytest.raises(CryptoError, match="does not verify against the state root"):
        fork.store.storage_get(c, b"other")


def test_a_tampered_value_fails_the_call_that_reads_it(node):
    sb, c = node
    fork, remote = fork_of(sb)
    remote.tamper = (c, COUNT)
    with pytest.raises(CryptoError, match="refused"):
        fork.query(c, "get")


def test_code_must_match_its_hash(node, counter_code):
    sb, c = node
    fork, remote = fork_of(sb)
    remote.code = lambda h: counter_code + b"\x00"
    with pytest.raises(CryptoError, match="hash"):
        fork.query(c, "get")
    assert hashlib.sha256(counter_code).digest() == sb.store.contract(c).code_hash


def test_a_contract_deployed_after_the_height_is_not_there(node):
    sb, c = node
    fork, remote = fork_of(sb, height=0)
    with pytest.raises(NotFoundError):
        fork.query(c, "get")
    # by name: the node was asked too, so the error says where, not "on the sandbox"
    with pytest.raises(NotFoundError) as caught:
        fork.resolve("counter")
    assert str(caught.value) == (f"no contract named 'counter' here or on {remote.location} "
                                 f"at height 0 (none deployed here yet)")


def test_heights_the_node_cannot_show_are_refused(node):
    sb, _ = node
    with pytest.raises(HeightUnavailableError, match="past the latest"):
        fork_of(sb, height=99)
    with pytest.raises(CryptoError, match="not the trusted"):
        fork_of(sb, trusted_root=bytes(32))


def test_nonces_count_up_from_the_nodes(node):
    sb, c = node
    fork, _ = fork_of(sb)
    sender = fork.default_sender
    assert fork.store.nonce(sender) == sb.store.nonce(sender) == 3
    fork.call(c, "increment")
    assert fork.store.nonce(sender) == 4 and sb.store.nonce(sender) == 3
