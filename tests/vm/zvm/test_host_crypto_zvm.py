"""The crypto host functions on ZVM: a Zig contract lowered with `ghost build --target zvm`
agrees with its WebAssembly build, and HOSTCALL serves the wider rows at the same prices."""

from __future__ import annotations

import hashlib

import pytest
from zvm_helpers import run

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.crypto import schemes
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.gas import HOST_PRICES, SIG_VERIFY_PRICES
from ghost_cli.vm.zvm.opcodes import BY_NAME

HASHES_ZIG = '''const ghost = @import("ghost");
comptime { ghost.exportContract(@This()); }
var out: [32]u8 = undefined;
pub fn sha256(data: []const u8) []const u8 { out = ghost.crypto.sha256(data); return &out; }
pub fn keccak256(data: []const u8) []const u8 { out = ghost.crypto.keccak256(data); return &out; }
pub fn blake2b256(data: []const u8) []const u8 { out = ghost.crypto.blake2b256(data); return &out; }
'''


@pytest.mark.slow
def test_hashes_lowered_to_zvm_match_wasm(tmp_path):
    root = new_project("h", "counter", tmp_path / "h")
    (root / "src" / "hashes.zig").write_text(HASHES_ZIG)
    with open(root / "ghost.toml", "a") as f:
        f.write('\n[contracts.hashes]\nsource = "src/hashes.zig"\n')
    project = load_project(root)
    (wasm,) = build_project(project, ["hashes"], target="wasm")
    (zvm,) = build_project(project, ["hashes"], target="zvm")
    with Sandbox(tmp_path / "sb.db") as sb:
        sb.deploy(wasm.path.read_bytes(), name="w")
        sb.deploy(zvm.path.read_bytes(), name="z")
        for data in (b"", b"abc", bytes(range(200))):
            want = {"sha256": hashlib.sha256(data).digest(), "keccak256": keccak256(data),
                    "blake2b256": hashlib.blake2b(data, digest_size=32).digest()}
            for fn, digest in want.items():
                on = [sb.call(n, fn, [data], signer=sb.dev_keys[0]).result for n in "wz"]
                assert on == [digest, digest]


def _store(data: bytes, at: int) -> str:
    """Assembly writing `data` to memory at `at`, one MSTORE8 per byte."""
    return "".join(f"PUSH {b}\nPUSH {at + i}\nMSTORE8\n" for i, b in enumerate(data))


def _hc(name: str, *args: int) -> str:
    return "".join(f"PUSH {a}\n" for a in reversed(args)) + f"HOSTCALL {name}\n"


RET = "PUSH 0\nMSTORE\nPUSH 32\nPUSH 0\nRETURN\n"


@pytest.mark.parametrize("name", ["ed25519", "schnorr-secp256k1"])
def test_hostcall_sig_verify_valid_invalid_and_priced(name):
    scheme = schemes.get(name)
    sk, raw = scheme.keygen(bytes([3]) * 32)
    pk, msg = bytes([scheme.id]) + raw, b"zvm"
    sig = bytes([scheme.id]) + scheme.sign(sk, msg)
    mem = pk + msg + sig
    args = (0, len(pk), len(pk), len(msg), len(pk) + len(msg), len(sig))
    good = run(_store(mem, 0) + _hc("sig_verify", *args) + RET)
    assert int.from_bytes(good.return_data, "big") == 1
    bad = run(_store(mem[:-1] + bytes([mem[-1] ^ 1]), 0) + _hc("sig_verify", *args) + RET)
    assert int.from_bytes(bad.return_data, "big") == 0
    base = run(_store(mem, 0) + "".join(f"PUSH {a}\n" for a in args) + "POP\n" * 6
               + "PUSH 1\n" + RET)
    price = HOST_PRICES["sig_verify"].cost(len(mem)) + SIG_VERIFY_PRICES[name].cost(len(msg))
    hostcall = BY_NAME["HOSTCALL"].gas
    assert good.gas_used - base.gas_used == hostcall + price - 2 * 6 - 3  # vs 6 POPs, PUSH


def test_hostcall_malformed_signature_is_zero():
    r = run(_store(b"\x10\x00\x10", 0) + _hc("sig_verify", 0, 2, 0, 0, 1, 2) + RET)
    assert int.from_bytes(r.return_data, "big") == 0
