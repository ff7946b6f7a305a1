"""CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2.

A call handler charges its gas, expands memory for the argument and return ranges, and
either settles the call at once (pushing 0 or 1) or hands the driver a CallRequest; the
driver runs the callee's frame and pushes its result when the caller resumes.

The callee gets min(requested gas, all but 1/64 of what the caller has left). Calls fail
(push 0, no gas lost) beyond depth 1024, when they carry value (ghost has no native
balances, so every balance is 0), and when the host cannot resolve other contracts.
An address without code succeeds at once with empty return data.
CREATE and CREATE2 are not supported by the sandbox yet: they charge their gas and push 0.
"""

from __future__ import annotations

from ghost_cli.exceptions import TrapError

from ..interpreter import MAX_CALL_DEPTH, UNKNOWN, CallRequest, Frame, Message
from ._words import word_address
from .storage import require_writable

VALUE_TRANSFER_GAS = 9000
MAX_INIT_CODE = 49152


def _settle(f: Frame, ok: bool) -> None:
    f.returndata = b""
    f.stack.append(1 if ok else 0)


def _call(f: Frame, kind: str, gas: int, target_word: int, value: int, args_off: int,
          args_size: int, ret_off: int, ret_size: int) -> CallRequest | None:
    if value:
        if kind == "CALL":
            require_writable(f, "CALL with value")
        f.charge(VALUE_TRANSFER_GAS)
    f.expand(args_off, args_size)
    f.expand(ret_off, ret_size)
    if f.msg.depth + 1 > MAX_CALL_DEPTH or value:
        _settle(f, False)  # too deep, or a transfer no account can pay (all balances are 0)
        return None
    target = word_address(target_word)
    code = f.tx.host.code_at(target)
    if code is UNKNOWN:
        _settle(f, False)
        return None
    if code is None:
        _settle(f, True)
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


def _create(f: Frame, name: str, offset: int, size: int) -> None:
    require_writable(f, name)
    if size > MAX_INIT_CODE:
        raise TrapError(
            f"{name} at pc {f.pc_of_op()}: init code of {size} bytes exceeds {MAX_INIT_CODE}")
    f.expand(offset, size)
    _settle(f, False)  # not supported by the sandbox yet: no contract is created


def create(f: Frame) -> None:
    s = f.stack
    _value, offset, size = s.pop(), s.pop(), s.pop()
    _create(f, "CREATE", offset, size)


def create2(f: Frame) -> None:
    s = f.stack
    _value, offset, size, _salt = s.pop(), s.pop(), s.pop(), s.pop()
    _create(f, "CREATE2", offset, size)
