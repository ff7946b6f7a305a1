"""Run ZVM assembly on the engine, in-process, for the ZVM tests."""

from __future__ import annotations

import json

from ghost_cli.vm.types import CallContext, Limits
from ghost_cli.vm.zvm import assemble, encode_zvmc
from ghost_cli.vm.zvm.engine import ZvmEngine, ZvmRun

CALLER = bytes.fromhex("11" * 20)
SELF = bytes.fromhex("22" * 20)
OTHER = bytes.fromhex("33" * 20)
GAS = 10_000_000
RETURN_TOP = "\nPUSH 0\nMSTORE\nPUSH 32\nPUSH 0\nRETURN\n"


def zvmc(src: str | bytes, metadata: dict | None = None) -> bytes:
    code = assemble(src) if isinstance(src, str) else src
    return encode_zvmc(code, json.dumps(metadata).encode() if metadata else b"")


def run(src: str | bytes, *, data: bytes = b"", gas: int = GAS, storage: dict | None = None,
        engine: ZvmEngine | None = None, limits: Limits | None = None,
        address: bytes = SELF, trace=None) -> ZvmRun:
    """Run `src` with raw call data `data` (no selector added)."""
    engine = engine or ZvmEngine(limits or Limits())
    blob = zvmc(src)
    contract = engine.load(blob)
    store = storage or {}
    ctx = CallContext(CALLER, address, b"", gas, block_height=7, block_time=1_700_000_000,
                      chain_id=1337)
    return engine.run_message(contract, blob, data, ctx, store.get, trace)


def top(src: str, **kw) -> int:
    """The word on top of the stack when `src` ends."""
    return int.from_bytes(run(src + RETURN_TOP, **kw).return_data, "big")


def gas_of(src: str, **kw) -> int:
    return run(src, **kw).gas_used
