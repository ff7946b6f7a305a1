"""The QUIC listener's handshake budgets, without sockets: times are given."""

from __future__ import annotations

import pytest

from ghost_cli.node.handshakes import Admission, HandshakeGate, HandshakeLimits, address_key

START, RETRY, DROP = Admission.START, Admission.RETRY, Admission.DROP


def gate(**limits) -> HandshakeGate:
    base = dict(per_address_rate=2.0, per_address_burst=3, total_rate=100.0, total_burst=100)
    return HandshakeGate(HandshakeLimits(**{**base, **limits}), now=0.0)


def test_an_address_past_its_burst_gets_a_retry_until_its_budget_refills():
    g = gate()
    assert [g.admit("10.0.0.1", proven=False, now=0.0) for _ in range(5)] == \
        [START, START, START, RETRY, RETRY]
    assert g.admit("10.0.0.1", proven=False, now=0.4) is RETRY  # 0.8 of a handshake back
    assert g.admit("10.0.0.1", proven=False, now=0.5) is START  # one whole
    assert g.admit("10.0.0.1", proven=False, now=0.5) is RETRY


def test_another_address_has_its_own_budget():
    g = gate()
    for _ in range(4):
        g.admit("10.0.0.1", proven=False, now=0.0)
    assert g.admit("10.0.0.2", proven=False, now=0.0) is START


def test_a_proven_address_has_a_second_budget_and_past_it_is_dropped():
    g = gate()
    for _ in range(3):
        assert g.admit("10.0.0.1", proven=False, now=0.0) is START
    assert [g.admit("10.0.0.1", proven=True, now=0.0) for _ in range(4)] == \
        [START, START, START, DROP]
    assert g.admit("10.0.0.1", proven=True, now=0.5) is START


def test_past_the_whole_listener_budget_every_unproven_initial_gets_a_retry():
    g = gate(total_rate=1.0, total_burst=2)
    assert g.admit("10.0.0.1", proven=False, now=0.0) is START
    assert g.admit("10.0.0.2", proven=False, now=0.0) is START
    assert g.admit("10.0.0.3", proven=False, now=0.0) is RETRY
    # A flood of new (say spoofed) addresses adds none while the budget is spent...
    for i in range(1000):
        assert g.admit(f"10.1.{i // 250}.{i % 250}", proven=False, now=0.1) is RETRY
    assert len(g) == 2
    # ...and a proven address does not need it.
    assert g.admit("10.0.0.3", proven=True, now=0.1) is START
    assert g.admit("10.0.0.3", proven=False, now=1.0) is START  # refilled: one a second


def test_an_address_over_its_own_budget_does_not_spend_the_listeners():
    g = gate(total_burst=4, total_rate=0.0)
    for _ in range(10):
        g.admit("10.0.0.1", proven=False, now=0.0)
    assert g.admit("10.0.0.2", proven=False, now=0.0) is START


def test_an_address_whose_budget_is_full_again_is_forgotten():
    g = gate()
    g.admit("10.0.0.1", proven=False, now=0.0)
    g.admit("10.0.0.2", proven=True, now=0.0)
    assert len(g) == 2
    g.admit("10.0.0.3", proven=False, now=10.0)  # both full again after 1.5 s
    assert len(g) == 1


def test_past_the_address_backstop_a_new_address_is_over_budget():
    g = gate(max_addresses=2, per_address_rate=0.0)
    assert g.admit("10.0.0.1", proven=False, now=0.0) is START
    assert g.admit("10.0.0.2", proven=True, now=0.0) is START
    assert g.admit("10.0.0.3", proven=False, now=5.0) is RETRY
    assert g.admit("10.0.0.3", proven=True, now=5.0) is DROP
    assert g.admit("10.0.0.1", proven=False, now=5.0) is START  # known ones go on


@pytest.mark.parametrize("host, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9%eth0", "2001:db8:1:2::/64"),
    ("not an address", "not an address"),
])
def test_ipv6_addresses_share_their_64(host, key):
    assert address_key(host) == key


def test_one_ipv6_64_is_one_budget():
    g = gate()
    for i in range(3):
        assert g.admit(f"2001:db8::{i + 1}", proven=False, now=0.0) is START
    assert g.admit("2001:db8::ffff", proven=False, now=0.0) is RETRY
    assert g.admit("2001:db8:0:1::1", proven=False, now=0.0) is START
