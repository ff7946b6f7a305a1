"""A fork: a local, copy-on-write view of a node's state at one height.

`ForkStore` is a `StateStore` (store/protocol.py) that the sandbox's executor runs over
unchanged. Everything written goes to a local store (the overlay) and stays there; a
read the overlay cannot answer goes to the node, through the small `RemoteState`
protocol below (client/fork_reader.py implements it over JSON-RPC), and is kept:

    storage value   fetched with its proof and checked against the state root pinned at
                    the fork's height (crypto/proof.py's verifier); one that does not
                    verify is refused with CryptoError, never used
    code            fetched by its code hash and checked against it (SHA-256)
    contract record from the node (the state root does not cover it); a contract deployed
                    after the fork's height is not there
    nonce           the node's current nonce; local transactions count up from it

What the node holds at a fixed height never changes, so fetched values are cached for the
fork's lifetime and outlive snapshots; local writes roll back with them as in the sandbox.

The overlay keeps each written storage key as a tagged value (0x01 ‖ value, or 0x00 for
a deletion) so that a key deleted here reads as absent instead of falling through to the
node's value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from ..crypto.address import format_address
from ..crypto.proof import Proof, verify_proof
from ..exceptions import CryptoError, NotFoundError, StateError
from .store.protocol import StateStore
from .store.records import ContractRecord

_SET, _DELETED = b"\x01", b"\x00"


class RemoteState(Protocol):
    """What a fork reads from the node it forks (client/fork_reader.py: over JSON-RPC)."""

    #: where the node is, safe to print
    location: str

    def state_root(self, height: int | None) -> tuple[int, bytes]:
        """(height, state root after that block); None: the node's latest."""

    def contract(self, *, address: bytes | None = None,
                 name: str | None = None) -> ContractRecord | None:
        """The node's record of a contract (by address or deployed name); None: absent."""

    def code(self, code_hash: bytes) -> bytes: ...

    def storage(self, address: bytes, key: bytes, height: int) -> tuple[bytes | None, Proof]:
        """The value after block `height` (None: absent) and its proof."""

    def nonce(self, address: bytes) -> int: ...

    def close(self) -> None: ...


class ForkStore:
    """A node's state at `height` (root `root`) under a local overlay store."""

    backend = "fork"
    authenticated = False

    def __init__(self, overlay: StateStore, remote: RemoteState, *, height: int,
                 root: bytes, chain_id: int | None = None) -> None:
        self.overlay = overlay
        #: the forked chain's id, when the remote said (transactions here use it)
        self.chain_id = chain_id
        #: the overlay's path; ":memory:" tells a node to serialize reads with writes (a
        #: fork has one connection)
        self.path = getattr(overlay, "path", None)
        self.remote = remote
        self.fork_height = height
        self.root = root
        self.location = f"fork of {remote.location} at height {height}"
        #: where a name is looked up, for Sandbox.resolve's "no contract named ..."
        self.names_scope = f"here or on {remote.location} at height {height}"
        self._storage: dict[tuple[bytes, bytes], bytes | None] = {}
        self._contracts: dict[bytes, ContractRecord | None] = {}
        self._names: dict[str, bytes | None] = {}
        self._code: dict[bytes, bytes] = {}
        self._nonces: dict[bytes, int] = {}
        #: remote reads made, by kind: what a warm run avoids (tests and the benchmark)
        self.fetches = {"storage": 0, "contract": 0, "code": 0, "nonce": 0}

    @classmethod
    def open(cls, overlay: StateStore, remote: RemoteState, *, height: int | None = None,
             trusted_root: bytes | None = None, chain_id: int | None = None) -> ForkStore:
        """Pin the node's state root at `height` (default its latest block). With
        `trusted_root` (e.g. from a checkpoint posted elsewhere) the node's root must be
        that one."""
        at, root = remote.state_root(height)
        if trusted_root is not None and root != trusted_root:
            raise CryptoError(f"{remote.location} reports state root 0x{root.hex()} at "
                              f"height {at}, not the trusted 0x{trusted_root.hex()}")
        return cls(overlay, remote, height=at, root=root, chain_id=chain_id)

    def close(self) -> None:
        try:
            self.overlay.close()
        finally:
            self.remote.close()

    def reader(self) -> StateStore:
        raise StateError("a fork has one connection (its overlay); it has no reader")

    # --- heights and accounts -----------------------------------------------------------

    def height(self) -> int:
        return max(self.overlay.height(), self.fork_height)

    def nonce(self, address: bytes) -> int:
        # Nonces only grow: the overlay's, once a local transaction used one, is ahead.
        if address not in self._nonces:
            self.fetches["nonce"] += 1
            self._nonces[address] = self.remote.nonce(address)
        return max(self.overlay.nonce(address), self._nonces[address])

    # --- contracts and names --------------------------------------------------------------

    def contract(self, address: bytes) -> ContractRecord:
        try:
            return self.overlay.contract(address)
        except NotFoundError:
            pass
        if address not in self._contracts:
            self.fetches["contract"] += 1
            rec = self.remote.contract(address=address)
            self._contracts[address] = (
                rec if rec is not None and rec.height <= self.fork_height else None)
        rec = self._contracts[address]
        if rec is None:
            raise NotFoundError(f"no contract at {format_address(address)} (here or on "
                                f"{self.remote.location} at height {self.fork_height})")
        return rec

    def code(self, code_hash: bytes) -> bytes:
        try:
            return self.overlay.code(code_hash)
        except StateError:
            pass
        code = self._code.get(code_hash)
        if code is None:
            self.fetches["code"] += 1
            code = self.remote.code(code_hash)
            if hashlib.sha256(code).digest() != code_hash:
                raise CryptoError(f"{self.remote.location} sent code whose hash is not "
                                  f"0x{code_hash.hex()}: refused")
            self._code[code_hash] = code
        return code

    def address_of(self, name: str) -> bytes | None:
        local = self.overlay.address_of(name)
        if local is not None:
            return local
        if name not in self._names:
            self.fetches["contract"] += 1
            rec = self.remote.contract(name=name)
            ok = rec is not None and rec.height <= self.fork_height
            self._names[name] = rec.address if ok else None
            if ok:
                self._contracts.setdefault(rec.address, rec)
        return self._names[name]

    def names(self) -> dict[str, bytes]:
        """Names deployed here, and the node's names this fork has looked up."""
        found = {n: a for n, a in self._names.items() if a is not None}
        return {**found, **self.overlay.names()}

    def name_of(self, address: bytes) -> str | None:
        local = self.overlay.name_of(address)
        if local is not None:
            return local
        return next((n for n, a in sorted(self._names.items()) if a == address), None)

    # --- storage ----------------------------------------------------------------------

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        tagged = self.overlay.storage_get(address, key)
        if tagged is not None:
            return tagged[1:] if tagged[:1] == _SET else None
        return self.remote_storage(address, key)

    def remote_storage(self, address: bytes, key: bytes) -> bytes | None:
        """The node's value at the fork's height, proven against the pinned root."""
        try:
            return self._storage[address, key]
        except KeyError:
            pass
        self.fetches["storage"] += 1
        value, proof = self.remote.storage(address, key, self.fork_height)
        if not verify_proof(self.root, address, key, value, proof):
            raise CryptoError(
                f"{self.remote.location}'s value for storage key 0x{key.hex()} of "
                f"{format_address(address)} does not verify against the state root "
                f"0x{self.root.hex()} at height {self.fork_height}: refused")
        self._storage[address, key] = value
        return value

    def storage_apply(self, address: bytes, writes: dict[bytes, bytes | None], *,
                      height: int | None = None) -> None:
        self.overlay.storage_apply(address, {
            k: _DELETED if v is None else _SET + v for k, v in writes.items()}, height=height)

    def storage_items(self, address: bytes) -> list[tuple[bytes, bytes]]:
        """The keys written here (a fork cannot list the node's keys)."""
        return [(k, v[1:]) for k, v in self.overlay.storage_items(address) if v[:1] == _SET]

    def state_root(self) -> bytes:
        raise StateError("a fork keeps no state tree: its writes have no state root")

    def prove(self, address: bytes, key: bytes) -> Proof:
        raise StateError("a fork keeps no state tree: it proves nothing")

    def history_from(self) -> int | None:
        return None

    def state_root_at(self, height: int) -> bytes:
        return self.state_root()

    def prove_at(self, address: bytes, key: bytes, height: int) -> Proof:
        return self.prove(address, key)

    def storage_get_at(self, address: bytes, key: bytes, height: int) -> bytes | None:
        raise StateError("a fork keeps no state history")

    # --- everything else is the overlay's -------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        return self.overlay.transaction()

    def snapshot(self) -> AbstractContextManager[None]:
        return self.overlay.snapshot()

    def read(self) -> AbstractContextManager[None]:
        return self.overlay.read()

    def exclusive(self) -> AbstractContextManager[None]:
        return self.overlay.exclusive()

    def checkpoint_lock(self) -> AbstractContextManager[bool]:
        return self.overlay.checkpoint_lock()

    def export_rows(self, table: str) -> Iterator[tuple]:
        return self.overlay.export_rows(table)

    def import_rows(self, table: str, rows: Iterable[tuple]) -> None:
        raise StateError("a fork's overlay takes no imported rows")


def _delegate(name: str):
    def method(self: ForkStore, *args, **kwargs):
        return getattr(self.overlay, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"The overlay's {name} (local only)."
    return method


for _name in ("meta_get", "meta_set", "add_block", "block_time", "set_nonce", "put_contract",
              "set_name", "put_checkpoint", "checkpoint", "checkpoint_covering",
              "tx_hashes", "put_receipt", "receipt", "events", "counts", "schema_version"):
    setattr(ForkStore, _name, _delegate(_name))
del _name
