"""At most MAX_TX_STORAGE_KEYS storage keys written or deleted per transaction, on both
engines: a written key costs an authenticated store far more at commit than its gas buys
(vm/gas.py), so one transaction could otherwise hold a node's writer for a minute."""

import shutil
from pathlib import Path

import pytest

from ghost_cli.chain.executor import check_storage_keys
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import StorageLimitError
from ghost_cli.rpc.errors import BY_CODE
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm import gas
from ghost_cli.vm.types import Outcome

LIMIT = gas.MAX_TX_STORAGE_KEYS

FILLER = Path(__file__).resolve().parents[2] / "contracts" / "filler"


@pytest.fixture(scope="module")
def filler(tmp_path_factory) -> dict[str, bytes]:
    """contracts/filler (`fill(start, n)`, `clear(start, n)`), built for both targets."""
    root = tmp_path_factory.mktemp("filler") / "filler"
    shutil.copytree(FILLER, root, symlinks=False, ignore=shutil.ignore_patterns("build", ".ghost"))
    project = load_project(root)
    return {target: build_project(project, target=target)[0].path.read_bytes()
            for target in ("wasm", "zvm")}


def _key(n: int) -> bytes:
    return n.to_bytes(8, "little")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["wasm", "zvm"])
def test_a_transaction_writes_at_most_the_limit(tmp_path, filler, target):
    with Sandbox(tmp_path / "sb.db", authenticated=True) as sb:
        sb.deploy(filler[target], name="filler")
        address = sb.resolve("filler")
        assert sb.call("filler", "fill", [0, LIMIT], gas_limit=100_000_000).result == LIMIT
        assert sb.store.storage_get(address, _key(LIMIT - 1)) == _key(1)
        root, nonce = sb.store.state_root(), sb.store.nonce(sb.default_sender)
        before = sb.store.counts()

        with pytest.raises(StorageLimitError) as info:
            sb.call("filler", "fill", [10_000, LIMIT + 1], gas_limit=100_000_000)
        err = info.value
        assert err.exit_code == 6 and err.details["limit"] == LIMIT
        assert err.message == (f"storage limit: the call wrote {LIMIT + 1:,} storage keys; "
                               f"one transaction may write or delete at most {LIMIT:,}")
        assert err.gas_used > gas.TX_BASE
        # Nothing of the run is kept: the state root, and so every key, is as it was; the
        # transaction is recorded as failed (nonce used, receipt with the gas it used).
        assert sb.store.state_root() == root
        assert sb.store.storage_get(address, _key(10_000)) is None
        assert sb.store.nonce(sb.default_sender) == nonce + 1
        assert sb.store.counts() == {**before, "blocks": before["blocks"] + 1,
                                     "receipts": before["receipts"] + 1}
        stored = sb.store.receipt(bytes.fromhex(err.details["tx_hash"][2:]))
        assert stored.status == "failed" and stored.gas_used == err.gas_used
        assert stored.error["code"] == "storage_limit"

        # Deletes count as writes; a query is held to the same limit as a transaction.
        with pytest.raises(StorageLimitError):
            sb.call("filler", "clear", [0, LIMIT + 1], gas_limit=100_000_000)
        with pytest.raises(StorageLimitError):
            sb.query("filler", "fill", [10_000, LIMIT + 1], gas_limit=100_000_000)
        sb.call("filler", "clear", [0, LIMIT], gas_limit=100_000_000)
        assert sb.store.storage_get(address, _key(0)) is None


def test_keys_count_once_each_across_every_contract_reached():
    mine = {_key(i): b"x" for i in range(LIMIT // 2)}
    other = {_key(i): None for i in range(LIMIT - LIMIT // 2)}  # the same keys elsewhere
    at_limit = Outcome(b"", 500, writes=mine, other_writes={b"\x01" * 20: other})
    check_storage_keys(at_limit, base=gas.TX_BASE)  # exactly the limit: allowed
    over = Outcome(b"", 500, writes=mine,
                   other_writes={b"\x01" * 20: other, b"\x02" * 20: {b"k": b"v"}})
    with pytest.raises(StorageLimitError) as info:
        check_storage_keys(over, base=gas.TX_BASE)
    assert info.value.gas_used == gas.TX_BASE + 500


def test_the_error_has_its_own_json_rpc_code():
    assert BY_CODE["storage_limit"].number == -32034
