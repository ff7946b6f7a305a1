"""A ZVM contract through the sandbox: the counter in .zasm, packaged as ZVMC with a ghost
ABI, deployed, called and queried like a WebAssembly contract."""

from pathlib import Path

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import NotFoundError, RevertError
from ghost_cli.vm import gas
from ghost_cli.vm.zvm import assemble, encode_zvmc, metadata_json

COUNTER = Path(__file__).with_name("counter.zasm")
METADATA = {"abi": {"version": 1, "functions": [
    {"name": "increment", "inputs": [], "output": "u64"},
    {"name": "add", "inputs": [{"name": "n", "type": "u64"}], "output": "u64", "can_fail": True},
    {"name": "get", "inputs": [], "output": "u64"},
]}}


@pytest.fixture
def counter_zvmc() -> bytes:
    return encode_zvmc(assemble(COUNTER.read_text()), metadata_json(METADATA))


@pytest.fixture
def sandbox(tmp_path):
    with Sandbox(tmp_path / "state.db") as sb:
        yield sb


def test_deploy_call_query(sandbox, counter_zvmc):
    deployed = sandbox.deploy(counter_zvmc, name="counter")
    assert deployed.kind == "deploy"
    assert deployed.gas_used == gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(counter_zvmc)

    first = sandbox.call("counter", "increment")
    assert first.kind == "call" and first.result == 1 and first.tx_hash is not None
    assert first.return_data == (1).to_bytes(8, "little")
    assert first.gas_used > gas.TX_BASE
    (event,) = first.events
    assert event.name == "Incremented" and event.address == deployed.address
    assert len(event.topics) == 2 and all(len(t) == 32 for t in event.topics)
    assert event.topics[1][20:] == bytes(12) and event.data == b""

    assert sandbox.call("counter", "increment").result == 2
    assert sandbox.call("counter", "add", [40]).result == 42
    q = sandbox.query("counter", "get")
    assert q.kind == "query" and q.result == 42 and q.tx_hash is None and q.events == ()
    # Stored exactly as the Zig counter stores it: u64 little-endian under "count".
    assert sandbox.store.storage_get(deployed.address, b"count") == (42).to_bytes(8, "little")


def test_revert_leaves_state_unchanged_but_records_the_failure(sandbox, counter_zvmc):
    sandbox.deploy(counter_zvmc, name="counter")
    sandbox.call("counter", "add", [2**64 - 2])
    height = sandbox.store.height()
    with pytest.raises(RevertError, match="Overflow") as info:
        sandbox.call("counter", "add", [5])
    assert info.value.gas_used > gas.TX_BASE
    assert sandbox.store.height() == height + 1  # the failed transaction's own block
    assert sandbox.store.receipt(bytes.fromhex(info.value.details["tx_hash"][2:])).status == \
        "failed"
    assert sandbox.query("counter", "get").result == 2**64 - 2


def test_unknown_function_is_not_found(sandbox, counter_zvmc):
    sandbox.deploy(counter_zvmc, name="counter")
    with pytest.raises(NotFoundError):
        sandbox.call("counter", "decrement")


def test_the_wasm_and_zvm_counters_charge_host_calls_alike(counter_zvmc):
    """HOSTCALL storage_write is priced by HOST_PRICES exactly as the wasm import is."""
    from ghost_cli.vm.gas import HOST_PRICES
    from ghost_cli.vm.types import CallContext
    from ghost_cli.vm.zvm.engine import ZvmEngine

    engine = ZvmEngine()
    ctx = CallContext(b"\1" * 20, b"\2" * 20, (1).to_bytes(8, "little"), 10**6)
    first = engine.execute(counter_zvmc, "add", ctx, {}.get)
    again = engine.execute(counter_zvmc, "add", ctx, {b"count": bytes(8)}.get)
    # The second run reads 8 stored bytes where the first read none.
    read = HOST_PRICES["storage_read"]
    assert again.gas_used - first.gas_used == read.cost(5 + 8) - read.cost(5)
    assert first.writes == {b"count": (1).to_bytes(8, "little")}


def test_gaslimit_reads_the_gas_the_call_starts_with(sandbox):
    """GASLIMIT is a transaction's gas limit less its 21,000 TX_BASE (docs/zvm.md), in a
    call as in a query."""
    code = assemble("GASLIMIT\nPUSH 0\nMSTORE\nPUSH 8\nPUSH 24\nRETURN")  # the low 8 bytes
    meta = {"abi": {"version": 1, "functions": [{"name": "limit", "inputs": [], "output": "u64"}]}}
    sandbox.deploy(encode_zvmc(code, metadata_json(meta)), name="limit")

    def gaslimit(receipt) -> int:  # the word's big-endian bytes, read back as the u64 was
        return int.from_bytes(receipt.result.to_bytes(8, "big"), "little")

    assert gaslimit(sandbox.call("limit", "limit", gas_limit=100_000)) == 100_000 - gas.TX_BASE
    assert gaslimit(sandbox.query("limit", "limit", gas_limit=50_000)) == 50_000 - gas.TX_BASE
