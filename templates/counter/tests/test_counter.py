"""Tests for the counter contract. Run with `ghost test` (or pytest); the fixtures
(`deploy`, `accounts`, `reverts`, `expect_event`, `ghost_env`) come from ghost's pytest
plugin and run against the sandbox: see docs/testing.md in the ghost repository."""

import pytest


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


@pytest.mark.fuzz(runs=100)  # examples: it wins over `--fuzz-runs N` (default 256)
def test_fuzz_add(deploy, fuzz, reverts):
    """Fuzzing: `add` runs with arguments drawn from its ABI type (u64), each example from
    the state built here; a failure prints the shrunk input as `ghost call` lines."""
    counter = deploy("counter")
    counter.add(1000)

    @fuzz.given(counter.add)
    def adds_exactly_n_or_refuses_the_overflow(n):
        if n <= 2**64 - 1 - 1000:
            assert counter.add(n) == 1000 + n
        else:
            with reverts("Overflow"):
                counter.add(n)


@pytest.mark.fuzz(invariant_runs=10, depth=20)  # sequences, calls each (default 32, 50)
def test_invariant_the_count_is_what_the_last_call_returned(deploy, invariants):
    """Invariants: random sequences of increment/add/get from several accounts, the check
    run after every call; `invariants.calls` is the running sequence so far."""
    counter = deploy("counter")

    def count_is_the_last_result():
        done = [c for c in invariants.calls
                if c.function in ("increment", "add") and c.reverted is None]
        assert counter.get.query() == (done[-1].result if done else 0)

    invariants(counter, count_is_the_last_result)
