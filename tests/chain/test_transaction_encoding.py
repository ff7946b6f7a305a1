"""The canonical transaction bytes: deterministic, round-tripping, strict when decoding."""

import pytest

from ghost_cli.chain.transaction import HASH_DOMAIN, Transaction
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.exceptions import TransactionError

CALL = Transaction(chain_id=1337, sender=b"\x01" * 20, nonce=7, kind="call", gas_limit=100_000,
                   expiry=1_700_000_000, target=b"\x02" * 20, function="add",
                   args=(5).to_bytes(8, "little"))
DEPLOY = Transaction(chain_id=1, sender=b"\x03" * 20, nonce=0, kind="deploy", gas_limit=10**7,
                     expiry=2**63, code=b"\0asm\x01\0\0\0", label="counter")


@pytest.mark.parametrize("tx", [CALL, DEPLOY])
def test_round_trip(tx):
    assert Transaction.decode(tx.encode()) == tx


def test_encoding_is_the_documented_layout():
    data = CALL.encode()
    assert data[:5] == b"GHTX\x01"
    assert data[5:13] == (1337).to_bytes(8, "big") and data[13] == 1  # chain id, kind call
    assert data[14:34] == b"\x01" * 20 and data[34:42] == (7).to_bytes(8, "big")
    assert data.endswith((100_000).to_bytes(8, "big") + (1_700_000_000).to_bytes(8, "big"))


def test_hash_is_domain_separated_and_covers_every_field():
    assert CALL.hash == keccak256(HASH_DOMAIN + CALL.encode())
    from dataclasses import replace

    variants = [replace(CALL, chain_id=1338), replace(CALL, nonce=8),
                replace(CALL, args=b""), replace(CALL, expiry=1), replace(CALL, function="get"),
                replace(CALL, gas_limit=1), replace(CALL, target=b"\x09" * 20)]
    assert len({v.hash for v in variants} | {CALL.hash}) == len(variants) + 1


@pytest.mark.parametrize(("data", "match"), [
    (b"", "truncated"),
    (b"XXXX" + bytes(100), "bad magic"),
    (b"GHTX\x02" + bytes(100), "unsupported transaction version"),
    (CALL.encode()[:-1], "truncated"),
    (CALL.encode() + b"\0", "trailing"),
    (CALL.encode()[:13] + b"\x09" + CALL.encode()[14:], "unknown transaction kind"),
])
def test_malformed_bytes_are_one_clear_error(data, match):
    with pytest.raises(TransactionError, match=match):
        Transaction.decode(data)


def test_fields_are_range_checked():
    with pytest.raises(TransactionError, match="nonce"):
        Transaction(chain_id=1, sender=b"\x01" * 20, nonce=-1, kind="call", gas_limit=1, expiry=1)
    with pytest.raises(TransactionError, match="20-byte"):
        Transaction(chain_id=1, sender=b"\x01", nonce=0, kind="call", gas_limit=1, expiry=1)
    with pytest.raises(TransactionError, match="not valid UTF-8"):  # b"\xff" from a shell
        Transaction(chain_id=1, sender=b"\x01" * 20, nonce=0, kind="deploy", gas_limit=1,
                    expiry=1, label="\udcff")
