"""Checkpoints: what a rollup would post to its parent chain.

A checkpoint at height h covers the blocks first_height..h, everything since the previous
checkpoint. It records the state root after block h (any storage key can be proved present
or absent against it) and a receipts root: the list root (proof.list_root) over those
blocks' transaction hashes in height order, so one transaction's inclusion in the range is
proved with a ListProof. `time_ms` is when it was made, in milliseconds since the epoch.

`CheckpointPolicy.due` is pure; `maybe_checkpoint` asks it with figures read from the
store, so a node calls it after each applied transaction (and on a timer) with its `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..crypto.proof import ListProof, list_prove, list_root, verify_list_proof
from ..exceptions import NotFoundError, UsageError
from ..hexbytes import from_0x_hex

if TYPE_CHECKING:
    from .store import StateStore


@dataclass(frozen=True)
class CheckpointPolicy:
    """Checkpoint after `every_txs` transactions or `every_ms` milliseconds, whichever comes
    first, and never with no new transaction. None switches a trigger off."""

    every_txs: int | None = 100
    every_ms: int | None = 1000

    def __post_init__(self) -> None:
        for name in ("every_txs", "every_ms"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise UsageError(f"checkpoint policy {name} must be a positive integer or None")

    def due(self, txs_since: int, ms_since: float) -> bool:
        if txs_since <= 0:
            return False
        return (self.every_txs is not None and txs_since >= self.every_txs) or (
            self.every_ms is not None and ms_since >= self.every_ms
        )


@dataclass(frozen=True)
class Checkpoint:
    height: int
    state_root: bytes
    receipts_root: bytes
    tx_count: int
    first_height: int
    time_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height, "state_root": "0x" + self.state_root.hex(),
            "receipts_root": "0x" + self.receipts_root.hex(), "tx_count": self.tx_count,
            "first_height": self.first_height, "time_ms": self.time_ms,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Checkpoint:
        """The to_json form exactly: a count or height that is not a non-negative integer
        (a float, a string, a bool) or a root that is not 32 bytes of 0x hex is refused,
        never rounded or shortened into a checkpoint nobody made."""
        try:
            cp = cls(_count(obj["height"]), _root(obj["state_root"]),
                     _root(obj["receipts_root"]), _count(obj["tx_count"]),
                     _count(obj["first_height"]), _count(obj["time_ms"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"malformed checkpoint: {exc}") from exc
        if cp.first_height > cp.height:  # it covers first_height..height
            raise UsageError(f"malformed checkpoint: first_height {cp.first_height} is past "
                             f"height {cp.height}")
        return cp


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _root(text: Any) -> bytes:
    # strict: bytes.fromhex alone skips whitespace, so "0x 11 11 ..." would pass
    raw = from_0x_hex(text, 32)
    if raw is None:
        raise ValueError(f"{text!r} is not 0x and 32 bytes of hex")
    return raw


def make_checkpoint(store: StateStore, now: float) -> Checkpoint:
    """Record a checkpoint at the store's current height; `now` in seconds (the executor's
    clock). With nothing new since the last one, that one is returned; an empty chain gets
    a genesis checkpoint at height 0 covering no transactions."""
    with store.transaction():
        height = store.height()
        try:
            last = store.checkpoint()
        except NotFoundError:
            last = None
        if last is not None and last.height == height:
            return last
        first = last.height + 1 if last is not None else min(1, height)
        hashes = store.tx_hashes(first, height)
        cp = Checkpoint(height, store.state_root(), list_root(hashes), len(hashes), first,
                        int(now * 1000))
        store.put_checkpoint(cp)
    return cp


def maybe_checkpoint(store: StateStore, policy: CheckpointPolicy, now: float) -> Checkpoint | None:
    """A new checkpoint if `policy` says one is due at `now` (seconds), else None. Time is
    counted from the previous checkpoint, or from the first block when there is none."""
    try:
        last = store.checkpoint()
        since_height, since_ms = last.height, last.time_ms
    except NotFoundError:
        first_time = store.block_time(1)
        since_height = 0
        since_ms = now * 1000 if first_time is None else first_time * 1000
    if policy.due(store.height() - since_height, now * 1000 - since_ms):
        return make_checkpoint(store, now)
    return None


def prove_receipt(store: StateStore, tx_hash: bytes) -> tuple[Checkpoint, ListProof]:
    """The checkpoint whose range holds transaction `tx_hash`, and its inclusion proof."""
    height = store.receipt(tx_hash).height  # NotFoundError for an unknown transaction
    cp = store.checkpoint_covering(height)
    hashes = store.tx_hashes(cp.first_height, cp.height)
    return cp, list_prove(hashes, hashes.index(tx_hash))


def verify_receipt(checkpoint: Checkpoint, tx_hash: bytes, proof: ListProof) -> bool:
    """Pure: `tx_hash` is one of the transactions `checkpoint` covers."""
    return proof.size == checkpoint.tx_count and verify_list_proof(
        checkpoint.receipts_root, tx_hash, proof
    )
