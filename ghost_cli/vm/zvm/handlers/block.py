"""BLOCKHASH..BASEFEE: facts about the block, from the call's context.

ghost's executor hands the VM the height, time and chain id; block hashes, the coinbase,
randomness, balances and fees are not part of a ghost block yet and read 0 (docs/zvm.md).
"""

from __future__ import annotations

from ..interpreter import Frame

_U64 = (1 << 64) - 1


def blockhash(f: Frame) -> None:
    f.stack[-1] = 0


def coinbase(f: Frame) -> None:
    f.stack.append(0)


def timestamp(f: Frame) -> None:
    f.stack.append(f.tx.block_time & _U64)


def number(f: Frame) -> None:
    f.stack.append(f.tx.block_height & _U64)


def difficulty(f: Frame) -> None:
    f.stack.append(0)


def prevrandao(f: Frame) -> None:
    f.stack.append(0)


def gaslimit(f: Frame) -> None:
    f.stack.append(f.tx.gas_limit)


def chainid(f: Frame) -> None:
    f.stack.append(f.tx.chain_id & _U64)


def selfbalance(f: Frame) -> None:
    f.stack.append(0)


def basefee(f: Frame) -> None:
    f.stack.append(0)
