"""Tests for the token contract. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox.
`deploy("token", 1000)` passes 1000 to the constructor, `init`, which runs in the deploy."""

import pytest

from ghost_cli.exceptions import NotFoundError, RevertError


def test_the_deploy_mints_the_supply_to_the_deployer(deploy, ghost_env):
    token = deploy("token", 1000)
    assert token.total_supply() == 1000
    assert token.owner() == ghost_env.sender
    assert token.balance_of(ghost_env.sender) == 1000


def test_name(deploy):
    token = deploy("token", 1000)
    assert token.name() == "{{name}}"


def test_transfer(deploy, ghost_env):
    token = deploy("token", 1000)
    alice = ghost_env.accounts[1]
    token.transfer(alice, 10)
    assert token.balance_of(alice) == 10
    assert token.balance_of(token.owner()) == 990


def test_transfer_back_as_the_recipient(deploy, ghost_env):
    token = deploy("token", 1000)
    alice = ghost_env.accounts[1]
    token.transfer(alice, 10)
    with ghost_env.as_caller(alice):
        token.transfer(token.owner(), 4)
    assert token.balance_of(alice) == 6


def test_insufficient_balance_reverts(deploy, ghost_env):
    token = deploy("token", 1000)
    alice = ghost_env.accounts[1]
    with ghost_env.as_caller(alice):
        with pytest.raises(RevertError, match="InsufficientBalance"):
            token.transfer(token.owner(), 1)
    assert token.balance_of(token.owner()) == 1000


def test_the_constructor_cannot_be_called_again(deploy, ghost_env):
    token = deploy("token", 1000)
    with ghost_env.as_caller(ghost_env.accounts[1]):
        with pytest.raises(NotFoundError, match="constructor"):
            ghost_env.sandbox.call(token._address, "init", [5],
                                   signer=ghost_env.signer)
    assert token.total_supply() == 1000 and token.owner() == ghost_env.accounts[0]


def test_balances_live_in_a_map(deploy, ghost_env):
    """Storage layout (docs/abi.md): "balances" ++ 0x00 ++ address -> the u64, ABI-encoded."""
    token = deploy("token", 1000)
    alice = ghost_env.accounts[1]
    token.transfer(alice, 10)
    assert ghost_env.load(token, b"balances\x00" + alice) == (10).to_bytes(8, "little")
    assert ghost_env.load(token, b"supply") == (1000).to_bytes(8, "little")


def test_transfer_emits_a_typed_event(deploy, ghost_env, expect_event):
    """Topic 0 is the struct's name, the indexed fields follow, the amount is the data."""
    token = deploy("token", 1000)
    alice = ghost_env.accounts[1]
    receipt = token.transfer.transact(alice, 7)
    expect_event(receipt, "Transfer", **{"from": ghost_env.sender, "to": alice, "amount": 7})
    (event,) = receipt.events
    assert event.topics[0] == b"Transfer".ljust(32, b"\0")
    assert event.topics[1][:20] == ghost_env.sender and event.topics[2][:20] == alice
    assert event.data == (7).to_bytes(8, "little")
def test_fuzz_transfer(deploy, ghost_env, fuzz, reverts):
    """Fuzzing: `transfer` with any recipient (development accounts, contracts, random
    addresses) and any amount moves exactly the amount, or refuses more than the balance."""
    token = deploy("token", 1000)
    me = ghost_env.sender

    @fuzz.given(token.transfer)
    def moves_exactly_the_amount(to, amount):
        before = token.balance_of(to)
        if amount > 1000:
            with reverts("InsufficientBalance"):
                token.transfer(to, amount)
            return
        token.transfer(to, amount)
        if to != me:
            assert token.balance_of(to) == before + amount
            assert token.balance_of(me) == 1000 - amount
        else:
            assert token.balance_of(me) == 1000


@pytest.mark.fuzz(invariant_runs=16, depth=25)  # sequences, calls each (default 32, 50)
def test_invariant_transfers_conserve_the_supply(deploy, ghost_env, invariants):
    """Invariants: random transfers between accounts, the supply checked after each."""
    token = deploy("token", 1000)

    def supply_is_conserved():
        holders = {bytes(a) for a in ghost_env.accounts[:3]}  # the senders of the calls
        holders |= {bytes(c.args[0]) for c in invariants.calls if c.function == "transfer"}
        assert sum(token.balance_of.query(h) for h in holders) == token.total_supply.query()

    invariants(token, supply_is_conserved)
