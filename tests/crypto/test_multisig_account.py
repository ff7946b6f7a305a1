"""Multi-sig account descriptors: canonical order, validation, bytes and JSON forms."""

import pytest

from ghost_cli.crypto.address import format_address
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.multisig import MAX_MEMBERS, MultisigAccount
from ghost_cli.exceptions import CryptoError

# Encoded public keys of different schemes and sizes (id ‖ raw): the descriptor does not care.
A = bytes([16]) + b"\xaa" * 32
B = bytes([1]) + b"\x0b" * 1312
C = bytes([16]) + b"\x0c" * 32


def test_address_does_not_depend_on_member_order():
    accounts = [MultisigAccount(2, order) for order in ((A, B, C), (C, B, A), (B, A, C))]
    assert accounts[0] == accounts[1] == accounts[2]
    assert len({a.address for a in accounts}) == 1
    assert accounts[0].members == tuple(sorted((A, B, C)))


def test_address_is_the_documented_hash():
    account = MultisigAccount(2, (C, A))
    # C sorts before A (0x10 0c... < 0x10 aa...).
    preimage = (b"ghost/multisig/v1" + bytes([2, 2]) + (33).to_bytes(2, "big") + C
                + (33).to_bytes(2, "big") + A)
    assert account.to_bytes() == preimage[len(b"ghost/multisig/v1"):]
    assert account.address == keccak256(preimage)[-20:]


def test_threshold_and_members_change_the_address():
    assert MultisigAccount(1, (A, B)).address != MultisigAccount(2, (A, B)).address
    assert MultisigAccount(1, (A, B)).address != MultisigAccount(1, (A, C)).address


def test_member_index_follows_canonical_order():
    account = MultisigAccount(2, (C, B, A))
    assert [account.member_index(k) for k in (B, C, A)] == [0, 1, 2]
    assert account.member_index(bytes([16]) + b"\xff" * 32) is None


@pytest.mark.parametrize(("threshold", "members", "match"), [
    (0, (A, B), "threshold must be 1 to 2"),
    (3, (A, B), "threshold must be 1 to 2"),
    (True, (A, B), "threshold"),
    ("2", (A, B), "threshold"),
    (1, (), "1 to 16 members"),
    (1, tuple(bytes([16, i]) * 8 for i in range(MAX_MEMBERS + 1)), "1 to 16 members, got 17"),
    (1, (A, A), "same member key twice"),
    (1, (A, b"\x10"), "truncated"),
])
def test_validation(threshold, members, match):
    with pytest.raises(CryptoError, match=match):
        MultisigAccount(threshold, members)


def test_sixteen_members_is_the_limit():
    members = tuple(bytes([16, i]) * 8 for i in range(MAX_MEMBERS))
    assert len(MultisigAccount(16, members).members) == 16


def test_bytes_round_trip_and_strict_parsing():
    account = MultisigAccount(2, (A, B, C))
    data = account.to_bytes()
    assert MultisigAccount.from_bytes(data) == account
    for bad, match in [
        (data[:-1], "truncated"),
        (data[:3], "truncated"),
        (b"\x01", "truncated"),
        (data + b"\x00", "1 trailing byte"),
        (bytes([4]) + data[1:], "threshold must be 1 to 3"),
    ]:
        with pytest.raises(CryptoError, match=match):
            MultisigAccount.from_bytes(bad)
    # Members out of order are another encoding of the same account: refused.
    unsorted = bytes([1, 2]) + (33).to_bytes(2, "big") + A + (33).to_bytes(2, "big") + C
    with pytest.raises(CryptoError, match="not canonical"):
        MultisigAccount.from_bytes(unsorted)


def test_json_round_trip():
    account = MultisigAccount(2, (A, B, C))
    doc = account.to_json()
    assert doc["threshold"] == 2
    assert doc["address"] == format_address(account.address)
    assert doc["members"] == ["0x" + m.hex() for m in sorted((A, B, C))]
    assert MultisigAccount.from_json(doc) == account
    assert MultisigAccount.from_json({**doc, "address": doc["address"].lower()}) == account
    with pytest.raises(CryptoError, match="does not match"):
        MultisigAccount.from_json({**doc, "threshold": 1})
    with pytest.raises(CryptoError, match="not hex"):
        MultisigAccount.from_json({"threshold": 1, "members": ["0xzz"]})
    with pytest.raises(CryptoError, match="threshold and members"):
        MultisigAccount.from_json([1, 2])
