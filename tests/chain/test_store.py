"""The state store on a real SQLite file: transactions, snapshots, migrations."""

import sqlite3

import pytest

from ghost_cli.chain.store import MIGRATIONS, ContractRecord, ReceiptRecord, StateStore
from ghost_cli.exceptions import NotFoundError, StateError
from ghost_cli.vm.types import Event

A = b"\x01" * 20


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "state.db")
    yield s
    s.close()


def test_storage_persists_across_connections(tmp_path):
    path = tmp_path / "state.db"
    s = StateStore(path)
    with s.transaction():
        s.storage_apply(A, {b"k": b"v", b"gone": b"x"})
    with s.transaction():
        s.storage_apply(A, {b"gone": None})
    s.close()
    s = StateStore(path)
    assert s.storage_items(A) == [(b"k", b"v")]
    s.close()


def test_failed_transaction_changes_nothing(store):
    before = store.counts()
    with pytest.raises(RuntimeError), store.transaction():
        store.set_nonce(A, 5)
        store.storage_apply(A, {b"k": b"v"})
        raise RuntimeError("boom")
    assert store.counts() == before
    assert store.nonce(A) == 0


def test_snapshot_rolls_back_nested_transactions(store):
    with store.transaction():
        store.set_nonce(A, 1)
    with store.snapshot():
        for i in range(3):
            with store.transaction():
                store.set_nonce(A, 2 + i)
                store.add_block(i + 1, 0, b"h")
        assert store.nonce(A) == 4
        assert store.height() == 3
    assert store.nonce(A) == 1
    assert store.height() == 0


def test_receipts_keep_events_in_order(store):
    events = (Event(A, (b"E1".ljust(32, b"\0"),), b"d1"),
              Event(A, (b"E2".ljust(32, b"\0"), b"\x07" * 32), b""))
    rec = ReceiptRecord(b"\xaa" * 32, 1, "call", A, A, "f", 10, b"r", ("log",), events)
    with store.transaction():
        store.put_receipt(rec)
    assert store.receipt(b"\xaa" * 32) == rec
    assert [e.name for e in store.receipt(b"\xaa" * 32).events] == ["E1", "E2"]


def test_contracts_and_names(store):
    rec = ContractRecord(A, b"\x02" * 32, {"functions": []}, {"abi": {}}, b"\x03" * 20, 1)
    with store.transaction():
        store.put_contract(rec, b"\0asm")
        store.set_name("counter", A)
    assert store.contract(A) == rec
    assert store.code(rec.code_hash) == b"\0asm"
    assert store.address_of("counter") == A
    with pytest.raises(NotFoundError):
        store.contract(b"\x09" * 20)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="newer than this ghost"):
        StateStore(path)


def test_garbage_file_is_a_state_error(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot open state database"):
        StateStore(path)
