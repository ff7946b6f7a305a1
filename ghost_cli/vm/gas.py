"""The gas schedule, as data: one unit for WebAssembly fuel and host-call prices.

WebAssembly instructions cost wasmtime fuel (one unit per instruction, as wasmtime
counts it); a host call costs `base + per_byte * n`, where n is the bytes it moves
(key + value for storage, data for events, and so on). The same schedule gives the
same gas for the same call on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    base: int
    per_byte: int = 0

    def cost(self, nbytes: int = 0) -> int:
        return self.base + self.per_byte * nbytes


#: Host-call prices by host function name (vm/host_table.py).
HOST_PRICES: dict[str, Price] = {
    "storage_read": Price(800, 3),
    "storage_write": Price(5000, 30),
    "storage_delete": Price(2500, 3),
    "storage_has": Price(600, 3),
    "input_size": Price(10),
    "input_copy": Price(20, 1),
    "set_return": Price(20, 1),
    "revert": Price(0, 1),
    "emit_event": Price(375, 8),
    "caller": Price(20),
    "self_address": Price(20),
    "block_height": Price(10),
    "block_time": Price(10),
    "chain_id": Price(10),
    "gas_left": Price(10),
    "debug_log": Price(50, 1),
}

#: Charged once per transaction before the contract runs.
TX_BASE = 21_000
#: Deploying: per byte of module code stored.
DEPLOY_PER_BYTE = 200

DEFAULT_GAS_LIMIT = 10_000_000
