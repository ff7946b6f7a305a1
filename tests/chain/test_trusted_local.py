"""The sandbox's development accounts send "trusted local" transactions (no signature):
the same hashes, nonces, receipts and state as signed ones, accepted by the sandbox for
its own accounts only, and never by a node or in any wire or file form."""

import time

import pytest

from ghost_cli.chain.sandbox import DEV_ADDRESSES, Sandbox, dev_keys
from ghost_cli.chain.transaction import (
    SignedTransaction,
    SingleAuth,
    Transaction,
    TrustedLocalAuth,
    from_json,
    to_json,
)
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import BadSignatureError, TransactionError

NOW = 1_700_000_000


def _run(path, counter_code, *, trusted: bool):
    with Sandbox(path, clock=lambda: NOW, authenticated=True,
                 trust_dev_accounts=trusted) as sb:
        receipts = [sb.deploy(counter_code, name="counter")]
        receipts += [sb.call("counter", "increment") for _ in range(3)]
        receipts.append(sb.call("counter", "increment", signer=sb.dev_keys[2]))
        receipts.append(sb.call("counter", "add", [5]))
        address = sb.resolve("counter")
        state = (sb.store.state_root(), sb.store.height(),
                 [sb.store.nonce(a) for a in sb.accounts], sb.store.storage_items(address),
                 [sb.store.receipt(r.tx_hash) for r in receipts])
        return [(r.tx_hash, r.gas_used, r.block_height, r.return_data, r.events, r.sender)
                for r in receipts], state


def test_trusted_and_signed_paths_give_identical_receipts_nonces_and_state(
        tmp_path, counter_code):
    trusted = _run(tmp_path / "trusted.db", counter_code, trusted=True)
    signed = _run(tmp_path / "signed.db", counter_code, trusted=False)
    assert trusted == signed
    assert trusted[1][2][:3] == [5, 0, 1]  # nonces moved as for signed transactions


def test_the_sandbox_sends_dev_transactions_unsigned_and_real_keys_signed(tmp_path):
    real = KeyPair.generate("ml-dsa-65", b"\x05" * 32)
    with Sandbox(tmp_path / "s.db", clock=lambda: NOW) as sb:
        dev_tx = sb.new_transaction("deploy", sb.default_sender, code=b"")
        assert isinstance(sb.authorize(dev_tx, None).auth, TrustedLocalAuth)
        assert isinstance(sb.authorize(dev_tx, sb.dev_keys[0]).auth, TrustedLocalAuth)
        real_tx = sb.new_transaction("deploy", real.address, code=b"")
        assert isinstance(sb.authorize(real_tx, real).auth, SingleAuth)
    with Sandbox(tmp_path / "t.db", clock=lambda: NOW, trust_dev_accounts=False) as sb:
        dev_tx = sb.new_transaction("deploy", sb.default_sender, code=b"")
        assert isinstance(sb.authorize(dev_tx, None).auth, SingleAuth)


def test_trusted_local_from_any_other_account_is_refused(tmp_path, counter_code):
    stranger = KeyPair.generate("ml-dsa-65", b"\x06" * 32)
    with Sandbox(tmp_path / "s.db", clock=lambda: NOW) as sb:
        sb.deploy(counter_code, name="counter")
        tx = sb.new_transaction("call", stranger.address, target=sb.resolve("counter"),
                                function="increment", args=b"")
        with pytest.raises(BadSignatureError, match="local sandbox only"):
            sb.submit(SignedTransaction(tx, TrustedLocalAuth()))
        assert sb.store.nonce(stranger.address) == 0
        assert sb.query("counter", "get").result == 0
    with Sandbox(tmp_path / "t.db", clock=lambda: NOW, trust_dev_accounts=False) as sb:
        tx = sb.new_transaction("deploy", sb.default_sender, code=counter_code)
        with pytest.raises(BadSignatureError):
            sb.submit(SignedTransaction(tx, TrustedLocalAuth()))
        assert sb.store.height() == 0


def test_a_node_never_accepts_a_trusted_local_transaction(tmp_path, counter_code):
    from ghost_cli.node.core import NodeCore

    core = NodeCore.open(tmp_path / "node", chain_id=1337)
    try:
        for sender in DEV_ADDRESSES["ml-dsa-65"]:
            tx = Transaction(chain_id=1337, sender=sender, nonce=0, kind="deploy",
                             gas_limit=10_000_000, expiry=int(time.time()) + 60,
                             code=counter_code)
            height = core.store.height()
            with pytest.raises(BadSignatureError):
                core.send_transaction(SignedTransaction(tx, TrustedLocalAuth()),
                                      now=time.time())
            assert core.store.height() == height
            assert core.store.nonce(sender) == 0
    finally:
        core.close()


def test_trusted_local_has_no_wire_or_file_form(tmp_path):
    from ghost_cli.node.grpc import signed_from, signed_to

    with Sandbox(tmp_path / "s.db", clock=lambda: NOW) as sb:
        tx = sb.new_transaction("deploy", sb.default_sender, code=b"\0asm")
        signed = SignedTransaction(tx, TrustedLocalAuth())
        with pytest.raises(TransactionError, match="no file form"):
            to_json(signed)
        # gRPC carries it as an unsigned transaction, which every executor refuses
        assert signed_from(signed_to(signed)).auth is None
        with pytest.raises(TransactionError):
            from_json({"format": "ghost-tx", "tx": tx.encode().hex(),
                       "auth": {"kind": "trusted-local"}})


def test_the_dev_address_table_is_what_the_seeds_derive():
    assert tuple(k.address for k in dev_keys("ml-dsa-65")) == DEV_ADDRESSES["ml-dsa-65"]
