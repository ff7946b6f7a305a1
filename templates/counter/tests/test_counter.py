"""Tests for the counter contract. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox."""

import pytest

from ghost_cli.exceptions import RevertError


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


def test_overflow_reverts(deploy):
    counter = deploy("counter")
    counter.add(2**64 - 1)
    with pytest.raises(RevertError, match="Overflow"):
        counter.add(1)
    assert counter.get() == 2**64 - 1
