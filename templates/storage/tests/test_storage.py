"""Tests for the storage contract. Run with `ghost test` (or pytest); the `deploy`,
`ghost_env` and `accounts` fixtures come from ghost's pytest plugin (the sandbox)."""

import pytest

from ghost_cli.crypto.hashing import keccak256
from ghost_cli.exceptions import RevertError


def test_set_then_get(deploy):
    storage = deploy("storage")
    storage.set("greeting", b"hello")
    assert storage.get("greeting") == b"hello"
    assert storage.exists("greeting") is True
    assert storage.exists("other") is False


def test_first_setter_owns_the_key(deploy, ghost_env, accounts):
    storage = deploy("storage")
    storage.set("k", b"v1")
    assert storage.owner_of("k") == ghost_env.sender
    storage.set("k", b"v2")  # the owner may overwrite
    assert storage.get("k") == b"v2"
    with ghost_env.as_caller(accounts[1]):
        with pytest.raises(RevertError) as info:
            storage.set("k", b"mine")
    assert info.value.reason == "NotOwner"
    assert storage.get("k") == b"v2"  # the revert changed nothing


def test_an_empty_value_is_a_value(deploy):
    storage = deploy("storage")
    storage.set("empty", b"")
    assert storage.get("empty") == b""
    assert storage.exists("empty") is True


def test_set_emits_set_with_the_owner(deploy, ghost_env, expect_event):
    storage = deploy("storage")
    receipt = storage.set.transact("k", b"v")
    (event,) = receipt.events
    assert event.name == "Set"
    assert event.topics[1][:20] == ghost_env.sender
    assert event.topics[2] == keccak256(b"k")
    assert event.data == b"\x01\x00\x00\x00k"  # the key as an ABI string: u32 length, bytes
    expect_event(receipt, "Set", owner=ghost_env.sender, key_hash=keccak256(b"k"), key="k")


def test_get_and_owner_of_unset_keys(deploy):
    storage = deploy("storage")
    with pytest.raises(RevertError, match="NotFound") as info:
        storage.get("nope")
    assert info.value.reason == "NotFound"
    with pytest.raises(RevertError, match="NotFound"):
        storage.owner_of("nope")


def test_transfer(deploy, ghost_env, accounts, expect_event):
    storage = deploy("storage")
    storage.set("k", b"v")
    receipt = storage.transfer.transact("k", accounts[1])
    (event,) = receipt.events
    assert event.name == "Transferred"
    assert event.topics[1][:20] == ghost_env.sender and event.topics[2][:20] == accounts[1]
    assert event.topics[3] == keccak256(b"k")
    expect_event(receipt, "Transferred", **{"from": ghost_env.sender, "to": accounts[1],
                                            "key_hash": keccak256(b"k"), "key": "k"})
    assert storage.owner_of("k") == accounts[1]
    with pytest.raises(RevertError, match="NotOwner"):  # the old owner no longer may
        storage.set("k", b"x")
    with ghost_env.as_caller(accounts[1]):
        storage.set("k", b"new")
    assert storage.get("k") == b"new"


def test_transfer_errors(deploy, ghost_env, accounts):
    storage = deploy("storage")
    with pytest.raises(RevertError, match="NotFound"):
        storage.transfer("k", accounts[1])
    storage.set("k", b"v")
    with ghost_env.as_caller(accounts[1]):
        with pytest.raises(RevertError, match="NotOwner"):
            storage.transfer("k", accounts[1])
    with pytest.raises(RevertError, match="ZeroAddress"):
        storage.transfer("k", bytes(20))
    assert storage.owner_of("k") == ghost_env.sender


def test_remove(deploy, ghost_env, accounts, expect_event):
    storage = deploy("storage")
    storage.set("k", b"v")
    receipt = storage.remove.transact("k")
    (event,) = receipt.events
    assert event.name == "Removed" and event.topics[2] == keccak256(b"k")
    expect_event(receipt, "Removed", owner=ghost_env.sender, key_hash=keccak256(b"k"), key="k")
    assert storage.exists("k") is False
    with pytest.raises(RevertError, match="NotFound"):
        storage.get("k")
    with ghost_env.as_caller(accounts[1]):  # a removed key is free for anyone
        storage.set("k", b"theirs")
    assert storage.owner_of("k") == accounts[1]


def test_remove_errors(deploy, ghost_env, accounts):
    storage = deploy("storage")
    with pytest.raises(RevertError, match="NotFound"):
        storage.remove("k")
    storage.set("k", b"v")
    with ghost_env.as_caller(accounts[1]):
        with pytest.raises(RevertError, match="NotOwner"):
            storage.remove("k")
    assert storage.get("k") == b"v"


def test_key_length_limits(deploy):
    storage = deploy("storage")
    with pytest.raises(RevertError, match="EmptyKey"):
        storage.set("", b"v")
    with pytest.raises(RevertError, match="KeyTooLong"):
        storage.set("k" * 257, b"v")
    storage.set("k" * 256, b"v")
    assert storage.get("k" * 256) == b"v"
