"""F0 / F2: ML-DSA and SLH-DSA verification for real, with ghost's stack layout."""

import pytest
from pqcrypto.sign import ml_dsa_44, ml_dsa_65, slh_dsa_sha2_128f, slh_dsa_shake_128f
from zvm_helpers import run, top

from ghost_cli.exceptions import TrapError
from ghost_cli.vm.zvm.handlers.pq import SLH_DSA_SETS, VERIFY_GAS


def program(op: str, msg: bytes, sig: bytes, pk: bytes, param: int) -> str:
    """Put msg, sig, pk in memory via CALLDATACOPY, then verify."""
    m, s, p = 0, 1024, 1024 + len(sig) + 32
    copy = (f"PUSH {len(msg)}\nPUSH 0\nPUSH {m}\nCALLDATACOPY\n"
            f"PUSH {len(sig)}\nPUSH {len(msg)}\nPUSH {s}\nCALLDATACOPY\n"
            f"PUSH {len(pk)}\nPUSH {len(msg) + len(sig)}\nPUSH {p}\nCALLDATACOPY\n")
    operands = [m, len(msg), s, len(sig), p, len(pk), param]
    return copy + "".join(f"PUSH {v}\n" for v in reversed(operands)) + op


@pytest.mark.parametrize(("scheme", "param"), [(ml_dsa_65, 65), (ml_dsa_44, 44)])
def test_ml_dsa(scheme, param):
    pk, sk = scheme.keygen()
    msg = b"pay 10 to bob"
    sig = scheme.sign(sk, msg)
    op = "PQ_VERIFY_DILITHIUM"
    assert top(program(op, msg, sig, pk, param), data=msg + sig + pk) == 1
    bad = b"pay 99 to bob"
    assert top(program(op, bad, sig, pk, param), data=bad + sig + pk) == 0
    short = sig[:-1]
    assert top(program(op, msg, short, pk, param), data=msg + short + pk) == 0
    # the right bytes under the wrong parameter set do not verify
    other = 87
    assert top(program(op, msg, sig, pk, other), data=msg + sig + pk) == 0


@pytest.mark.parametrize(("scheme", "name"), [(slh_dsa_sha2_128f, "slh_dsa_sha2_128f"),
                                              (slh_dsa_shake_128f, "slh_dsa_shake_128f")])
def test_slh_dsa(scheme, name):
    pk, sk = scheme.keygen()
    msg = b"hello"
    sig = scheme.sign(sk, msg)
    param = SLH_DSA_SETS.index(name)
    op = "PQ_VERIFY_SPHINCS"
    assert top(program(op, msg, sig, pk, param), data=msg + sig + pk) == 1
    tampered = sig[:-1] + bytes([sig[-1] ^ 1])
    assert top(program(op, msg, tampered, pk, param), data=msg + tampered + pk) == 0


def test_gas_is_base_plus_message_words_plus_memory_plus_the_verification():
    src = "".join(f"PUSH {v}\n" for v in reversed([0, 64, 0, 0, 0, 0, 65])) + \
        "PQ_VERIFY_DILITHIUM"
    assert run(src).gas_used == 7 * 3 + 1000 + 6 * 2 + 3 * 2 + 98_000
    shake = SLH_DSA_SETS.index("slh_dsa_shake_256f")
    src = "".join(f"PUSH {v}\n" for v in reversed([0, 64, 0, 0, 0, 0, shake])) + \
        "PQ_VERIFY_SPHINCS"
    assert run(src).gas_used == 7 * 3 + 2000 + 6 * 2 + 3 * 2 + 1_467_000


def test_every_parameter_set_is_priced():
    assert set(VERIFY_GAS) == {"ml_dsa_44", "ml_dsa_65", "ml_dsa_87", *SLH_DSA_SETS}


@pytest.mark.parametrize(("op", "param"), [("PQ_VERIFY_DILITHIUM", 66),
                                           ("PQ_VERIFY_SPHINCS", 12),
                                           ("PQ_VERIFY_SPHINCS", 2**255)])
def test_unknown_parameter_sets_trap(op, param):
    src = "".join(f"PUSH {v}\n" for v in reversed([0, 0, 0, 0, 0, 0, param])) + op
    with pytest.raises(TrapError, match="unknown parameter set"):
        run(src)
