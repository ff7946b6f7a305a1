"""SLOAD, SSTORE, TLOAD, TSTORE.

Native storage is the contract's one storage (the same the HOSTCALL storage_* functions
use): word key k lives under its 32-byte big-endian encoding, a value is stored as 32
bytes, an absent key reads 0 and storing 0 deletes. A value written through the host ABI
with another length reads as the big-endian integer of its last 32 bytes.
"""

from __future__ import annotations

from ghost_cli.exceptions import StaticCallViolationError

from ..interpreter import Frame

SLOAD_COLD = 2100
SLOAD_WARM = 100
SSTORE_UNCHANGED = 100
SSTORE_SET = 20000
SSTORE_CLEAR = 2900
SSTORE_CLEAR_REFUND = 15000
SSTORE_COLD = 2200
SSTORE_WARM = 100


def require_writable(f: Frame, what: str) -> None:
    if f.msg.static:
        raise StaticCallViolationError(
            f"{what} at pc {f.pc_of_op()} inside STATICCALL: state changes are not allowed")


def _word(value: bytes | None) -> int:
    return 0 if value is None else int.from_bytes(value[-32:], "big")


def sload(f: Frame) -> None:
    s = f.stack
    key = s[-1].to_bytes(32, "big")
    address = f.msg.address
    f.charge(SLOAD_WARM if f.state.warm_up(address, key) else SLOAD_COLD)
    s[-1] = _word(f.state.get(address, key))


def sstore(f: Frame) -> None:
    require_writable(f, "SSTORE")
    s = f.stack
    key, value = s.pop().to_bytes(32, "big"), s.pop()
    address = f.msg.address
    state = f.state
    current = _word(state.get(address, key))
    warm = state.warm_up(address, key)
    if value == current:
        f.charge(SSTORE_UNCHANGED)
        return
    if current == 0:
        f.charge(SSTORE_SET)
    elif value == 0:
        f.charge(SSTORE_CLEAR)
        state.add_refund(SSTORE_CLEAR_REFUND)
    else:
        f.charge(SSTORE_WARM if warm else SSTORE_COLD)
    state.set(address, key, value.to_bytes(32, "big") if value else None)


def tload(f: Frame) -> None:
    s = f.stack
    s[-1] = f.state.tget(f.msg.address, s[-1])


def tstore(f: Frame) -> None:
    require_writable(f, "TSTORE")
    s = f.stack
    key, value = s.pop(), s.pop()
    f.state.tset(f.msg.address, key, value)
