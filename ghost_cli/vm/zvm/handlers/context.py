"""ADDRESS..EXTCODEHASH: the frame's identity, call data, code and return data.

ghost has no native currency yet: BALANCE and CALLVALUE read 0 (docs/zvm.md).
Other contracts' code is seen through the frame (contracts created in this transaction)
and the engine's CallHost; without a view of the chain only the running contract is
visible and other addresses read as accounts without code.
"""

from __future__ import annotations

from ghost_cli.exceptions import TrapError

from ..interpreter import UNKNOWN, Frame
from ._words import address_word, word_address, words

COPY_WORD_GAS = 3


def address(f: Frame) -> None:
    f.stack.append(address_word(f.msg.address))


def balance(f: Frame) -> None:
    f.stack[-1] = 0


def origin(f: Frame) -> None:
    f.stack.append(address_word(f.tx.origin))


def caller(f: Frame) -> None:
    f.stack.append(address_word(f.msg.caller))


def callvalue(f: Frame) -> None:
    f.stack.append(f.msg.value)


def calldataload(f: Frame) -> None:
    s = f.stack
    offset = s[-1]
    data = f.msg.data
    s[-1] = int.from_bytes(data[offset:offset + 32].ljust(32, b"\0"), "big") \
        if offset < len(data) else 0


def calldatasize(f: Frame) -> None:
    f.stack.append(len(f.msg.data))


def _copy(f: Frame, source: bytes, dest: int, start: int, size: int) -> None:
    """Memory [dest, dest+size) = source[start:start+size], zero-padded past its end. The
    memory limit and expansion come first, then the per-word gas: nothing the size of the
    copy is built before the limit bounds it."""
    if not size:
        return
    f.expand(dest, size)
    f.charge(COPY_WORD_GAS * words(size))
    chunk = source[start:start + size] if start < len(source) else b""
    n = len(chunk)
    memory = f.memory
    memory[dest:dest + n] = chunk
    if n < size:
        memory[dest + n:dest + size] = bytes(size - n)


def calldatacopy(f: Frame) -> None:
    s = f.stack
    dest, start, size = s.pop(), s.pop(), s.pop()
    _copy(f, f.msg.data, dest, start, size)


def codesize(f: Frame) -> None:
    f.stack.append(len(f.code))


def codecopy(f: Frame) -> None:
    s = f.stack
    dest, start, size = s.pop(), s.pop(), s.pop()
    _copy(f, f.code, dest, start, size)


def gasprice(f: Frame) -> None:
    f.stack.append(0)  # no fee market in ghost yet


def _stored(f: Frame, word: int) -> bytes:
    found = f.stored_code(word_address(word))
    return b"" if found is None or found is UNKNOWN else found


def extcodesize(f: Frame) -> None:
    f.stack[-1] = len(_stored(f, f.stack[-1]))


def extcodecopy(f: Frame) -> None:
    s = f.stack
    addr, dest, start, size = s.pop(), s.pop(), s.pop(), s.pop()
    _copy(f, _stored(f, addr), dest, start, size)


def extcodehash(f: Frame) -> None:
    from ghost_cli.crypto.hashing import keccak256

    code = _stored(f, f.stack[-1])
    if not code:
        f.stack[-1] = 0
        return
    hashes = f.tx.code_hashes
    digest = hashes.get(code)
    if digest is None:
        digest = hashes[code] = int.from_bytes(keccak256(code), "big")
    f.stack[-1] = digest


def returndatasize(f: Frame) -> None:
    f.stack.append(len(f.returndata))


def returndatacopy(f: Frame) -> None:
    s = f.stack
    dest, start, size = s.pop(), s.pop(), s.pop()
    if start + size > len(f.returndata):
        raise TrapError(
            f"RETURNDATACOPY at pc {f.pc_of_op()}: [{start}, {start + size}) is past the "
            f"{len(f.returndata)} bytes of return data")
    _copy(f, f.returndata, dest, start, size)
