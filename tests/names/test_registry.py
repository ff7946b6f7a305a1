"""The names registry through signed transactions on a NodeCore: the contract's rules
(ownership is the transaction's sender), its events, and what the node resolves."""

from __future__ import annotations

import hashlib

import pytest

from ghost_cli.abi import encode_value
from ghost_cli.chain.transaction import Transaction, sign_single
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import ArgumentError, RevertError
from ghost_cli.names import REGISTRY_ADDRESS, label_of, registry_code
from ghost_cli.node.core import NodeCore

NOW = 1_700_000_000


@pytest.fixture(scope="module")
def keys():
    return (KeyPair.generate("ed25519", b"\x01" * 32), KeyPair.generate("ed25519", b"\x02" * 32))


@pytest.fixture
def core(tmp_path):
    c = NodeCore.open(tmp_path, chain_id=1337)
    yield c
    c.close()


def call(core, key, function, name, addr):
    nonce = core.nonce(key.address)
    args = encode_value("string", name) + encode_value("address", addr)
    tx = Transaction(chain_id=1337, sender=key.address, nonce=nonce, gas_limit=10**7,
                     expiry=2_000_000_000, kind="call", target=REGISTRY_ADDRESS,
                     function=function, args=args)
    return core.send_transaction(sign_single(tx, key.secret_key, key.public_key), now=NOW)


def test_installed_at_genesis(core):
    view = core.contract(address=REGISTRY_ADDRESS)
    assert view.code_hash == hashlib.sha256(registry_code()).digest()
    assert view.height == 0 and core.height() == 0
    assert {f["name"] for f in view.abi["functions"]} >= {
        "register", "update", "transfer", "resolve", "owner_of", "entry"}


def test_register_update_transfer_by_owner_only(core, keys):
    alice, bob = keys
    a, b = b"\xaa" * 20, b"\xbb" * 20
    call(core, alice, "register", "counter", a)
    assert core.resolve_name("counter", now=NOW).target == a
    assert core.resolve_name("counter", now=NOW).owner == alice.address
    assert core.resolve_name("counter", now=NOW).code_hash is None  # no contract at 0xaa..

    with pytest.raises(RevertError, match="Taken"):
        call(core, bob, "register", "counter", b)
    with pytest.raises(RevertError, match="NotOwner"):
        call(core, bob, "update", "counter", b)
    with pytest.raises(RevertError, match="NotOwner"):
        call(core, bob, "transfer", "counter", bob.address)
    with pytest.raises(RevertError, match="NotRegistered"):
        call(core, alice, "update", "other", b)
    assert core.resolve_name("counter", now=NOW).target == a  # refusals changed nothing

    call(core, alice, "update", "counter", b)
    call(core, alice, "transfer", "counter", bob.address)
    with pytest.raises(RevertError, match="NotOwner"):
        call(core, alice, "update", "counter", a)  # alice gave it away
    call(core, bob, "update", "counter", REGISTRY_ADDRESS)
    record = core.resolve_name("counter", now=NOW)
    assert (record.owner, record.target) == (bob.address, REGISTRY_ADDRESS)
    assert record.code_hash == hashlib.sha256(registry_code()).digest()

    history = core.events(address=REGISTRY_ADDRESS)
    kinds = [e.event.topics[0].rstrip(b"\0").decode() for e in history]
    assert kinds == ["Registered", "Updated", "Transferred", "Updated"]
    last = history[-1].event.data
    assert last == (7).to_bytes(4, "little") + b"counter" + bob.address + REGISTRY_ADDRESS


@pytest.mark.parametrize("bad", ["", "Counter", "-x", "x-", "a.b", "a_b", "x" * 64, "é",
                                 "counter\n"])
def test_the_contract_refuses_invalid_names(core, keys, bad):
    with pytest.raises(RevertError, match="InvalidName"):
        call(core, keys[0], "register", bad, b"\x01" * 20)
    with pytest.raises(ArgumentError):
        label_of(bad + ".ghost")


def test_label_of():
    assert label_of("counter.ghost") == label_of("counter.ghost.") == "counter"
    assert label_of("a-1") == "a-1" and label_of("x" * 63) == "x" * 63


def test_a_63_byte_name_registers(core, keys):
    name = "y" * 63
    call(core, keys[0], "register", name, b"\x05" * 20)
    assert core.resolve_name(name, now=NOW).target == b"\x05" * 20
