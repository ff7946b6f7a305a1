"""A replayed transaction costs the node no second signature check: refused by its used
nonce, or (refused unrun, nonce unused) remembered as verified. NodeCore without sockets."""

from __future__ import annotations

import pytest

from ghost_cli.chain.transaction import (
    SignedTransaction,
    SingleAuth,
    Transaction,
    sign_single,
)
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import BadSignatureError, NonceError, NotFoundError
from ghost_cli.node import core as core_module
from ghost_cli.node.admission import Admission
from ghost_cli.node.core import NodeCore

CHAIN_ID = 1337
NOW = 1_700_000_000


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x05" * 32)


@pytest.fixture
def node(tmp_path):
    c = NodeCore.open(tmp_path / "node", chain_id=CHAIN_ID)
    yield c
    c.close()


@pytest.fixture
def verifies(monkeypatch) -> list[bytes]:
    """The hashes of the transactions whose signatures the node checked, in order."""
    seen: list[bytes] = []
    real = core_module.verify_authorization

    def counting(signed, *args, **kwargs):
        seen.append(signed.tx.hash)
        return real(signed, *args, **kwargs)

    monkeypatch.setattr(core_module, "verify_authorization", counting)
    return seen


def _tx(key: KeyPair, nonce: int, **fields) -> SignedTransaction:
    if fields.setdefault("kind", "call") == "call":
        fields.setdefault("target", b"\x42" * 20)
        fields.setdefault("function", "get")
    tx = Transaction(chain_id=CHAIN_ID, sender=key.address, nonce=nonce, gas_limit=10**7,
                     expiry=NOW + 600, **fields)
    return sign_single(tx, key.secret_key, key.public_key)


def test_a_replay_of_a_recorded_transaction_is_refused_before_its_signature(
        node, key, counter_code, verifies):
    deploy = _tx(key, 0, kind="deploy", code=counter_code, label="counter")
    node.send_transaction(deploy, now=NOW)
    assert verifies == [deploy.hash]
    for _ in range(3):
        with pytest.raises(NonceError, match="nonce 0 of .* was already used \\(next is 1\\)"):
            node.send_transaction(deploy, now=NOW)
    assert verifies == [deploy.hash]  # never checked again


def test_a_transaction_refused_unrun_is_not_verified_twice(node, key, verifies):
    missing = _tx(key, 0)  # to an address with no contract: not_found, nonce unused
    for _ in range(3):
        with pytest.raises(NotFoundError):
            node.send_transaction(missing, now=NOW)
    assert verifies == [missing.hash]
    assert node.nonce(key.address) == 0


def test_a_bad_signature_is_checked_every_time_and_never_remembered(node, key, verifies):
    good = _tx(key, 0)
    forged = SignedTransaction(good.tx, SingleAuth(good.auth.public_key,
                                                   good.auth.signature[:-1] + b"\x00"))
    for _ in range(2):
        with pytest.raises(BadSignatureError):
            node.send_transaction(forged, now=NOW)
    assert verifies == [good.hash, good.hash]
    with pytest.raises(NotFoundError):  # the real signature is checked on its own
        node.send_transaction(good, now=NOW)
    assert len(verifies) == 3


def test_the_memories_are_bounded_and_the_nonce_bound_only_rises(key):
    a = Admission(max_entries=2)
    txs = [_tx(key, n) for n in range(3)]
    for t in txs:
        a.valid(t)
    assert [a.seen_valid(t) for t in txs] == [False, True, True]
    a.committed(key.address, 5)
    a.committed(key.address, 2)  # learnt late: the bound stays
    assert a.used(_tx(key, 5)) and not a.used(_tx(key, 6))
    for i in range(3):
        a.committed(bytes([i]) * 20, 0)
    assert not a.used(_tx(key, 0))  # the oldest sender was forgotten: only a later refusal
