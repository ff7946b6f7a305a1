"""Contract names: `NAME.ghost` -> contract address, held by an on-chain registry.

The registry is a Zig contract (contracts/names/src/names.zig) that the node installs at
genesis at `REGISTRY_ADDRESS`. It is changed only by signed call transactions (ownership
is the transaction's sender), so names get receipts, events and atomicity for free. Its
build output ships here as names.wasm; tests/names rebuilds contracts/names and checks
the bytes are the same. See docs/names.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from ..exceptions import ArgumentError

ZONE = "ghost"
#: Well-known, and not derivable from any (sender, nonce): nobody can deploy over it.
REGISTRY_ADDRESS = bytes(18) + b"\x01\x00"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class NameRecord:
    """What a name resolves to. `code_hash` is None when the target holds no contract."""

    name: str  # the label, without ".ghost"
    owner: bytes
    target: bytes
    code_hash: bytes | None

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{ZONE}"


def is_ghost_name(ref: str) -> bool:
    return ref.lower().rstrip(".").endswith("." + ZONE)


def is_label(text: str) -> bool:
    """`text` is a name the registry can hold: one lowercase LDH label, nothing more.
    fullmatch, as `$` would also match before a final newline."""
    return _LABEL.fullmatch(text) is not None


def label_of(name: str) -> str:
    """The registry's key for `name` ("counter", "counter.ghost" or "counter.ghost.");
    ArgumentError unless it is one lowercase LDH label, as the contract requires."""
    label = name[:-1] if name.endswith(".") else name
    if label.endswith("." + ZONE):
        label = label[: -len(ZONE) - 1]
    if not is_label(label):
        raise ArgumentError(f"{name!r} is not a valid name: one label of a-z, 0-9 and '-' "
                            "(1-63 characters, no leading or trailing '-'), then .ghost")
    return label


def registry_code() -> bytes:
    return resources.files(__package__).joinpath("names.wasm").read_bytes()


def install_registry(store, read_metadata) -> bool:
    """Put the registry at REGISTRY_ADDRESS if it is not there yet (genesis, or a data
    directory from before names existed). Height 0, no deployer: no transaction made it."""
    from ..abi import Abi
    from ..chain.store import ContractRecord
    from ..exceptions import NotFoundError

    try:
        store.contract(REGISTRY_ADDRESS)
        return False
    except NotFoundError:
        pass
    code = registry_code()
    metadata = read_metadata(code)
    abi = Abi.from_json(metadata["abi"])
    with store.transaction():
        store.put_contract(ContractRecord(REGISTRY_ADDRESS, hashlib.sha256(code).digest(),
                                          abi.to_json(), metadata, bytes(20), 0), code)
    return True
