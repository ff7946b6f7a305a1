"""Tests for the counter contract. Run with `ghost test` (or pytest); the fixtures
(`deploy`, `accounts`, `reverts`, `expect_event`, `ghost_env`) come from ghost's pytest
plugin and run against the sandbox: see docs/testing.md in the ghost repository."""


def test_increment(deploy):
    counter = deploy("counter")
    assert counter.increment() == 1
    assert counter.increment() == 2
    assert counter.get() == 2


def test_starts_at_zero(deploy):
    counter = deploy("counter")
    assert counter.get() == 0


def test_add(deploy):
    counter = deploy("counter")
    assert counter.add(40) == 40
    assert counter.increment() == 41


def test_increment_emits_the_caller(deploy, accounts, ghost_env, expect_event):
    counter = deploy("counter")
    expect_event(counter.increment.transact(), "Incremented", by=accounts[0])
    with ghost_env.as_caller(accounts[1]):
        expect_event(counter.increment.transact(), "Incremented", by=accounts[1])


def test_overflow_reverts(deploy, reverts):
    counter = deploy("counter")
    counter.add(2**64 - 1)
    with reverts("Overflow"):
        counter.add(1)
    assert counter.get() == 2**64 - 1
