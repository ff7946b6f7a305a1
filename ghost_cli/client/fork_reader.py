"""The node side of a fork (chain/fork.py's `RemoteState`) over the JSON-RPC client:
`ghost_getStateRoot`, `ghost_getProof` at a height, `ghost_getContract`, `ghost_getCode`
and `ghost_getAccount` (docs/rpc.md). It only fetches; the fork checks what it gets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..chain.store.records import ContractRecord
from ..crypto.proof import Proof
from ..exceptions import (
    ConfigError,
    CryptoError,
    HeightUnavailableError,
    NotFoundError,
    UsageError,
)
from .answers import malformed_as
from .rpc_client import SyncGhostClient

if TYPE_CHECKING:
    from ..chain.fork import ForkStore
    from ..config.project import NetworkConfig


def _raw(text: str) -> bytes:
    return bytes.fromhex(text[2:])


#: An answer without the fields read, or with values of the wrong types, is a CryptoError
#: (what the fork reports for a value that does not verify), not a crash.
_checked = malformed_as(CryptoError, lambda self: self.location)


class RpcForkReader:
    def __init__(self, client: SyncGhostClient, *, name: str | None = None) -> None:
        self.client = client
        self.location = name or client.url

    def close(self) -> None:
        self.client.close()

    @_checked
    def state_root(self, height: int | None) -> tuple[int, bytes]:
        doc = self.client.get_state_root(height)
        return doc["height"], _raw(doc["state_root"])

    @_checked
    def contract(self, *, address: bytes | None = None,
                 name: str | None = None) -> ContractRecord | None:
        try:
            doc = self.client.get_contract(address=address, name=name)
        except HeightUnavailableError:
            raise
        except NotFoundError:
            return None
        from ..abi import parse_address

        return ContractRecord(parse_address(doc["address"]), _raw(doc["code_hash"]),
                              doc["abi"], doc["metadata"], parse_address(doc["deployer"]),
                              doc["height"])

    def code(self, code_hash: bytes) -> bytes:
        return self.client.get_code(code_hash)

    @_checked
    def storage(self, address: bytes, key: bytes, height: int) -> tuple[bytes | None, Proof]:
        doc = self.client.get_proof(address, key, height)
        value = None if doc["value"] is None else _raw(doc["value"])
        return value, Proof.from_json(doc["proof"])

    @_checked
    def nonce(self, address: bytes) -> int:
        return self.client.get_account(address)["nonce"]


def fork_network(ref: str, networks: dict[str, NetworkConfig] | None) -> NetworkConfig:
    """What `--fork REF` names: a network of ghost.toml, or a node's URL
    (http://HOST:PORT or quic://HOST:PORT; its chain id is then the node's own)."""
    from ..config.project import NetworkConfig
    from ..exceptions import NotFoundError

    if "://" in ref:
        return NetworkConfig(ref, "node", None, url=ref)  # type: ignore[arg-type]
    if networks is None or ref not in networks:
        known = ", ".join(sorted(networks or {})) or "none: not in a project"
        raise NotFoundError(f"no network {ref!r} in ghost.toml (networks: {known}); "
                            "--fork also takes a node URL")
    config = networks[ref]
    if config.kind != "node":
        raise UsageError(f"network {ref!r} is an embedded sandbox; --fork takes a node "
                         "network (`ghost network add`) or a node URL")
    return config


def parse_root(text: str | None) -> bytes | None:
    """`--fork-root 0x…`: a 32-byte state root, or None."""
    if text is None:
        return None
    try:
        raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(f"--fork-root must be a 32-byte state root in hex, not {text!r}")
    return raw


def open_fork(config: NetworkConfig, *, height: int | None = None,
              overlay: str | Path = ":memory:", transport: str | None = None,
              trusted_root: bytes | None = None) -> ForkStore:
    """A fork (chain/fork.py) of the node network `config` at `height` (default its
    latest block), writing to the SQLite store `overlay`."""
    from ..chain.fork import ForkStore
    from ..chain.store import open_store
    from .remote import node_url

    url, kind = node_url(config, transport)
    reader = RpcForkReader(SyncGhostClient(url, ca=config.ca, transport=kind),
                           name=f"network {config.name!r} ({url})")
    try:
        node_chain = reader.client.node_info()["chain_id"]
        if config.chain_id is not None and node_chain != config.chain_id:
            raise ConfigError(f"network {config.name!r} is chain {config.chain_id} in "
                              f"ghost.toml, but the node at {url} runs chain {node_chain}")
        return ForkStore.open(open_store(overlay), reader, height=height,
                              trusted_root=trusted_root, chain_id=node_chain)
    except BaseException:
        reader.close()
        raise
