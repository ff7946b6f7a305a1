"""Crypto and state-proof host functions through a real Zig contract (tests/vm/crypto_probe.zig)
built by ghost's toolchain for both targets (the ZVM build lowers the calls of five to
eight parameters through spill slots) and run in the sandbox, plus exact prices through
the shared code."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.crypto import schemes
from ghost_cli.crypto.aggregate import aggregate, prove_possession
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.crypto.kem import ML_KEM_768
from ghost_cli.crypto.multisig import MultisigAccount
from ghost_cli.exceptions import ExecutionError, HostMemoryError, OutOfGasError, TrapError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm import host_calls, host_services
from ghost_cli.vm.gas import HOST_PRICES, KEYGEN_PRICES, SIG_VERIFY_PRICES

pytestmark = pytest.mark.slow
PROBE = Path(__file__).with_name("crypto_probe.zig")
MSG = b"ghost host crypto"


@pytest.fixture(scope="module", params=["wasm", "zvm"])
def target(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def probe_code(tmp_path_factory, target) -> bytes:
    root = new_project("probe", "counter", tmp_path_factory.mktemp("crypto") / "probe")
    (root / "src" / "crypto_probe.zig").write_text(PROBE.read_text())
    with open(root / "ghost.toml", "a") as f:
        f.write('\n[contracts.crypto_probe]\nsource = "src/crypto_probe.zig"\n')
    (result,) = build_project(load_project(root), ["crypto_probe"], target=target)
    return result.path.read_bytes()


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[bytes, bytes]]:
    """(secret key, encoded public key) per scheme, made once: SLH-DSA signing is slow."""
    out = {}
    for name, scheme in schemes.SCHEMES.items():
        sk, pk = scheme.keygen()
        out[name] = (sk, bytes([scheme.id]) + pk)
    return out


def _sign(name: str, sk: bytes, msg: bytes) -> bytes:
    scheme = schemes.get(name)
    return bytes([scheme.id]) + scheme.sign(sk, msg)


@pytest.fixture(scope="module")
def chain(probe_code, tmp_path_factory):
    with Sandbox(tmp_path_factory.mktemp("sb") / "sb.db") as sb:
        sb.deploy(probe_code, name="probe", gas_limit=100_000_000)  # ZVM: 91 KB

        def call(function: str, *args):
            return sb.call("probe", function, list(args), signer=sb.dev_keys[0])

        yield call


def test_hashes_match_the_reference_and_zig_std(chain):
    for data in (b"", b"abc", bytes(range(256)) * 5):
        want = {"sha256": hashlib.sha256(data).digest(), "keccak256": keccak256(data),
                "blake2b256": hashlib.blake2b(data, digest_size=32).digest()}
        for name, digest in want.items():
            assert chain(name, data).result == digest
            assert chain(name + "InContract", data).result == digest


@pytest.mark.parametrize("name", list(schemes.SCHEMES))
def test_sig_verify_every_scheme_valid_and_invalid(chain, keys, name):
    sk, pk = keys[name]
    sig = _sign(name, sk, MSG)
    assert chain("verify", pk, MSG, sig).result is True
    assert chain("verify", pk, MSG + b"!", sig).result is False
    flipped = sig[:-1] + bytes([sig[-1] ^ 1])
    assert chain("verify", pk, MSG, flipped).result is False
    other = keys["ed25519" if name != "ed25519" else "ml-dsa-44"][1]
    assert chain("verify", other, MSG, sig).result is False  # another scheme's key


@pytest.mark.parametrize("pk,sig", [
    (b"", b""), (b"\x10", b"\x10"), (b"\xff" * 33, b"\xff" * 65), (b"\x02" + bytes(10), b"\x02"),
    (b"\x12" + bytes(48), b"\x12" + bytes(96)), (b"\x11" + bytes(32), b"\x11" + bytes(64)),
])
def test_sig_verify_malformed_is_zero_not_a_trap(chain, pk, sig):
    assert chain("verify", pk, MSG, sig).result is False


def test_multisig_mixed_schemes_threshold_duplicates_non_members(chain, keys):
    names = ["ml-dsa-44", "ed25519", "schnorr-secp256k1"]
    account = MultisigAccount(2, tuple(keys[n][1] for n in names))
    desc = account.to_bytes()

    def entry(name: str, index: int | None = None, msg: bytes = MSG) -> bytes:
        sig = _sign(name, keys[name][0], msg)
        i = account.member_index(keys[name][1]) if index is None else index
        return bytes([i]) + len(sig).to_bytes(2, "big") + sig

    def sigs(*entries: bytes) -> bytes:
        return bytes([len(entries)]) + b"".join(entries)

    ok = sigs(entry("ml-dsa-44"), entry("schnorr-secp256k1"))
    assert chain("multisigVerify", desc, MSG, ok).result is True
    assert chain("multisigVerify", desc, MSG, sigs(entry("ed25519"))).result is False
    dup = entry("ed25519")
    assert chain("multisigVerify", desc, MSG, sigs(dup, dup)).result is False
    assert chain("multisigVerify", desc, MSG, sigs(entry("ed25519"), entry("ml-dsa-44", 7)))\
        .result is False
    bad = sigs(entry("ed25519"), entry("ml-dsa-44", msg=b"other"))
    assert chain("multisigVerify", desc, MSG, bad).result is False
    assert chain("multisigVerify", desc, MSG, ok + b"\0").result is False  # trailing byte
    assert chain("multisigVerify", desc[:-1], MSG, ok).result is False
    assert chain("multisigVerify", b"", MSG, b"").result is False


def test_bls_aggregate_needs_every_proof_of_possession(chain):
    bls = schemes.get("bls12-381")
    pairs = [bls.keygen(bytes([i]) * 32) for i in range(1, 4)]
    pks = b"".join(pk for _, pk in pairs)
    pops = b"".join(prove_possession(sk) for sk, _ in pairs)
    agg = aggregate([bls.sign(sk, MSG) for sk, _ in pairs])
    assert chain("blsAggregateVerify", pks, pops, MSG, agg).result is True
    assert chain("blsAggregateVerify", pks, pops, MSG + b"!", agg).result is False
    assert chain("blsAggregateVerify", pks, pops[:-96] + pops[:96], MSG, agg).result is False
    assert chain("blsAggregateVerify", pks, pops[:-96], MSG, agg).result is False
    assert chain("blsAggregateVerify", pks[:-1], pops, MSG, agg).result is False
    assert chain("blsAggregateVerify", b"", b"", MSG, agg).result is False
    assert chain("blsAggregateVerify", pks, pops, MSG, bytes(96)).result is False


def test_kem_encapsulate_is_deterministic_and_decapsulates(chain):
    sk, pk = ML_KEM_768.keygen()
    seed = bytes(range(32))
    out = chain("kemEncapsulate", pk, seed).result
    assert chain("kemEncapsulate", pk, seed).result == out
    ct, ss = out[:1088], out[1088:]
    assert ML_KEM_768.decaps(sk, ct) == ss
    assert chain("kemDecapsulate", sk, ct).result == ss
    ct2, ss2 = ML_KEM_768.encaps(pk)  # cryptography's own, random encapsulation
    assert chain("kemDecapsulate", sk, ct2).result == ss2
    from ghost_cli.exceptions import RevertError
    with pytest.raises(RevertError, match="MalformedKemInput"):
        chain("kemDecapsulate", sk[:-1], ct)
    with pytest.raises(RevertError, match="MalformedKemKey"):
        chain("kemEncapsulate", pk[:-1], seed)


@pytest.mark.parametrize("name", list(schemes.SCHEMES))
def test_keygen_seeded(chain, name):
    scheme = schemes.get(name)
    seed = bytes([7]) * 32
    if name in KEYGEN_PRICES:
        assert chain("keygenSeeded", scheme.id, seed).result == \
            bytes([scheme.id]) + scheme.keygen(seed)[1]
    else:
        from ghost_cli.exceptions import RevertError
        with pytest.raises(RevertError, match="NoSeededKeygen"):
            chain("keygenSeeded", scheme.id, seed)


def test_merkle_verify_present_and_absent(chain, tmp_path):
    from ghost_cli.crypto.proof import Leaf, Proof, leaf_hash, state_path
    address, key, value = b"\x22" * 20, b"count", b"\x05"
    path = state_path(address, key)
    root = leaf_hash(path, keccak256(value))  # a tree holding this one key
    proof = Proof((), Leaf(path, keccak256(value))).to_bytes()
    assert chain("merkleVerify", root, address, key, value, proof).result is True
    assert chain("merkleVerify", root, address, key, b"\x06", proof).result is False
    assert chain("merkleVerifyAbsent", root, address, key, proof).result is False
    assert chain("merkleVerifyAbsent", root, address, b"other", proof).result is True
    assert chain("merkleVerify", root, address, key, value, b"\x07junk").result is False


def test_out_of_bounds_pointer_and_oversize_input(chain, target):
    if target == "wasm":
        with pytest.raises(HostMemoryError):
            chain("outOfBounds", 0x10_0000)
        with pytest.raises(TrapError, match="message of 2147483647 bytes exceeds"):
            chain("tooLong")
        return
    # ZVM: the lowered code checks every range before the HOSTCALL, so a range past the
    # end of memory (here the 2 GiB message too) traps there (docs/zvm-lowering.md)
    for function, args in (("outOfBounds", [0x10_0000]), ("tooLong", [])):
        with pytest.raises(ExecutionError) as info:
            chain(function, *args)
        assert info.value.code == "invalid_opcode", function


# ---- exact prices, through the code both engines share ------------------------------


class _Access:
    """A HostAccess over a bytearray, recording what it was charged."""

    def __init__(self, name: str, memory: bytes, gas: int = 10**9) -> None:
        self.name, self.memory, self.gas, self.charged = name, bytearray(memory), gas, 0

    def read(self, ptr, n):
        if ptr + n > len(self.memory):
            raise HostMemoryError("out of bounds")
        return bytes(self.memory[ptr:ptr + n])

    def reserve(self, ptr, n):
        self.read(ptr, n)

    def write(self, ptr, data):
        self.reserve(ptr, len(data))
        self.memory[ptr:ptr + len(data)] = data

    def charge(self, price):
        if price > self.gas:
            raise OutOfGasError("out of gas")
        self.gas -= price
        self.charged += price


def test_prices_follow_the_schedule(keys):
    sk, pk = keys["ml-dsa-65"]
    sig = _sign("ml-dsa-65", sk, MSG)
    mem = pk + MSG + sig
    a = _Access("sig_verify", mem)
    assert host_calls.sig_verify(a, 0, len(pk), len(pk), len(MSG), len(pk) + len(MSG),
                                 len(sig)) == 1
    assert a.charged == HOST_PRICES["sig_verify"].cost(len(mem)) + \
        SIG_VERIFY_PRICES["ml-dsa-65"].cost(len(MSG))
    h = _Access("hash_keccak256", b"x" * 100 + bytes(32))
    host_calls.CALLS["hash_keccak256"](h, 0, 100, 100)
    assert h.charged == HOST_PRICES["hash_keccak256"].cost(100)
    assert bytes(h.memory[100:]) == keccak256(b"x" * 100)


def test_merkle_verify_pays_for_hashing_the_value_as_hash_keccak256_does():
    """merkle_verify hashes the value it is given (up to 256 KiB) with Keccak-256: each of
    those bytes costs at least what hash_keccak256 charges per byte, else a loop of it buys
    Keccak-256 at a third of the price and runs past the wall-clock backstop."""
    from ghost_cli.crypto.proof import Proof

    proof = Proof((), None).to_bytes()

    def charged(value_len: int) -> int:
        # root 32 and address 20 at 0, key at 52, proof at 53, the value after it
        mem = bytes(53) + proof + b"v" * value_len
        a = _Access("merkle_verify", mem)
        assert host_calls.merkle_verify(a, 0, 32, 52, 1, 53 + len(proof), value_len, 53,
                                        len(proof)) == 0
        return a.charged

    n = 64 * 1024
    assert charged(n) - charged(0) >= HOST_PRICES["hash_keccak256"].per_byte * n


def test_a_call_that_cannot_pay_does_nothing():
    a = _Access("hash_sha256", b"abc" + bytes(32), gas=HOST_PRICES["hash_sha256"].cost(3) - 1)
    with pytest.raises(OutOfGasError):
        host_calls.CALLS["hash_sha256"](a, 0, 3, 3)
    assert bytes(a.memory[3:]) == bytes(32)


def test_unknown_scheme_pays_only_the_call_price():
    assert host_services.sig_verify_price(b"\x63abc", 10, 20) == HOST_PRICES["sig_verify"].cost(20)
