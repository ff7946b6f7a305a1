"""The canonical transaction bytes: deterministic, round-tripping, strict when decoding."""

from dataclasses import replace

import pytest

from ghost_cli.chain.transaction import HASH_DOMAIN, Transaction, from_json, sign_single, to_json
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import GasLimitTooHighError, TransactionError

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
    with pytest.raises(TransactionError, match="NUL"):  # no PostgreSQL text holds one
        Transaction(chain_id=1, sender=b"\x01" * 20, nonce=0, kind="deploy", gas_limit=1,
                    expiry=1, label="a\0b")
    # A gas limit past u64 is above the cap like any other: the same code and exit 13.
    with pytest.raises(GasLimitTooHighError, match="above the per-transaction cap"):
        Transaction(chain_id=1, sender=b"\x01" * 20, nonce=0, kind="call", gas_limit=2**64,
                    expiry=1)


def _bytes_with(tx: Transaction, **fields) -> bytes:
    """`tx`'s encoding with fields its kind leaves empty filled in, written by hand (the
    dataclass refuses to build such a transaction)."""
    function = fields.get("function", tx.function).encode()
    label = fields.get("label", tx.label).encode()
    code = fields.get("code", tx.code)
    return (b"GHTX\x01" + tx.chain_id.to_bytes(8, "big") + bytes([tx.kind == "call"])
            + tx.sender + tx.nonce.to_bytes(8, "big") + fields.get("target", tx.target)
            + bytes([len(function)]) + function + len(tx.args).to_bytes(4, "big") + tx.args
            + len(code).to_bytes(4, "big") + code + bytes([len(label)]) + label
            + tx.gas_limit.to_bytes(8, "big") + tx.expiry.to_bytes(8, "big"))


def test_hand_encoding_matches():
    assert _bytes_with(CALL) == CALL.encode() and _bytes_with(DEPLOY) == DEPLOY.encode()


@pytest.mark.parametrize(("tx", "fields", "match"), [
    (DEPLOY, {"target": b"\x02" * 20}, "a deploy has a zero target"),
    (DEPLOY, {"function": "zz"}, "a deploy has a zero target and no function"),
    (CALL, {"code": b"\0asm"}, "a call has no code"),
    (CALL, {"label": "counter"}, "a call has no code and no label"),
])
def test_a_field_the_kind_does_not_use_must_be_empty(tx, fields, match):
    """One encoding per transaction: otherwise the same deploy or call would have many
    hashes, each of which a node would accept."""
    with pytest.raises(TransactionError, match=match):
        Transaction.decode(_bytes_with(tx, **fields))


def _signed_doc() -> dict:
    key = KeyPair.generate("ed25519", b"\x05" * 32)
    return to_json(sign_single(replace(CALL, sender=key.address), key.secret_key,
                               key.public_key))


def test_file_form_hex_may_carry_0x():
    """rpc.md writes bytes as 0x-prefixed hex; tx.json's members are read either way."""
    doc = _signed_doc()
    prefixed = {**doc, "tx": "0x" + doc["tx"],
                "auth": {k: ("0x" + v if k != "kind" else v) for k, v in doc["auth"].items()}}
    assert from_json(prefixed) == from_json(doc)


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d.pop("format"), 'its "format" is not "ghost-tx"'),
    (lambda d: d.pop("tx"), "tx is missing"),
    (lambda d: d.pop("auth"), r"auth is missing \(null when not signed yet\)"),
    (lambda d: d.update(tx=7), "tx is not a hex string"),
    (lambda d: d.update(tx="zz"), "tx is not hex"),
    (lambda d: d["auth"].pop("public_key"), "auth.public_key is missing"),
    (lambda d: d["auth"].update(signature="0xg0"), "auth.signature is not hex"),
    (lambda d: d["auth"].update(kind="both"), "unknown auth kind 'both'"),
    (lambda d: d.update(auth=5), "auth is not an object"),
    (lambda d: d.update(auth={"kind": "multisig", "account": "00", "signatures": [5]}),
     r"auth.signatures\[0\] is not an object"),
    (lambda d: d.update(auth={"kind": "multisig", "account": "00", "signatures": {}}),
     "auth.signatures is not a list"),
    (lambda d: d.update(auth={"kind": "multisig", "account": "00",
                              "signatures": [{"member": "0", "signature": "00"}]}),
     r"auth.signatures\[0\].member is not an integer"),
    (lambda d: d.update(tx=" ".join(d["tx"][i:i + 2] for i in range(0, len(d["tx"]), 2))),
     "tx is not hex"),
    (lambda d: d.update(auth={"kind": "multisig", "account": "0201", "signatures": []}),
     "auth.account: multi-sig descriptor is truncated"),
])
def test_file_form_errors_name_the_member(change, match):
    doc = _signed_doc()
    change(doc)
    with pytest.raises(TransactionError, match=match):
        from_json(doc)
