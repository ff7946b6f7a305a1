"""ZVM contracts calling and creating each other through the executor: real signed
transactions on a sandbox (and a node core), every contract written in .zasm.

B (contracts/store.zasm) is a cell with set/set_then_fail/get; A (caller.zasm) calls any
address with any call data by CALL, STATICCALL or DELEGATECALL and returns what came
back; F (factory.zasm) runs CREATE/CREATE2 on init code it is given, built from
constructor.zasm with B appended as the runtime.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from zvm_contracts import (
    CALLER_ABI,
    FACTORY_ABI,
    GET,
    INIT,
    STORE,
    STORE_ABI,
    code_of,
    container,
    set_call,
    u64,
    word,
)

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.chain.transaction import sign_single
from ghost_cli.crypto.hashing import contract_address, keccak256
from ghost_cli.exceptions import NotFoundError, RevertError
from ghost_cli.vm.zvm import assemble, encode_zvmc, selector

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled



@pytest.fixture
def sb(tmp_path):
    with Sandbox(tmp_path / "state.db", clock=lambda: 1_700_000_000) as sandbox:
        yield sandbox


@pytest.fixture
def deployed(sb):
    """(A, B, F) deployed by real signed transactions."""
    a = sb.deploy(container("caller", CALLER_ABI), name="A").address
    b = sb.deploy(STORE, name="B").address
    f = sb.deploy(container("factory", FACTORY_ABI), name="F").address
    return a, b, f


def slot(sb: Sandbox, address: bytes, n: int) -> int:
    value = sb.store.storage_get(address, word(n))
    return 0 if value is None else int.from_bytes(value, "big")


# ---- calls ------------------------------------------------------------------------------



def _plus_failed_receipt(counts: dict) -> dict:
    """A failed transaction is recorded (block, receipt, sender's nonce); nothing else."""
    return {**counts, "blocks": counts["blocks"] + 1, "receipts": counts["receipts"] + 1}

def test_a_calls_b_and_both_storages_are_committed(sb, deployed):
    a, b, _ = deployed
    r = sb.call("A", "call", [b, set_call(42)])
    assert r.result == u64(42)  # what B returned, passed back by A
    assert sb.query("B", "get").result == 42
    assert sb.store.storage_get(b, b"value") == u64(42)
    assert slot(sb, a, 1) == 101  # A carried on and recorded the success
    (event,) = r.events
    assert event.address == b and event.name == "Set" and event.data == u64(42)
    recorded = sb.store.receipt(r.tx_hash)
    assert recorded.events == r.events and recorded.target == a
    assert [e.event for e in sb.store.events(address=b)] == [event]


def test_a_reads_b_back_in_the_same_transaction_as_the_write(sb, deployed):
    _, b, _ = deployed
    sb.call("A", "call", [b, set_call(5)])
    assert sb.call("A", "call", [b, GET]).result == u64(5)
    assert sb.query("A", "call", [b, GET]).result == u64(5)  # queries reach B too


def test_b_reverting_rolls_back_b_and_a_carries_on(sb, deployed):
    a, b, _ = deployed
    sb.call("B", "set", [7])
    r = sb.call("A", "call", [b, set_call(99, "set_then_fail(u64)")])
    assert r.result == b"B failed"  # CALL pushed 0; the revert data is the return data
    assert slot(sb, a, 1) == 100
    assert sb.query("B", "get").result == 7  # B's write undone
    assert r.events == ()  # and its event
    assert sb.store.events(address=b, name="Set")[-1].event.data == u64(7)


def test_a_reverting_after_b_succeeded_commits_nothing(sb, deployed):
    a, b, _ = deployed
    sb.call("B", "set", [7])
    counts, height = sb.store.counts(), sb.store.height()
    nonce = sb.store.nonce(sb.default_sender)
    with pytest.raises(RevertError, match="A failed"):
        sb.call("A", "call_then_revert", [b, set_call(99)])
    # Only the failed transaction's own record is kept: its block, receipt and nonce.
    assert sb.store.counts() == _plus_failed_receipt(counts)
    assert sb.store.height() == height + 1
    assert sb.store.nonce(sb.default_sender) == nonce + 1
    assert sb.query("B", "get").result == 7
    assert slot(sb, a, 1) == 0


def test_staticcall_to_a_writer_fails_and_to_a_reader_succeeds(sb, deployed):
    a, b, _ = deployed
    sb.call("B", "set", [7])
    r = sb.call("A", "static", [b, set_call(8)])
    assert r.result == b"" and slot(sb, a, 2) == 100  # SSTORE in a static frame: failed
    assert sb.query("B", "get").result == 7 and r.events == ()
    r = sb.call("A", "static", [b, GET])
    assert r.result == u64(7) and slot(sb, a, 2) == 101


def test_delegatecall_runs_b_on_a_storage(sb, deployed):
    a, b, _ = deployed
    r = sb.call("A", "delegate", [b, set_call(9)])
    assert r.result == u64(9) and slot(sb, a, 3) == 101
    assert sb.store.storage_get(a, b"value") == u64(9)
    assert sb.store.storage_get(b, b"value") is None
    (event,) = r.events
    assert event.address == a  # B's code emitted in A's name


def test_calling_an_address_without_code_succeeds_with_nothing(sb, deployed):
    nobody = bytes.fromhex("ee" * 20)
    assert sb.call("A", "call", [nobody, GET]).result == b""
    assert slot(sb, deployed[0], 1) == 101


# ---- creation ---------------------------------------------------------------------------


def test_create_deploys_at_the_predicted_address_and_the_cli_api_calls_it(sb, deployed):
    _, _, f = deployed
    assert sb.store.nonce(f) == 0
    r = sb.call("F", "make", [INIT])
    new = contract_address(f, 0)  # keccak256(F ‖ nonce 0 as u64 BE)[-20:]
    assert r.result == new
    assert sb.store.nonce(f) == 1
    record = sb.store.contract(new)
    assert record.deployer == f and record.height == r.block_height
    assert record.abi == STORE_ABI and record.metadata == {"abi": STORE_ABI}
    assert sb.store.code(record.code_hash) == STORE  # the container the constructor returned
    assert slot(sb, new, 0) == 1  # the constructor's write, committed with the contract
    # The new contract is a contract like any other: called, queried, called by A.
    assert sb.call(new, "set", [5]).result == 5
    assert sb.query(new, "get").result == 5
    assert sb.query("A", "call", [new, GET]).result == u64(5)
    assert sb.call("F", "make", [INIT]).result == contract_address(f, 1)
    assert sb.store.nonce(f) == 2


def test_create2_deploys_at_the_predicted_address_and_a_second_time_collides(sb, deployed):
    _, _, f = deployed
    salt = int.from_bytes(u64(77), "big")  # F reads the u64's bytes as a big-endian salt
    new = keccak256(b"\xff" + f + word(salt) + keccak256(INIT))[-20:]
    r = sb.call("F", "make2", [77, INIT])
    assert r.result == new
    assert sb.call(new, "set", [3]).result == 3 and sb.query(new, "get").result == 3
    again = sb.call("F", "make2", [77, INIT])
    assert again.result == bytes(20)  # the address is taken: CREATE2 pushed 0
    assert sb.query(new, "get").result == 3  # the first contract is untouched
    assert sb.store.nonce(f) == 2  # CREATE2 bumps the nonce too, even when it fails
    other = sb.call("F", "make2", [78, INIT]).result
    assert other not in (new, bytes(20))


def test_a_revert_after_create_leaves_no_contract_and_no_nonce(sb, deployed):
    _, _, f = deployed
    counts = sb.store.counts()
    with pytest.raises(RevertError, match="F failed"):
        sb.call("F", "make_then_revert", [INIT])
    assert sb.store.counts() == _plus_failed_receipt(counts)
    assert sb.store.nonce(f) == 0
    with pytest.raises(NotFoundError):
        sb.store.contract(contract_address(f, 0))
    assert sb.store.storage_get(contract_address(f, 0), word(0)) is None


def test_raw_runtime_code_gets_an_empty_abi_but_contracts_can_call_it(sb, deployed):
    _, _, f = deployed
    new = sb.call("F", "make", [code_of("constructor") + code_of("store")]).result
    record = sb.store.contract(new)
    assert record.abi == {"version": 1, "functions": []} and record.metadata == {}
    assert sb.store.code(record.code_hash) == encode_zvmc(code_of("store"))
    with pytest.raises(NotFoundError):
        sb.call(new, "set", [1])  # no ABI: nothing to call from outside by name
    assert sb.call("A", "call", [new, set_call(4)]).result == u64(4)
    assert sb.call("A", "call", [new, GET]).result == u64(4)


def test_a_failing_constructor_creates_nothing_but_bumps_the_nonce(sb, deployed):
    _, _, f = deployed
    failing = assemble('PUSH 1\nPUSH 0\nSSTORE\nPUSH "no"\nPUSH 0\nMSTORE\nPUSH 2\nPUSH 0\n'
                       "REVERT")
    counts = sb.store.counts()
    assert sb.call("F", "make", [failing]).result == bytes(20)
    assert sb.store.nonce(f) == 1
    with pytest.raises(NotFoundError):
        sb.store.contract(contract_address(f, 0))
    after = sb.store.counts()
    assert after["contracts"] == counts["contracts"] and after["storage"] == counts["storage"]


def test_deployed_code_that_is_a_broken_container_is_refused(sb, deployed):
    _, _, f = deployed
    broken = code_of("constructor") + STORE[:-3]  # sizes no longer add up
    assert sb.call("F", "make", [broken]).result == bytes(20)
    assert sb.store.nonce(f) == 1
    # a well-formed container whose ABI a deploy would refuse is refused here too
    bad_abi = b'{"abi":{"version":1,"functions":[{"name":"get","inputs":[{"name":"a","type":5}]}]}}'
    runtime = encode_zvmc(code_of("store"), bad_abi)
    assert sb.call("F", "make", [code_of("constructor") + runtime]).result == bytes(20)
    assert sb.store.nonce(f) == 2
    with pytest.raises(NotFoundError):
        sb.store.contract(contract_address(f, 1))


# ---- authenticated state and the node ---------------------------------------------------


def test_the_state_tree_covers_every_contract_a_call_wrote(tmp_path):
    from ghost_cli.crypto.proof import verify_proof

    with Sandbox(tmp_path / "auth.db", authenticated=True) as sb:
        sb.deploy(container("caller", CALLER_ABI), name="A")
        b = sb.deploy(STORE, name="B").address
        f = sb.deploy(container("factory", FACTORY_ABI), name="F").address
        before = sb.store.state_root()
        sb.call("A", "call", [b, set_call(42)])
        new = sb.call("F", "make", [INIT]).result
        root = sb.store.state_root()
        assert root != before
        assert verify_proof(root, b, b"value", u64(42), sb.store.prove(b, b"value"))
        assert verify_proof(root, new, word(0), word(1), sb.store.prove(new, word(0)))
        assert sb.store.nonce(f) == 1


def test_a_node_core_runs_cross_contract_calls(tmp_path):
    from ghost_cli.chain.sandbox import dev_keys
    from ghost_cli.chain.transaction import Transaction
    from ghost_cli.node.core import NodeCore

    key = dev_keys(count=1)[0]
    core = NodeCore.open(tmp_path / "node", chain_id=1337)
    now = 1_700_000_000.0

    def send(kind: str, **fields) -> object:
        tx = Transaction(chain_id=1337, sender=key.address, nonce=core.nonce(key.address),
                         kind=kind, gas_limit=10_000_000, expiry=int(now) + 60, **fields)
        return core.send_transaction(sign_single(tx, key.secret_key, key.public_key), now=now)

    try:
        a = send("deploy", code=container("caller", CALLER_ABI)).address
        b = send("deploy", code=STORE).address
        f = send("deploy", code=container("factory", FACTORY_ABI)).address
        r = send("call", target=a, function="call",
                 args=b + len(set_call(6)).to_bytes(4, "little") + set_call(6))
        assert [e.address for e in r.events] == [b]
        assert core.query(b, "get", b"", sender=key.address, now=now).result == 6
        send("call", target=f, function="make", args=len(INIT).to_bytes(4, "little") + INIT)
        new = contract_address(f, 0)
        assert core.nonce(f) == 1
        assert core.query(new, "get", b"", sender=key.address, now=now).result == 0
    finally:
        core.close()


# ---- into WebAssembly -------------------------------------------------------------------


@pytest.fixture(scope="module")
def wasm_counter(tmp_path_factory) -> bytes:
    """The Zig counter template built to WebAssembly by `ghost build`'s library core."""
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    root = new_project("demo", "counter", tmp_path_factory.mktemp("wasm") / "demo")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


def test_zvm_calls_a_webassembly_contract_by_selector(sb, deployed, wasm_counter):
    a, _, _ = deployed
    counter = sb.deploy(wasm_counter, name="counter").address
    r = sb.call("A", "call", [counter, selector("add(u64)") + u64(5)])
    assert r.result == u64(5) and slot(sb, a, 1) == 101
    assert sb.query("counter", "get").result == 5
    r = sb.call("A", "call", [counter, selector("increment()")])
    assert r.result == u64(6)
    (event,) = r.events
    assert event.address == counter and event.name == "Incremented"
    assert event.topics[1][:20] == a  # the wasm contract saw A as its caller
    assert sb.query("A", "static", [counter, selector("get()")]).result == u64(6)


def test_webassembly_failures_and_refusals_push_0(sb, deployed, wasm_counter):
    a, _, _ = deployed
    counter = sb.deploy(wasm_counter, name="counter").address
    sb.call("counter", "add", [2**64 - 1])
    r = sb.call("A", "call", [counter, selector("add(u64)") + u64(1)])
    assert r.result == b"Overflow" and slot(sb, a, 1) == 100  # the wasm revert's reason
    r = sb.call("A", "call", [counter, selector("nope()")])
    assert r.result.startswith(b"unknown function") and slot(sb, a, 1) == 100
    r = sb.call("A", "static", [counter, selector("add(u64)") + u64(0)])
    assert r.result == b"" and slot(sb, a, 2) == 100  # a write under STATICCALL
    r = sb.call("A", "delegate", [counter, selector("get()")])
    assert r.result == b"" and slot(sb, a, 3) == 100  # wasm code on A's storage: refused
    assert sb.query("counter", "get").result == 2**64 - 1


def test_a_revert_after_a_webassembly_call_undoes_it(sb, deployed, wasm_counter):
    counter = sb.deploy(wasm_counter, name="counter").address
    counts = sb.store.counts()
    with pytest.raises(RevertError, match="A failed"):
        sb.call("A", "call_then_revert", [counter, selector("add(u64)") + u64(5)])
    assert sb.store.counts() == _plus_failed_receipt(counts)
    assert sb.query("counter", "get").result == 0
