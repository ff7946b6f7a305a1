"""Return data that does not fit the function's result in the ABI is the contract's
failure: the call is a trap, and a transaction is still recorded (failed receipt, nonce
used, the gas its run used charged), so a module cannot run for free by returning junk."""

from __future__ import annotations

import json

import pytest
from wasm_helpers import wat_module

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import TrapError
from ghost_cli.vm.wasm_module import METADATA_SECTION, add_custom_section

#: Writes storage, then returns `n` bytes from address 0.
BODY = '''
(func $ret (param $n i32)
  (call $storage_write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
  (call $set_return (i32.const 0) (local.get $n)))
(func (export "short_u64") (call $ret (i32.const 5)))
(func (export "long_u64") (call $ret (i32.const 9)))
(func (export "void_with_data") (call $ret (i32.const 4)))
(func (export "good") (call $ret (i32.const 8)))'''
ABI = {"version": 1, "functions": [
    {"name": "short_u64", "inputs": [], "output": "u64"},
    {"name": "long_u64", "inputs": [], "output": "u64"},
    {"name": "void_with_data", "inputs": [], "output": None},
    {"name": "good", "inputs": [], "output": "u64"}]}


@pytest.fixture
def sandbox(tmp_path):
    code = add_custom_section(wat_module(BODY), METADATA_SECTION,
                              json.dumps({"abi": ABI}).encode())
    with Sandbox(tmp_path / "s.db", clock=lambda: 1_700_000_000) as sb:
        sb.deploy(code, name="junk")
        yield sb


@pytest.mark.parametrize(("function", "reason"), [
    ("short_u64", "call data too short"), ("long_u64", "call data too long"),
    ("void_with_data", "call data too long")])
def test_junk_return_data_is_a_recorded_trap(sandbox, function, reason):
    sender = sandbox.default_sender
    nonce, height = sandbox.store.nonce(sender), sandbox.store.height()
    with pytest.raises(TrapError, match=f"return data does not fit the result of {function}"
                                        f".*{reason}") as caught:
        sandbox.call("junk", function)
    assert caught.value.gas_used > 21_000  # the run is paid for
    assert sandbox.store.nonce(sender) == nonce + 1 and sandbox.store.height() == height + 1
    receipt = sandbox.receipt(bytes.fromhex(caught.value.details["tx_hash"][2:]))
    assert receipt.status == "failed" and receipt.error["code"] == "trap"
    assert sandbox.store.storage_get(sandbox.resolve("junk"), b"\0") is None  # write undone
    with pytest.raises(TrapError, match="return data does not fit"):
        sandbox.query("junk", function)


def test_fitting_return_data_is_the_result(sandbox):
    assert sandbox.call("junk", "good").result == 0
    assert sandbox.store.storage_get(sandbox.resolve("junk"), b"\0") == b"\0"
