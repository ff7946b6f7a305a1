"""What an engine is given for one call and what it gives back. Engine-neutral: the
WebAssembly engine and the ZVM interpreter share these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Reads committed storage of the running contract: key -> value, or None when absent.
StorageReader = Callable[[bytes], "bytes | None"]


class World(Protocol):
    """Read-only view of committed chain state, for engines that reach other contracts
    during a call (ZVM's CALL and CREATE). Nothing is written through it: what a run
    changes leaves in its Outcome, and the executor applies that."""

    def code(self, address: bytes) -> bytes | None:
        """The stored code of the contract at `address`; None when there is none."""

    def storage(self, address: bytes, key: bytes) -> bytes | None:
        """Committed storage of `address`; None when the key is absent."""

    def nonce(self, address: bytes) -> int:
        """The account's nonce (for a contract: how many contracts it has created)."""


@dataclass(frozen=True)
class CallContext:
    caller: bytes  # 20 bytes
    address: bytes  # 20 bytes: the contract being run
    input: bytes  # call data
    gas_limit: int  # gas available to the contract code (after the transaction base)
    block_height: int = 0
    block_time: int = 0
    chain_id: int = 0
    # Other contracts, for engines that can call them; None: the engine sees only this
    # one (the WebAssembly engine never looks).
    world: World | None = field(default=None, compare=False, repr=False)
    # True while a deploy runs the new contract's constructor: its code is not stored yet,
    # so code-size lookups of its own address see none (as Ethereum's constructors do).
    constructing: bool = False


@dataclass(frozen=True)
class Event:
    address: bytes
    topics: tuple[bytes, ...]  # 32 bytes each; topic 0 is the event name, zero-padded
    data: bytes

    @property
    def name(self) -> str:
        """Topic 0 as text, up to its zero padding: bytes that are not UTF-8, and a NUL
        before the padding (text a PostgreSQL store cannot hold), read as U+FFFD; the
        topics keep the exact bytes."""
        if not self.topics:
            return ""
        return self.topics[0].rstrip(b"\0").decode(errors="replace").replace("\0", "\ufffd")


@dataclass(frozen=True)
class CreatedContract:
    """A contract a run created (ZVM CREATE/CREATE2), to be recorded with its writes."""

    address: bytes
    code: bytes  # as stored: what the executor keeps and engines are picked by
    metadata: dict[str, Any]  # ghost metadata; its "abi" may be absent (then no functions)
    deployer: bytes  # the creating contract


@dataclass(frozen=True)
class Outcome:
    """A successful run. Failures raise an ExecutionError subclass instead."""

    return_data: bytes
    gas_used: int
    writes: dict[bytes, bytes | None] = field(default_factory=dict)  # None: deleted
    events: tuple[Event, ...] = ()
    logs: tuple[str, ...] = ()
    # Effects on other contracts (sub-calls, creations); empty for an engine that cannot
    # reach them. All of it is applied with `writes`, or none of it.
    other_writes: dict[bytes, dict[bytes, bytes | None]] = field(default_factory=dict)
    created: tuple[CreatedContract, ...] = ()
    nonces: dict[bytes, int] = field(default_factory=dict)  # new nonces of creators


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 16 * 1024 * 1024  # linear memory, all memories together
    wasm_stack_bytes: int = 512 * 1024  # native stack wasmtime may use for wasm frames
    module_bytes: int = 512 * 1024  # largest accepted module
    timeout_seconds: float = 5.0  # wall-clock backstop; gas is the real bound
    max_tables: int = 4
    max_table_elements: int = 10_000
    max_return_bytes: int = 1024 * 1024
    max_event_data_bytes: int = 64 * 1024
    max_key_bytes: int = 1024
    max_value_bytes: int = 256 * 1024
