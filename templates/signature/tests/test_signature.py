"""Tests for the signature vault. Run with `ghost test` (or pytest); the `deploy` and
`ghost_env` fixtures come from ghost's pytest plugin and run against the sandbox. Keys and
signatures are made here with ghost_cli.crypto, as a wallet would."""

import pytest

from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.crypto.multisig import MultisigAccount
from ghost_cli.crypto.scheme import Encoded
from ghost_cli.crypto.schemes import get
from ghost_cli.exceptions import NotFoundError, RevertError

SINGLE, MULTI = b"ghost/vault/v1/single", b"ghost/vault/v1/multi"

OWNER = KeyPair.generate("ml-dsa-65", b"\x01" * 32)
# Members of mixed schemes: post-quantum and classical keys in one account.
MEMBERS = [KeyPair.generate(s, bytes([i + 2]) * 32)
           for i, s in enumerate(("ml-dsa-44", "ed25519", "schnorr-secp256k1"))]
ACCOUNT = MultisigAccount(2, tuple(m.public_key for m in MEMBERS))


def message(tag, vault, to, amount, nonce, chain_id=1337):
    """What the vault's signers sign (the contract builds the same bytes)."""
    return keccak256(tag + vault + to + amount.to_bytes(8, "little")
                     + nonce.to_bytes(8, "little") + chain_id.to_bytes(8, "little"))


def sign(key, msg):
    """An encoded signature (scheme id ‖ raw), as ghost carries them."""
    scheme = get(key.scheme)
    return Encoded(scheme.id, scheme.sign(key.secret_key, msg)).to_bytes()


def multisig(signers, msg):
    """count ‖ (member index u8 ‖ length u16 BE ‖ encoded signature) by increasing index."""
    entries = sorted((ACCOUNT.member_index(k.public_key), sign(k, msg)) for k in signers)
    out = bytes([len(entries)])
    for index, sig in entries:
        out += bytes([index]) + len(sig).to_bytes(2, "big") + sig
    return out


@pytest.fixture
def vault(deploy):
    # The constructor (`init`) runs inside the deploy: nobody can claim the vault first.
    vault = deploy("signature", OWNER.public_key, ACCOUNT.to_bytes())
    vault.deposit(1000)
    return vault


def test_deposit_is_bookkeeping(vault, ghost_env):
    vault.deposit(5)
    assert vault.balance() == 1005
    assert vault.deposited(ghost_env.sender) == 1005
    assert vault.owner_key() == OWNER.public_key
    assert vault.multisig_account() == ACCOUNT.to_bytes()


def test_owner_signature_releases_funds(vault, ghost_env):
    bob = ghost_env.accounts[2]
    sig = sign(OWNER, message(SINGLE, vault.address, bob, 300, 0))
    receipt = vault.withdraw.transact(bob, 300, 0, sig)
    assert [e.name for e in receipt.events] == ["Withdrawn"]
    assert (vault.balance(), vault.withdrawn(bob), vault.next_nonce()) == (700, 300, 1)


def test_a_replayed_signature_reverts(vault, ghost_env):
    bob = ghost_env.accounts[2]
    sig = sign(OWNER, message(SINGLE, vault.address, bob, 100, 0))
    vault.withdraw(bob, 100, 0, sig)
    with pytest.raises(RevertError, match="Replayed"):
        vault.withdraw(bob, 100, 0, sig)
    assert (vault.balance(), vault.next_nonce()) == (900, 1)


def test_a_skipped_nonce_reverts(vault, ghost_env):
    bob = ghost_env.accounts[2]
    with pytest.raises(RevertError, match="BadNonce"):
        vault.withdraw(bob, 100, 5, sign(OWNER, message(SINGLE, vault.address, bob, 100, 5)))
    assert vault.next_nonce() == 0


@pytest.mark.parametrize("tamper", ["amount", "recipient", "other_key", "garbage"])
def test_a_bad_signature_reverts(vault, ghost_env, tamper):
    bob, eve = ghost_env.accounts[2], ghost_env.accounts[3]
    signed_for = {"amount": (bob, 1), "recipient": (eve, 100)}.get(tamper, (bob, 100))
    key = MEMBERS[0] if tamper == "other_key" else OWNER
    sig = sign(key, message(SINGLE, vault.address, *signed_for, 0))
    if tamper == "garbage":
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    with pytest.raises(RevertError, match="BadSignature"):
        vault.withdraw(bob, 100, 0, sig)
    assert (vault.balance(), vault.withdrawn(bob), vault.next_nonce()) == (1000, 0, 0)


def test_insufficient_funds(vault, ghost_env):
    bob = ghost_env.accounts[2]
    with pytest.raises(RevertError, match="InsufficientFunds"):
        vault.withdraw(bob, 1001, 0, sign(OWNER, message(SINGLE, vault.address, bob, 1001, 0)))
    assert vault.balance() == 1000


def test_two_of_three_mixed_schemes(vault, ghost_env):
    bob = ghost_env.accounts[2]
    msg = message(MULTI, vault.address, bob, 250, 0)
    vault.withdraw_multi(bob, 250, 0, multisig(MEMBERS[1:], msg))  # ed25519 + schnorr
    vault.withdraw_multi(bob, 250, 1, multisig(MEMBERS[:2], message(MULTI, vault.address,
                                                                     bob, 250, 1)))
    assert (vault.balance(), vault.withdrawn(bob), vault.next_nonce()) == (500, 500, 2)


def test_below_threshold_reverts(vault, ghost_env):
    bob = ghost_env.accounts[2]
    with pytest.raises(RevertError, match="BelowThreshold"):
        vault.withdraw_multi(bob, 10, 0, multisig(MEMBERS[:1],
                                                  message(MULTI, vault.address, bob, 10, 0)))
    assert (vault.balance(), vault.next_nonce()) == (1000, 0)


def test_a_single_key_signature_is_not_a_multisig_one(vault, ghost_env):
    bob = ghost_env.accounts[2]
    wrong_tag = message(SINGLE, vault.address, bob, 10, 0)  # signed for the other path
    with pytest.raises(RevertError, match="BadSignature"):
        vault.withdraw_multi(bob, 10, 0, multisig(MEMBERS[:2], wrong_tag))
    assert vault.next_nonce() == 0


def test_the_constructor_cannot_run_again(vault):
    with pytest.raises(NotFoundError, match="constructor"):
        vault.init(MEMBERS[0].public_key, b"")
    assert vault.owner_key() == OWNER.public_key


def test_a_failing_constructor_leaves_no_contract(deploy, ghost_env):
    names = ghost_env.sandbox.store.names()
    with pytest.raises(RevertError, match="BadKey"):
        deploy("signature", b"\x01", b"")
    assert ghost_env.sandbox.store.names() == names
