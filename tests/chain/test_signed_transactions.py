"""Transactions are checked before anything runs: signature, chain id, nonce, expiry,
multi-sig threshold. Every rejection leaves state exactly as it was."""

from dataclasses import replace

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.transaction import (
    MultisigAuth,
    SignedTransaction,
    SingleAuth,
    add_multisig_signature,
    sign_single,
)
from ghost_cli.crypto.address import format_address
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.crypto.multisig import MultisigAccount
from ghost_cli.exceptions import (
    BadSignatureError,
    ExpiredError,
    NameTakenError,
    NonceError,
    WrongChainError,
)

NOW = 1_700_000_000


@pytest.fixture
def chain(tmp_path, counter_code):
    with Sandbox(tmp_path / "s.db", clock=lambda: NOW) as sb:
        sb.deploy(counter_code, name="counter")
        yield sb


def call_tx(sb, signer_address, **changes):
    address = sb.resolve("counter")
    tx = sb.new_transaction("call", signer_address, target=address, function="increment",
                            args=b"")
    return replace(tx, **changes)


def rejected(sb, signed, error, match):
    before = sb.store.counts()
    nonce = sb.store.nonce(signed.tx.sender)
    with pytest.raises(error, match=match):
        sb.submit(signed)
    assert sb.store.counts() == before and sb.store.nonce(signed.tx.sender) == nonce


def test_a_signed_call_runs_and_its_hash_is_the_receipt_id(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address), key.secret_key, key.public_key)
    receipt = chain.submit(signed)
    assert receipt.tx_hash == signed.tx.hash and receipt.result == 1


def test_tampered_transaction(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address), key.secret_key, key.public_key)
    tampered = replace(signed, tx=replace(signed.tx, function="get"))
    rejected(chain, tampered, BadSignatureError, "signature is invalid")


def test_signature_of_another_scheme(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address), key.secret_key, key.public_key)
    other = KeyPair.generate("ed25519", b"\x05" * 32)
    foreign_sig = sign_single(signed.tx, other.secret_key, other.public_key).auth.signature
    rejected(chain, replace(signed, auth=SingleAuth(key.public_key, foreign_sig)),
             BadSignatureError, "scheme id 16, the key is ml-dsa-65")


def test_key_that_is_not_the_senders(chain):
    key, stranger = chain.dev_keys[0], chain.dev_keys[1]
    signed = sign_single(call_tx(chain, key.address), stranger.secret_key, stranger.public_key)
    rejected(chain, signed, BadSignatureError, "does not belong to the sender")


def test_truncated_key_and_unsigned(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address), key.secret_key, key.public_key)
    rejected(chain, replace(signed, auth=SingleAuth(key.public_key[:1], signed.auth.signature)),
             BadSignatureError, "truncated")
    rejected(chain, SignedTransaction(signed.tx, None), BadSignatureError, "not signed")


def test_wrong_chain_id(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address, chain_id=1), key.secret_key,
                         key.public_key)
    rejected(chain, signed, WrongChainError, "for chain 1; this network is chain 1337")


def test_replayed_and_future_nonce(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address), key.secret_key, key.public_key)
    chain.submit(signed)
    rejected(chain, signed, NonceError, "already used")
    ahead = sign_single(call_tx(chain, key.address, nonce=99), key.secret_key, key.public_key)
    rejected(chain, ahead, NonceError, "ahead of the account")


def test_expired(chain):
    key = chain.default_signer
    signed = sign_single(call_tx(chain, key.address, expiry=NOW - 1), key.secret_key,
                         key.public_key)
    rejected(chain, signed, ExpiredError, "expired")


@pytest.fixture
def members():
    return [KeyPair.generate("ml-dsa-65", b"\x01" * 32), KeyPair.generate("ed25519", b"\x02" * 32),
            KeyPair.generate("schnorr-secp256k1", b"\x03" * 32)]


def multisig_tx(chain, members, threshold=2):
    account = MultisigAccount(threshold, tuple(m.public_key for m in members))
    return SignedTransaction(call_tx(chain, account.address), MultisigAuth(account))


def test_multisig_of_mixed_schemes_in_any_order(chain, members):
    signed = multisig_tx(chain, members)
    for m in (members[2], members[0]):  # any order
        signed = add_multisig_signature(signed, m.secret_key, m.public_key)
    assert chain.submit(signed).result == 1


def test_multisig_below_threshold_duplicates_and_strangers(chain, members):
    signed = add_multisig_signature(multisig_tx(chain, members), members[1].secret_key,
                                    members[1].public_key)
    rejected(chain, signed, BadSignatureError, "2 of 3 signatures required, 1 given")
    with pytest.raises(BadSignatureError, match="already signed"):
        add_multisig_signature(signed, members[1].secret_key, members[1].public_key)
    stranger = KeyPair.generate("ed25519", b"\x09" * 32)
    with pytest.raises(BadSignatureError, match="not a member"):
        add_multisig_signature(signed, stranger.secret_key, stranger.public_key)
    # Forged collections: the same member twice, an index past the members.
    [(index, sig)] = signed.auth.signatures
    doubled = replace(signed, auth=replace(signed.auth, signatures=((index, sig), (index, sig))))
    rejected(chain, doubled, BadSignatureError, "duplicate signature")
    outside = replace(signed, auth=replace(signed.auth, signatures=((index, sig), (7, sig))))
    rejected(chain, outside, BadSignatureError, "non-member")
    # A member's signature moved to another member's slot does not verify.
    moved = replace(signed, auth=replace(signed.auth, signatures=(((index + 1) % 3, sig),
                                                                   (index, sig))))
    rejected(chain, moved, BadSignatureError, "invalid|scheme")


def test_a_name_belongs_to_the_account_that_first_deployed_under_it(chain, counter_code):
    """With names owned (a node's rule), another account cannot point `counter` at a
    contract of its own; the owner's own redeploy moves the name, and a deploy under a
    free name or none is not affected."""
    chain.executor.names_owned = True
    owner, stranger = chain.accounts[0], chain.dev_key(chain.accounts[1])
    first = chain.resolve("counter")
    assert chain.store.contract(first).deployer == owner
    tx = chain.new_transaction("deploy", stranger.address, code=counter_code, label="counter")
    signed = sign_single(tx, stranger.secret_key, stranger.public_key)
    rejected(chain, signed, NameTakenError,
             "the name 'counter' belongs to " + format_address(owner))
    assert chain.resolve("counter") == first
    assert chain.deploy(counter_code, name="counter2", signer=stranger).gas_used > 0
    assert chain.deploy(counter_code, signer=stranger).gas_used > 0  # no name
    moved = chain.deploy(counter_code, name="counter")  # the owner's redeploy
    assert chain.resolve("counter") == moved.address != first


def test_in_the_sandbox_a_name_follows_the_newest_deploy(chain, counter_code):
    """Every sandbox account is the developer's: a test may redeploy a name from any."""
    other = chain.dev_key(chain.accounts[1])
    moved = chain.deploy(counter_code, name="counter", signer=other)
    assert chain.resolve("counter") == moved.address


def test_over_a_request_limit_is_too_large_in_the_sandbox_too(chain):
    """docs/transactions.md: a transaction over a node's request limit (call data over 64
    KiB, an encoding over 1 MiB) is refused as `too_large` before any other check, and
    the sandbox checks it as a node does: nothing runs, its nonce is not used (before,
    the sandbox ran it and recorded it as failed, so the same file used a nonce there
    and nothing on a node)."""
    from ghost_cli.chain.transaction import MAX_TX_ARGS, MAX_TX_BYTES
    from ghost_cli.exceptions import RequestTooLargeError

    key = chain.default_signer
    for changes in ({"args": bytes(MAX_TX_ARGS + 1)},
                    {"args": bytes(MAX_TX_ARGS + 1), "gas_limit": 2**40}):  # before the cap
        signed = sign_single(call_tx(chain, key.address, **changes), key.secret_key,
                             key.public_key)
        rejected(chain, signed, RequestTooLargeError, "call data of 65537 bytes")
    big = chain.new_transaction("deploy", key.address, code=bytes(MAX_TX_BYTES), label="x")
    rejected(chain, sign_single(big, key.secret_key, key.public_key), RequestTooLargeError,
             "over the limit of 1048576 bytes")
    # At the limit it passes the checks and runs: increment takes no arguments, so the
    # contract refuses them, and the failed transaction uses its nonce.
    from ghost_cli.exceptions import RevertError

    nonce = chain.store.nonce(key.address)
    at_limit = call_tx(chain, key.address, args=bytes(MAX_TX_ARGS))
    with pytest.raises(RevertError, match="call data too long"):
        chain.submit(sign_single(at_limit, key.secret_key, key.public_key))
    assert chain.store.nonce(key.address) == nonce + 1
