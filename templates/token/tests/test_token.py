"""Tests for the token contract. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox."""

import pytest

from ghost_cli.exceptions import RevertError


def test_init_mints_the_supply_to_the_caller(deploy):
    token = deploy("token")
    token.init(1000)
    assert token.total_supply() == 1000
    assert token.balance_of(token.owner()) == 1000


def test_name(deploy):
    token = deploy("token")
    assert token.name() == "{{name}}"


def test_transfer(deploy, ghost_env):
    token = deploy("token")
    token.init(1000)
    alice = ghost_env.accounts[1]
    token.transfer(alice, 10)
    assert token.balance_of(alice) == 10
    assert token.balance_of(token.owner()) == 990


def test_transfer_back_as_the_recipient(deploy, ghost_env):
    token = deploy("token")
    token.init(1000)
    alice = ghost_env.accounts[1]
    token.transfer(alice, 10)
    with ghost_env.as_caller(alice):
        token.transfer(token.owner(), 4)
    assert token.balance_of(alice) == 6


def test_insufficient_balance_reverts(deploy, ghost_env):
    token = deploy("token")
    token.init(1000)
    alice = ghost_env.accounts[1]
    with ghost_env.as_caller(alice):
        with pytest.raises(RevertError, match="InsufficientBalance"):
            token.transfer(token.owner(), 1)
    assert token.balance_of(token.owner()) == 1000


def test_init_only_once(deploy):
    token = deploy("token")
    token.init(1000)
    with pytest.raises(RevertError, match="AlreadyInitialized"):
        token.init(5)
    assert token.total_supply() == 1000
