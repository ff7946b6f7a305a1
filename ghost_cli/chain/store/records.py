"""What the state store records, the same on every backend."""

from __future__ import annotations

from dataclasses import dataclass

from ...vm.types import Event


@dataclass(frozen=True)
class ContractRecord:
    address: bytes
    code_hash: bytes
    abi: dict
    metadata: dict
    deployer: bytes
    height: int


@dataclass(frozen=True)
class ReceiptRecord:
    tx_hash: bytes
    height: int
    kind: str
    sender: bytes
    target: bytes
    function: str | None
    gas_used: int
    return_data: bytes
    logs: tuple[str, ...]
    events: tuple[Event, ...]
    status: str = "ok"  # "ok" | "failed": it ran and failed; only its nonce and gas count
    error: dict | None = None  # a failed one's {"code", "message"} (exceptions.py codes)


@dataclass(frozen=True)
class EventRecord:
    """An event as recorded: which transaction and block emitted it, in emission order."""

    tx_hash: bytes
    index: int
    height: int
    event: Event


#: Tables in copy order (a row's references come first) and each one's columns: what
#: `ghost node migrate` copies and `counts()` reports.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "accounts": ("address", "nonce"),
    "code": ("hash", "code"),
    "contracts": ("address", "code_hash", "abi", "metadata", "deployer", "height"),
    "names": ("name", "address"),
    "storage": ("address", "key", "value"),
    "blocks": ("height", "time", "tx_hash"),
    "receipts": ("tx_hash", "height", "kind", "sender", "target", "function", "gas_used",
                 "return_data", "logs", "status", "error"),
    "events": ("tx_hash", "idx", "address", "name", "topics", "data", "height"),
    "state_nodes": ("depth", "prefix", "kind", "a", "b"),
    "checkpoints": ("height", "state_root", "receipts_root", "tx_count", "first_height",
                    "time"),
    "state_nodes_log": ("depth", "prefix", "height", "kind", "a", "b"),
    "storage_log": ("address", "key", "height", "value"),
}
#: The tables `counts()` reports (what tests compare to prove a failure changed nothing).
COUNTED = ("accounts", "contracts", "names", "storage", "blocks", "receipts", "events")
