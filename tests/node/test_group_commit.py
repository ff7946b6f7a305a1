"""Group commit: the transactions queued while the writer is busy share one durable commit,
each is answered only after it, and a transaction that fails inside a group fails alone."""

from __future__ import annotations

import threading
import time

import pytest

from ghost_cli.abi import encode_value
from ghost_cli.chain.store import open_store
from ghost_cli.chain.transaction import Transaction, sign_single
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import (
    BadSignatureError,
    NonceError,
    NotFoundError,
    RevertError,
    StateError,
)
from ghost_cli.node.core import STATE_FILE, Executed, NodeCore

CHAIN_ID = 1337
NOW = 1_700_000_000


class Recorder:
    def __init__(self) -> None:
        self.events: list[Executed] = []

    def executed(self, e: Executed) -> None:
        self.events.append(e)


def signed(k: KeyPair, nonce: int, **fields):
    tx = Transaction(chain_id=CHAIN_ID, sender=k.address, nonce=nonce, gas_limit=10**7,
                     expiry=2_000_000_000, **fields)
    return sign_single(tx, k.secret_key, k.public_key)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """The node's store: its SQLite file, or a fresh database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / STATE_FILE)
    return request.getfixturevalue("pg_cluster").new_database()


def forge(s):
    """`s` with one bit of its signature flipped."""
    flipped = bytearray(s.auth.signature)
    flipped[-1] ^= 1
    return type(s)(s.tx, type(s.auth)(s.auth.public_key, bytes(flipped)))


def run_as_one_group(core: NodeCore, group, while_queued=None) -> dict[str, object]:
    """Send each (name, signed) from its own thread while the writer is held, so they all
    queue in this order and run as one group; what each caller got (a receipt or the
    exception raised). `while_queued` runs with the whole group queued."""
    outcome: dict[str, object] = {}

    def send(name: str, s) -> None:
        try:
            outcome[name] = core.send_transaction(s, now=NOW)
        except Exception as exc:  # noqa: BLE001 - what the caller would get
            outcome[name] = exc

    core._lock.acquire()  # the writer is busy: everything below queues behind it
    threads = []
    try:
        for name, s in group:
            t = threading.Thread(target=send, args=(name, s))
            t.start()
            threads.append(t)
            while len(core._queue) < len(threads):  # keep the queue in this order
                time.sleep(0.001)
        if while_queued is not None:
            while_queued()
    finally:
        core._lock.release()
    for t in threads:
        t.join(60)
    return outcome


def test_a_group_commits_once_and_its_bad_transactions_fail_alone(tmp_path, counter_code,
                                                                   store_url):
    seen = Recorder()
    core = NodeCore.open(tmp_path, chain_id=CHAIN_ID, observers=(seen,), store=store_url)
    a, b, c, d = (KeyPair.generate("ml-dsa-65", bytes([60 + i]) * 32) for i in range(4))
    try:
        counter = core.send_transaction(signed(a, 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        start_height = core.height()
        inc = {"kind": "call", "target": counter, "function": "increment"}
        overflow = {"kind": "call", "target": counter, "function": "add",
                    "args": encode_value("u64", 2**64 - 1)}
        forged = forge(signed(d, 0, **inc))
        group = [("a1", signed(a, 1, **inc)),        # ok
                 ("b0", signed(b, 0, **overflow)),   # runs and reverts: a failed receipt
                 ("c5", signed(c, 5, **inc)),        # nonce ahead: refused, nothing kept
                 ("d0", forged),                     # verified before the writer; refused
                 ("a2", signed(a, 2, **inc))]        # ok, after a1 in the same group
        before: list[int] = []

        def queued() -> None:
            assert len(core._queue) == len(group)
            before.append(sum(e.commit_seconds is not None for e in seen.events))

        outcome = run_as_one_group(core, group, queued)
        commits_before = before[0]

        assert outcome["a1"].block_height == start_height + 1
        assert isinstance(outcome["b0"], RevertError)
        assert outcome["b0"].details["block_height"] == start_height + 2
        assert isinstance(outcome["c5"], NonceError)
        assert isinstance(outcome["d0"], BadSignatureError)
        assert outcome["a2"].block_height == start_height + 3
        # One durable commit for the whole group (each in-group event after the wait).
        group_events = seen.events[-len(group):]
        assert sum(e.commit_seconds is not None for e in group_events) == 1
        assert sum(e.commit_seconds is not None for e in seen.events) == commits_before + 1
        assert [e.status for e in group_events] == [
            "ok", "reverted", NonceError.code, BadSignatureError.code, "ok"]
        assert core.nonce(a.address) == 3 and core.nonce(b.address) == 1
        assert core.nonce(c.address) == 0 and core.nonce(d.address) == 0
        # The signature is checked before the writer, yet the checks keep their documented
        # order (docs/transactions.md): a wrong nonce is reported before a bad signature.
        with pytest.raises(NonceError):
            core.send_transaction(forge(signed(d, 7, **inc)), now=NOW)
    finally:
        core.close()

    # What was acknowledged is on disk, gap-free: blocks start+1..start+3, the failed
    # receipt among them; the refused transactions left nothing.
    store = open_store(store_url)
    try:
        assert store.height() == start_height + 3
        kept = [s for n, s in group if n not in ("c5", "d0")]
        assert [store.receipt(s.tx.hash).status for s in kept] == ["ok", "failed", "ok"]
        assert store.tx_hashes(start_height + 1, start_height + 3) == [s.tx.hash for s in kept]
    finally:
        store.close()


def test_one_writer_serves_many_callers_in_order(tmp_path, counter_code):
    """Many concurrent senders: every call is answered with its own receipt, each sender's
    nonces land in order, and the heights are one gap-free sequence."""
    core = NodeCore.open(tmp_path, chain_id=CHAIN_ID)
    keys = [KeyPair.generate("ml-dsa-65", bytes([80 + i]) * 32) for i in range(6)]
    try:
        counter = core.send_transaction(signed(keys[0], 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        first = core.height() + 1
        heights: list[int] = []

        def sender(k: KeyPair, start: int) -> None:
            for n in range(start, start + 5):
                r = core.send_transaction(signed(k, n, kind="call", target=counter,
                                                 function="increment"), now=NOW)
                heights.append(r.block_height)

        threads = [threading.Thread(target=sender, args=(k, 1 if i == 0 else 0))
                   for i, k in enumerate(keys)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(heights) == list(range(first, first + 30))
        assert all(core.nonce(k.address) == (6 if i == 0 else 5) for i, k in enumerate(keys))
    finally:
        core.close()


def test_a_group_whose_commit_fails_acknowledges_none_of_it(tmp_path, counter_code,
                                                             pg_cluster):
    """PostgreSQL refuses the group's COMMIT (a deferred constraint trigger, checked at
    commit, refuses one sender's receipt): every caller of the group gets the error, none
    of the group is recorded, and the node goes on committing afterwards."""
    import psycopg

    url = pg_cluster.new_database()
    core = NodeCore.open(tmp_path, chain_id=CHAIN_ID, store=url)
    a, b, poisoned = (KeyPair.generate("ml-dsa-65", bytes([100 + i]) * 32) for i in range(3))
    try:
        counter = core.send_transaction(signed(a, 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        height = core.height()
        root = core.state_root()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"""
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.sender = '\\x{poisoned.address.hex()}'::bytea THEN
                        RAISE EXCEPTION 'refused at commit';
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON receipts
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();
            """)
        inc = {"kind": "call", "target": counter, "function": "increment"}
        group = [("a1", signed(a, 1, **inc)), ("p0", signed(poisoned, 0, **inc)),
                 ("b0", signed(b, 0, **inc))]
        outcome = run_as_one_group(core, group)

        for name, _ in group:
            assert isinstance(outcome[name], StateError), outcome[name]
            assert "refused at commit" in str(outcome[name])
        assert core.height() == height and core.state_root() == root
        assert core.nonce(a.address) == 1 and core.nonce(b.address) == 0
        for _, s in group:
            with pytest.raises(NotFoundError):
                core.receipt(s.tx.hash)
        # The caches forgot the undone rows: the next transaction commits on the old root.
        r = core.send_transaction(group[0][1], now=NOW)
        assert r.block_height == height + 1
    finally:
        core.close()


def test_a_store_that_refuses_the_group_at_once_fails_each_transaction_with_its_error(
        tmp_path, counter_code, monkeypatch):
    """The database gone before the group starts (PostgreSQL restarting): every caller gets
    the store's retryable error, none is recorded, and the next group commits."""
    from contextlib import contextmanager

    from ghost_cli.exceptions import StoreUnavailableError

    core = NodeCore.open(tmp_path, chain_id=CHAIN_ID, store=str(tmp_path / STATE_FILE))
    a = KeyPair.generate("ml-dsa-65", bytes([70]) * 32)
    try:
        counter = core.send_transaction(signed(a, 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        height = core.height()
        working = core.store.exclusive

        @contextmanager
        def gone():
            raise StoreUnavailableError("the state database is unreachable: retry")
            yield

        monkeypatch.setattr(core.store, "exclusive", gone)
        inc = {"kind": "call", "target": counter, "function": "increment"}
        with pytest.raises(StoreUnavailableError):
            core.send_transaction(signed(a, 1, **inc), now=NOW + 1)
        monkeypatch.setattr(core.store, "exclusive", working)
        assert core.height() == height
        done = core.send_transaction(signed(a, 1, **inc), now=NOW + 2)
        assert (done.block_height, done.return_data) == (height + 1, encode_value("u64", 1))
    finally:
        core.close()


def _padded(code: bytes, size: int = 30_000) -> bytes:
    """`code` with a custom section of `size` bytes: a new module, many pages to store."""
    payload = b"\x03pad" + bytes(size)
    length, n = b"", len(payload)
    while True:  # unsigned LEB128
        length += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    return code + b"\x00" + length + payload


def test_a_full_disk_mid_group_acknowledges_none_of_it(tmp_path, counter_code):
    """The SQLite file cannot grow (a full disk) while a group runs: SQLite rolls back the
    whole group at the statement that needed the space, so every caller gets `state`,
    none of the group is recorded (not even those run after it), and once there is
    space again the same transactions commit on the old root."""
    core = NodeCore.open(tmp_path, chain_id=CHAIN_ID)
    a, b, c = (KeyPair.generate("ml-dsa-65", bytes([110 + i]) * 32) for i in range(3))
    try:
        counter = core.send_transaction(signed(a, 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        height, root = core.height(), core.state_root()
        inc = {"kind": "call", "target": counter, "function": "increment"}
        group = [("a1", signed(a, 1, **inc)),
                 ("b0", signed(b, 0, kind="deploy", code=_padded(counter_code))),
                 ("c0", signed(c, 0, **inc))]
        pages = core.store._db.execute("PRAGMA page_count").fetchone()[0]
        core.store._db.execute(f"PRAGMA max_page_count = {pages + 2}")
        outcome = run_as_one_group(core, group)

        for name, _ in group:
            assert isinstance(outcome[name], StateError), outcome[name]
        assert core.height() == height and core.state_root() == root
        for _, s in group:
            with pytest.raises(NotFoundError):
                core.receipt(s.tx.hash)
        core.store._db.execute("PRAGMA max_page_count = 1000000000")  # space again
        for i, (_, s) in enumerate(group):
            assert core.send_transaction(s, now=NOW).block_height == height + 1 + i
    finally:
        core.close()
    replay = NodeCore.open(tmp_path / "replay", chain_id=CHAIN_ID)
    try:
        replay.send_transaction(signed(a, 0, kind="deploy", code=counter_code), now=NOW)
        for _, s in group:
            replay.send_transaction(s, now=NOW)
        kept = open_store(tmp_path / STATE_FILE, authenticated=True)
        try:
            assert kept.state_root() == replay.state_root()
        finally:
            kept.close()
    finally:
        replay.close()


def test_a_deploy_compiles_before_the_writer_so_a_slow_compile_holds_no_one_else(
        tmp_path, counter_code):
    """A module that is slow to compile (here: a compile made to take 1.5 s) is compiled
    on its sender's thread; a call sent meanwhile by someone else is not queued behind it.
    Only a deploy that can run now is compiled ahead: a wrong nonce gets no compile."""
    a, b = KeyPair.generate("ml-dsa-65", b"\1" * 32), KeyPair.generate("ml-dsa-65", b"\2" * 32)
    core = NodeCore.open(tmp_path / "node", chain_id=CHAIN_ID)
    try:
        counter = core.send_transaction(signed(b, 0, kind="deploy", code=counter_code),
                                        now=NOW).address
        engine = core.executor.engine
        compiled: list[str] = []
        original = engine.validate

        def validate(code):
            compiled.append(threading.current_thread().name)
            if len(compiled) == 1:
                time.sleep(1.5)
            return original(code)

        engine.validate = validate
        done: list[str] = []

        def deploy():
            core.send_transaction(signed(a, 0, kind="deploy", code=counter_code), now=NOW)
            done.append("deploy")

        t = threading.Thread(target=deploy, name="deployer")
        t.start()
        while not compiled:
            time.sleep(0.01)
        core.send_transaction(signed(b, 1, kind="call", target=counter, function="increment"),
                              now=NOW)
        done.append("call")
        t.join(30)
        assert done == ["call", "deploy"]
        assert compiled[0] == "deployer"  # ahead of the writer, on the sender's thread
        before = len(compiled)
        with pytest.raises(NonceError):
            core.send_transaction(signed(a, 5, kind="deploy", code=counter_code), now=NOW)
        assert len(compiled) == before
    finally:
        core.close()
