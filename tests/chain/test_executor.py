"""The executor over a real SQLite file and the real wasmtime engine, with the counter
built from the template: effects are all-or-nothing, gas is deterministic."""

import pytest
import wasmtime

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.crypto.hashing import contract_address
from ghost_cli.exceptions import (
    ArgumentError,
    InvalidModuleError,
    NotFoundError,
    OutOfGasError,
    RevertError,
    UnknownImportError,
)
from ghost_cli.vm import gas


def test_deploy_uses_the_create_rule_and_bumps_the_nonce(sandbox, counter_code):
    me = sandbox.default_sender
    first = sandbox.deploy(counter_code, name="counter")
    second = sandbox.deploy(counter_code, name="counter")
    assert first.address == contract_address(me, 0)
    assert second.address == contract_address(me, 1)
    assert sandbox.store.nonce(me) == 2
    assert sandbox.resolve("counter") == second.address  # the name follows the latest
    assert first.gas_used == gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(counter_code)


def test_calls_commit_storage_events_and_receipts(sandbox, counter_code):
    sandbox.deploy(counter_code, name="counter")
    r1 = sandbox.call("counter", "increment")
    r2 = sandbox.call("counter", "add", [5])
    assert (r1.result, r2.result) == (1, 6)
    assert sandbox.query("counter", "get").result == 6
    stored = sandbox.store.receipt(r1.tx_hash)
    assert stored.gas_used == r1.gas_used and stored.function == "increment"
    [event] = stored.events
    assert event.name == "Incremented"
    assert event.topics[1][:20] == sandbox.default_sender
    assert sandbox.store.height() == 3  # deploy + two calls, a block each


def test_state_persists_in_the_file(tmp_path, counter_code):
    with Sandbox(tmp_path / "s.db") as sb:
        sb.deploy(counter_code, name="counter")
        sb.call("counter", "increment")
    with Sandbox(tmp_path / "s.db") as sb:
        assert sb.query("counter", "get").result == 1


def _counts_after_a_failure(before: dict) -> dict:
    """A failed transaction adds its block and its receipt, nothing else (no events)."""
    return {**before, "blocks": before["blocks"] + 1, "receipts": before["receipts"] + 1}


def test_revert_keeps_no_effect_but_uses_the_nonce_and_records_a_failed_receipt(
        sandbox, counter_code):
    # Failure no longer leaves the nonce as it was (the Ethereum model, docs/transactions.md):
    # the failed transaction is recorded, so the same signed bytes cannot run again.
    sandbox.deploy(counter_code, name="counter")
    sandbox.call("counter", "add", [2**64 - 1])
    before = sandbox.store.counts()
    nonce = sandbox.store.nonce(sandbox.default_sender)
    with pytest.raises(RevertError, match="reverted: Overflow") as info:
        sandbox.call("counter", "add", [1])
    assert info.value.gas_used > gas.TX_BASE
    assert sandbox.store.counts() == _counts_after_a_failure(before)
    assert sandbox.store.nonce(sandbox.default_sender) == nonce + 1
    assert sandbox.query("counter", "get").result == 2**64 - 1
    tx_hash = bytes.fromhex(info.value.details["tx_hash"][2:])
    stored = sandbox.store.receipt(tx_hash)
    assert stored.status == "failed" and stored.function == "add"
    assert stored.error == {"code": "reverted", "message": "reverted: Overflow"}
    assert stored.gas_used == info.value.gas_used
    assert stored.events == () and stored.return_data == b""
    assert stored.height == info.value.details["block_height"] == sandbox.store.height()


def test_a_failed_transaction_cannot_be_replayed(sandbox, counter_code):
    from ghost_cli.chain.transaction import sign_single
    from ghost_cli.exceptions import NonceError

    sandbox.deploy(counter_code, name="counter")
    sandbox.call("counter", "add", [2**64 - 1])
    key = sandbox.default_signer
    tx = sandbox.new_transaction("call", key.address, target=sandbox.resolve("counter"),
                                 function="add", args=(1).to_bytes(8, "little"))
    signed = sign_single(tx, key.secret_key, key.public_key)
    with pytest.raises(RevertError):
        sandbox.submit(signed)
    before = sandbox.store.counts()
    with pytest.raises(NonceError, match="already used"):
        sandbox.submit(signed)
    assert sandbox.store.counts() == before


def test_out_of_gas_burns_the_limit_and_keeps_only_nonce_and_receipt(sandbox, counter_code):
    sandbox.deploy(counter_code, name="counter")
    needed = sandbox.query("counter", "increment").gas_used
    before = sandbox.store.counts()
    with pytest.raises(OutOfGasError) as info:
        sandbox.call("counter", "increment", gas_limit=needed - 1)
    assert info.value.gas_used == needed - 1
    # Told against the transaction's limit, not the run's (the limit less the base).
    assert info.value.message == f"out of gas: used {needed - 1} of limit {needed - 1}"
    assert sandbox.store.counts() == _counts_after_a_failure(before)
    stored = sandbox.store.receipt(bytes.fromhex(info.value.details["tx_hash"][2:]))
    assert (stored.status, stored.gas_used) == ("failed", needed - 1)
    assert stored.error["code"] == "out_of_gas"
    # Exactly the gas it reports is enough.
    assert sandbox.call("counter", "increment", gas_limit=needed).gas_used == needed
    with pytest.raises(OutOfGasError, match="below the transaction base"):
        sandbox.call("counter", "increment", gas_limit=100)
    nonce = sandbox.store.nonce(sandbox.default_sender)
    with pytest.raises(OutOfGasError, match="deploying") as info:
        sandbox.deploy(counter_code, gas_limit=gas.TX_BASE)
    assert sandbox.store.nonce(sandbox.default_sender) == nonce + 1
    failed = sandbox.store.receipt(bytes.fromhex(info.value.details["tx_hash"][2:]))
    assert (failed.kind, failed.status, failed.gas_used) == ("deploy", "failed", gas.TX_BASE)
    with pytest.raises(NotFoundError):  # no contract at the address it would have had
        sandbox.store.contract(failed.target)
    # Refusals come first, whatever the limit: nothing recorded, the nonce unused.
    with pytest.raises(InvalidModuleError):
        sandbox.deploy(b"\0asm" + bytes(600_000), gas_limit=gas.TX_BASE)
    with pytest.raises(ArgumentError, match="no constructor"):
        sandbox.deploy(counter_code, [5], gas_limit=0)
    assert sandbox.store.nonce(sandbox.default_sender) == nonce + 1


def test_gas_is_the_same_in_every_fresh_sandbox(tmp_path, counter_code):
    figures = []
    for i in range(2):
        with Sandbox(tmp_path / f"{i}.db") as sb:
            sb.deploy(counter_code, name="counter")
            figures.append([sb.call("counter", "increment").gas_used for _ in range(3)])
    assert figures[0] == figures[1]


def test_arguments_are_checked_before_anything_runs(sandbox, counter_code):
    sandbox.deploy(counter_code, name="counter")
    before = sandbox.store.counts()
    with pytest.raises(ArgumentError, match="takes 1 argument"):
        sandbox.call("counter", "add", [])
    with pytest.raises(ArgumentError, match="expected an integer"):
        sandbox.call("counter", "add", ["1"])
    with pytest.raises(NotFoundError, match="no function 'nope'"):
        sandbox.call("counter", "nope")
    with pytest.raises(NotFoundError, match="no contract named"):
        sandbox.call("missing", "get")
    assert sandbox.store.counts() == before


def test_modules_without_metadata_or_with_foreign_imports_are_refused(sandbox):
    before = sandbox.store.counts()
    bare = wasmtime.wat2wasm('(module (memory (export "memory") 1) (func (export "f")))')
    with pytest.raises(InvalidModuleError, match="ghost.metadata"):
        sandbox.deploy(bare)
    foreign = wasmtime.wat2wasm(
        '(module (import "env" "system" (func)) (memory (export "memory") 1))')
    with pytest.raises(UnknownImportError, match="env.system"):
        sandbox.deploy(foreign)
    with pytest.raises(InvalidModuleError):
        sandbox.deploy(b"\0asm\x01\0\0\0\x99garbage")
    assert sandbox.store.counts() == before


# ---- constructors ---------------------------------------------------------------------


def test_the_constructor_runs_inside_the_deploy_with_the_deployer_as_caller(sandbox,
                                                                          token_code):
    me = sandbox.default_sender
    receipt = sandbox.deploy(token_code, [1000], name="token")
    assert sandbox.store.height() == 1  # code and constructor: one transaction, one block
    assert sandbox.query("token", "owner").result == me
    assert sandbox.query("token", "balance_of", [me]).result == 1000
    [minted] = receipt.events  # the constructor's event, in the deploy's receipt
    assert minted.name == "Transfer" and minted.topics[2][:20] == me
    assert sandbox.store.receipt(receipt.tx_hash).events == receipt.events
    # The deploy paid for its bytes and for the constructor's work.
    assert receipt.gas_used > gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(token_code)
    assert sandbox.abi_of(receipt.address).constructor.signature == "init(u64)"


def test_the_constructor_cannot_be_called_afterwards(sandbox, token_code):
    from ghost_cli.chain.transaction import sign_single

    address = sandbox.deploy(token_code, [1000], name="token").address
    attacker = sandbox.dev_keys[1]
    before, nonce = sandbox.store.counts(), sandbox.store.nonce(attacker.address)
    with pytest.raises(NotFoundError, match="'init' is the contract's constructor"):
        sandbox.call("token", "init", [5], signer=attacker)
    # Even hand-made call data naming it is refused before anything runs.
    tx = sandbox.new_transaction("call", attacker.address, target=address, function="init",
                                 args=(5).to_bytes(8, "little"))
    with pytest.raises(NotFoundError, match="constructor"):
        sandbox.submit(sign_single(tx, attacker.secret_key, attacker.public_key))
    assert sandbox.store.counts() == before
    assert sandbox.store.nonce(attacker.address) == nonce
    assert sandbox.query("token", "total_supply").result == 1000


def test_a_failing_constructor_leaves_no_contract_but_uses_the_nonce(sandbox, token_code):
    from ghost_cli.chain.transaction import sign_single

    key = sandbox.default_signer
    tx = sandbox.new_transaction("deploy", key.address, code=token_code, label="token",
                                 args=b"\x01")  # too short for a u64: the constructor reverts
    with pytest.raises(RevertError, match="call data too short") as info:
        sandbox.submit(sign_single(tx, key.secret_key, key.public_key))
    address = contract_address(key.address, 0)
    with pytest.raises(NotFoundError):
        sandbox.store.contract(address)
    assert sandbox.store.names() == {} and sandbox.store.storage_items(address) == []
    assert sandbox.store.nonce(key.address) == 1
    failed = sandbox.store.receipt(tx.hash)
    assert (failed.kind, failed.status, failed.events) == ("deploy", "failed", ())
    assert failed.gas_used == info.value.gas_used > gas.TX_BASE


def test_constructor_out_of_gas_burns_the_limit_and_deploys_nothing(sandbox, token_code):
    needed = gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(token_code)
    with pytest.raises(OutOfGasError) as info:
        sandbox.deploy(token_code, [1000], gas_limit=needed + 10)
    assert info.value.gas_used == needed + 10
    assert info.value.message.startswith(f"out of gas: used {needed + 10} of limit {needed + 10}")
    assert sandbox.store.counts()["contracts"] == 0


def test_constructor_arguments_are_checked_against_its_abi(sandbox, token_code, counter_code):
    from ghost_cli.chain.transaction import sign_single

    with pytest.raises(ArgumentError, match="init takes 1 argument"):
        sandbox.deploy(token_code, [])
    with pytest.raises(ArgumentError, match="no constructor"):
        sandbox.deploy(counter_code, [5])
    key = sandbox.default_signer  # the executor refuses such a deploy too, before running
    tx = sandbox.new_transaction("deploy", key.address, code=counter_code, args=b"\x05")
    with pytest.raises(ArgumentError, match="no constructor"):
        sandbox.submit(sign_single(tx, key.secret_key, key.public_key))
    assert sandbox.store.height() == 0 and sandbox.store.nonce(key.address) == 0


def test_a_failed_receipt_keeps_a_bounded_error_message(sandbox):
    import json

    from wasm_helpers import wat_module

    from ghost_cli.chain.executor import FAILED_MESSAGE_CHARS
    from ghost_cli.vm.wasm_module import METADATA_SECTION, add_custom_section

    # `shout` reverts with a 5,000-byte reason (the zeroed first page of memory)
    body = '(func (export "shout") (call $revert (i32.const 0) (i32.const 5000)))'
    abi = {"abi": {"version": 1, "functions": [{"name": "shout", "inputs": []}]}}
    code = add_custom_section(wat_module(body), METADATA_SECTION, json.dumps(abi).encode())
    sandbox.deploy(code, name="loud")
    with pytest.raises(RevertError) as failed:
        sandbox.call("loud", "shout")
    assert len(failed.value.reason) == 5000  # the caller still gets the whole reason
    receipt = sandbox.receipt(bytes.fromhex(failed.value.details["tx_hash"][2:]))
    message = receipt.error["message"]
    assert receipt.status == "failed" and receipt.error["code"] == "reverted"
    assert len(message) == FAILED_MESSAGE_CHARS and message.endswith("...")


def test_a_store_that_reads_the_record_afresh_still_parses_the_abi_once(
        tmp_path, counter_code, monkeypatch):
    # A node's store reads the contract's row anew for every call (no read cache): the
    # executor keeps the parsed ABI while the row's ABI is the same.
    from ghost_cli.abi import Abi
    from ghost_cli.chain.store import open_store

    store = open_store(tmp_path / "state.db")
    with Sandbox(tmp_path / "unused.db", store=store) as sb:
        sb.deploy(counter_code, name="counter")
        parsed = []
        real = Abi.from_json.__func__
        monkeypatch.setattr(Abi, "from_json",
                            classmethod(lambda cls, doc: parsed.append(doc) or real(cls, doc)))
        address = sb.resolve("counter")
        assert sb.store.contract(address) is not sb.store.contract(address)
        for n in range(1, 4):
            assert sb.call("counter", "increment").result == n
        assert len(parsed) <= 1


def test_an_impersonated_call_that_fails_is_recorded_as_a_signed_one_would_be(sandbox,
                                                                            counter_code):
    """call_unsigned (the tests' prank): a failure uses the nonce and records a receipt."""
    sandbox.deploy(counter_code, name="counter")
    someone = b"\x42" * 20
    sandbox.call_unsigned(someone, "counter", "add", [2**64 - 1])
    with pytest.raises(RevertError) as info:
        sandbox.call_unsigned(someone, "counter", "add", [1])
    assert sandbox.store.nonce(someone) == 2
    failed = sandbox.store.receipt(bytes.fromhex(info.value.details["tx_hash"][2:]))
    assert (failed.status, failed.sender) == ("failed", someone)
