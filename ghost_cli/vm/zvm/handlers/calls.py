"""CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2.

A call handler charges its gas, expands memory for the argument and return ranges, and
either settles the call at once (pushing 0 or 1) or hands the driver a CallRequest; the
driver runs the callee's frame and pushes its result when the caller resumes.

The callee gets min(requested gas, all but 1/64 of what the caller has left). Calls fail
(push 0; the callee is given no gas, the caller keeps what it has not been charged) beyond
depth 1024, when they carry value (ghost has no native balances, so every balance is 0;
the +9000 surcharge is still charged), and when the host cannot resolve other contracts.
Memory for both ranges is checked against the limit and charged before the surcharge.
An address without code succeeds at once with empty return data. A WebAssembly contract
is run by the host's other engine, synchronously: it cannot call back (docs/zvm.md).

CREATE and CREATE2 bump the creator's nonce, derive the address (ZVM.md's rules), and run
the init code as the new contract with all but 1/64 of the gas; the driver deploys its
RETURN data (interpreter.Interpreter._deploy).
"""

from __future__ import annotations

from functools import lru_cache

from ghost_cli.crypto.hashing import contract_address, keccak256
from ghost_cli.exceptions import GhostError, RevertError, TrapError

from ..interpreter import (
    MAX_CALL_DEPTH,
    UNKNOWN,
    CallRequest,
    Code,
    ForeignCode,
    Frame,
    Message,
)
from ._words import word_address
from .storage import require_writable

VALUE_TRANSFER_GAS = 9000
MAX_INIT_CODE = 49152
MAX_NONCE = 2**64 - 1  # the nonce is a u64 in the CREATE address (EIP-2681's bound)


def _settle(f: Frame, ok: bool) -> None:
    f.returndata = b""
    f.stack.append(1 if ok else 0)


def _call(f: Frame, kind: str, gas: int, target_word: int, value: int, args_off: int,
          args_size: int, ret_off: int, ret_size: int) -> CallRequest | None:
    if value and kind == "CALL":
        require_writable(f, "CALL with value")
    f.expand_ranges(((args_off, args_size), (ret_off, ret_size)))  # the limit before gas
    if value:
        f.charge(VALUE_TRANSFER_GAS)
    if f.msg.depth + 1 > MAX_CALL_DEPTH or value:
        _settle(f, False)  # too deep, or a transfer no account can pay (all balances are 0)
        return None
    target = word_address(target_word)
    code = f.code_at(target)
    if code is UNKNOWN:
        _settle(f, False)
        return None
    if code is None:
        _settle(f, True)
        return None
    if isinstance(code, ForeignCode):
        _call_foreign(f, kind, code, target, gas, args_off, args_size, ret_off, ret_size)
        return None
    child_gas = min(gas, f.gas - f.gas // 64)
    f.gas -= child_gas
    args = bytes(f.memory[args_off:args_off + args_size]) if args_size else b""
    me = f.msg
    if kind == "CALL":
        msg = Message(code, target, me.address, args, child_gas, value, me.depth + 1,
                      me.static, target)
    elif kind == "CALLCODE":
        msg = Message(code, me.address, me.address, args, child_gas, value, me.depth + 1,
                      me.static, target)
    elif kind == "DELEGATECALL":
        msg = Message(code, me.address, me.caller, args, child_gas, me.value, me.depth + 1,
                      me.static, target)
    else:  # STATICCALL
        msg = Message(code, target, me.address, args, child_gas, 0, me.depth + 1, True, target)
    return CallRequest(msg, ret_off, ret_size)


def _call_foreign(f: Frame, kind: str, code: ForeignCode, target: bytes, gas: int,
                  args_off: int, args_size: int, ret_off: int, ret_size: int) -> None:
    """CALL or STATICCALL into a WebAssembly contract, run to completion by the host; its
    writes, events and logs join the journal, so the caller's own revert undoes them."""
    if kind in ("CALLCODE", "DELEGATECALL"):
        # WebAssembly code keeps its storage in its own key layout: running it on the
        # caller's storage would be meaningless, so these fail cleanly.
        _settle(f, False)
        return
    child_gas = min(gas, f.gas - f.gas // 64)
    f.gas -= child_gas
    args = bytes(f.memory[args_off:args_off + args_size]) if args_size else b""
    state = f.state
    static = f.msg.static or kind == "STATICCALL"
    try:
        out = f.tx.host.run_foreign(code.raw, args, f.msg.address, target, child_gas,
                                    lambda key: state.get(target, key))
    except RevertError as exc:
        ok, output, left = False, exc.reason.encode(), max(0, child_gas - exc.gas_used)
    except GhostError:
        ok, output, left = False, b"", 0  # any other failure burns the callee's gas
    else:
        if static and (out.writes or out.events):
            ok, output, left = False, b"", 0  # a state change under STATICCALL
        else:
            for key, value in out.writes.items():
                state.set(target, key, value)
            state.events.extend(out.events)
            state.logs.extend(out.logs)
            ok, output, left = True, out.return_data, max(0, child_gas - out.gas_used)
    f.gas += left
    f.returndata = output
    if ret_size and output:
        n = min(ret_size, len(output))
        f.memory[ret_off:ret_off + n] = output[:n]
    f.stack.append(1 if ok else 0)


def call(f: Frame) -> CallRequest | None:
    s = f.stack
    return _call(f, "CALL", *(s.pop() for _ in range(7)))


def callcode(f: Frame) -> CallRequest | None:
    s = f.stack
    return _call(f, "CALLCODE", *(s.pop() for _ in range(7)))


def delegatecall(f: Frame) -> CallRequest | None:
    s = f.stack
    gas, target, *ranges = (s.pop() for _ in range(6))
    return _call(f, "DELEGATECALL", gas, target, 0, *ranges)


def staticcall(f: Frame) -> CallRequest | None:
    s = f.stack
    gas, target, *ranges = (s.pop() for _ in range(6))
    return _call(f, "STATICCALL", gas, target, 0, *ranges)


def _create(f: Frame, name: str, value: int, offset: int, size: int,
            salt: int | None) -> CallRequest | None:
    require_writable(f, name)
    if size > MAX_INIT_CODE:
        raise TrapError(
            f"{name} at pc {f.pc_of_op()}: init code of {size} bytes exceeds {MAX_INIT_CODE}")
    f.expand(offset, size)
    sender = f.msg.address
    nonce = f.nonce(sender)
    # Too deep, a value no account can pay, no view of the chain to check the address
    # is free, or an exhausted nonce: fail before anything changes (EVM order).
    if f.msg.depth + 1 > MAX_CALL_DEPTH or value or nonce is UNKNOWN or nonce >= MAX_NONCE:
        _settle(f, False)
        return None
    init = bytes(f.memory[offset:offset + size]) if size else b""
    if salt is None:
        address = contract_address(sender, nonce)
    else:
        address = keccak256(b"\xff" + sender + salt.to_bytes(32, "big") + keccak256(init))[-20:]
    f.state.set_nonce(sender, nonce + 1)  # kept even when the creation fails
    child_gas = f.gas - f.gas // 64
    f.gas -= child_gas
    if f.code_at(address) is not None or f.nonce(address) != 0:
        _settle(f, False)  # the address is taken: the EVM burns the gas it would have given
        return None
    msg = Message(_init_code(init), address, sender, b"", child_gas, 0, f.msg.depth + 1,
                  False, address)
    return CallRequest(msg, 0, 0, create=address)


@lru_cache(maxsize=16)
def _init_code(init: bytes) -> Code:
    """Init code with its JUMPDESTs found once: a loop of CREATEs of one 48 KiB init
    code scanned it every time, 3 ms each for 32,000 gas."""
    return Code.of(init)


def create(f: Frame) -> CallRequest | None:
    s = f.stack
    value, offset, size = s.pop(), s.pop(), s.pop()
    return _create(f, "CREATE", value, offset, size, None)


def create2(f: Frame) -> CallRequest | None:
    s = f.stack
    value, offset, size, salt = s.pop(), s.pop(), s.pop(), s.pop()
    return _create(f, "CREATE2", value, offset, size, salt)
