"""Hashes and address derivation shared by the chain and the VMs."""

from __future__ import annotations

from sha3 import keccak_256  # safe-pysha3: a C extension, ~3 ms to import, no C headers parsed

ADDRESS_LEN = 20


def keccak256(data: bytes) -> bytes:
    """Keccak-256 with the original padding (as ZVM and Ethereum use), not SHA3-256."""
    return keccak_256(data).digest()


def contract_address(deployer: bytes, nonce: int) -> bytes:
    """ZVM's CREATE rule: the last 20 bytes of keccak256(deployer ‖ nonce as u64 big-endian)."""
    return keccak256(deployer + nonce.to_bytes(8, "big"))[-ADDRESS_LEN:]
