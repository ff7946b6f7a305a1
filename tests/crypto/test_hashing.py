"""Keccak-256 (safe-pysha3) against known vectors and pycryptodome's implementation."""

import os

from Crypto.Hash import keccak

from ghost_cli.crypto.hashing import contract_address, keccak256


def test_known_vectors():
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")


def test_agrees_with_pycryptodome_across_block_boundaries():
    for n in (1, 31, 32, 135, 136, 137, 271, 272, 273, 4096):
        data = os.urandom(n)
        assert keccak256(data) == keccak.new(data=data, digest_bits=256).digest()


def test_contract_address_is_the_last_20_bytes():
    deployer = bytes(range(20))
    assert contract_address(deployer, 7) == keccak256(deployer + (7).to_bytes(8, "big"))[-20:]
