"""KECCAK256, SHA256, RIPEMD160, BLAKE2B over a memory range, and TABLEHASH.

ZVM v1.0.0 prices only KECCAK256 per word; ghost charges the other hashes per word too
(SHA256 and RIPEMD160 at the EVM precompile rates, BLAKE2B like KECCAK256), or hashing the
same megabyte again and again would cost a flat 30..600 gas (docs/zvm.md).
"""

from __future__ import annotations

import hashlib

from Crypto.Hash import RIPEMD160, keccak

from ..interpreter import Frame
from ._words import word_bytes, words

KECCAK_WORD_GAS = 6
SHA256_WORD_GAS = 12
RIPEMD160_WORD_GAS = 120
BLAKE2B_WORD_GAS = 6


def _range(f: Frame, per_word: int) -> bytes:
    s = f.stack
    offset, size = s.pop(), s.pop()
    return f.mread(offset, size, per_word * words(size))  # the memory limit before gas


def keccak256(f: Frame) -> None:
    data = _range(f, KECCAK_WORD_GAS)
    f.stack.append(int.from_bytes(keccak.new(data=data, digest_bits=256).digest(), "big"))


def sha256(f: Frame) -> None:
    data = _range(f, SHA256_WORD_GAS)
    f.stack.append(int.from_bytes(hashlib.sha256(data).digest(), "big"))


def ripemd160(f: Frame) -> None:
    # The 20-byte digest in the low bytes of the word, as the EVM precompile returns it.
    data = _range(f, RIPEMD160_WORD_GAS)
    f.stack.append(int.from_bytes(RIPEMD160.new(data).digest(), "big"))


def blake2b(f: Frame) -> None:
    # BLAKE2b with a 32-byte digest (BLAKE2b-256): a word holds 32 bytes.
    data = _range(f, BLAKE2B_WORD_GAS)
    f.stack.append(int.from_bytes(hashlib.blake2b(data, digest_size=32).digest(), "big"))


def tablehash(f: Frame) -> None:
    s = f.stack
    key, slot = s.pop(), s.pop()
    digest = keccak.new(data=word_bytes(slot) + word_bytes(key), digest_bits=256).digest()
    s.append(int.from_bytes(digest, "big"))
