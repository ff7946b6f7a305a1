"""The node side of a fork (chain/fork.py's `RemoteState`) over the JSON-RPC client:
`ghost_getStateRoot`, `ghost_getProof` at a height, `ghost_getContract`, `ghost_getCode`
and `ghost_getAccount` (docs/rpc.md). It only fetches; the fork checks what it gets."""

from __future__ import annotations

from ..chain.store.records import ContractRecord
from ..crypto.proof import Proof
from ..exceptions import HeightUnavailableError, NotFoundError
from .rpc_client import SyncGhostClient


def _raw(text: str) -> bytes:
    return bytes.fromhex(text[2:])


class RpcForkReader:
    def __init__(self, client: SyncGhostClient, *, name: str | None = None) -> None:
        self.client = client
        self.location = name or client.url

    def close(self) -> None:
        self.client.close()

    def state_root(self, height: int | None) -> tuple[int, bytes]:
        doc = self.client.get_state_root(height)
        return doc["height"], _raw(doc["state_root"])

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

    def storage(self, address: bytes, key: bytes, height: int) -> tuple[bytes | None, Proof]:
        doc = self.client.get_proof(address, key, height)
        value = None if doc["value"] is None else _raw(doc["value"])
        return value, Proof.from_json(doc["proof"])

    def nonce(self, address: bytes) -> int:
        return self.client.get_account(address)["nonce"]
