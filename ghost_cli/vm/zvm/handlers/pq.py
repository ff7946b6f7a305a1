"""Post-quantum signature verification (ghost: ZVM v1.0.0 reserves these, ghost runs them).

F0 PQ_VERIFY_DILITHIUM (ML-DSA, FIPS 204) and F2 PQ_VERIFY_SPHINCS (SLH-DSA, FIPS 205)
pop, top first:  msgOff, msgLen, sigOff, sigLen, pkOff, pkLen, paramSet
and push 1 when the signature over the message verifies under the public key, else 0 (a
wrong-length key or signature is simply invalid). Pure mode, empty context string.
paramSet for ML-DSA is 44, 65 or 87; for SLH-DSA an index into SLH_DSA_SETS. An unknown
paramSet is a contract bug: a TrapError. Gas: the base, plus 6 per word of message (the
message is hashed), plus memory expansion for the three ranges, plus (ghost:) the
verification itself, by parameter set (VERIFY_GAS): the base alone (1000 / 2000) bought
up to 3.3 ms of verification, some 900 times the wall time per gas of arithmetic, so a
loop of them held a node for its whole wall-clock backstop at a few million gas.
"""

from __future__ import annotations

import importlib

from ghost_cli.exceptions import TrapError

from ..interpreter import Frame
from ._words import words

MESSAGE_WORD_GAS = 6
ML_DSA_SETS = {44: "ml_dsa_44", 65: "ml_dsa_65", 87: "ml_dsa_87"}
SLH_DSA_SETS = tuple(
    f"slh_dsa_{h}_{bits}{speed}"
    for h in ("sha2", "shake") for bits in (128, 192, 256) for speed in ("s", "f"))

#: The verification's own price by parameter set: its wall time (the slower of a valid
#: signature and junk of the right length, which is verified all the same; pqcrypto,
#: 32-byte message, best of 5 to 50 runs on a loaded 2-core machine, 2026-12-07) times
#: HOST_GAS_PER_US (440), rounded up to a thousand; ML-DSA at least the host's
#: sig_verify price for the same scheme (vm/gas.py SIG_VERIFY_PRICES), which is higher.
VERIFY_GAS: dict[str, int] = {
    "ml_dsa_44": 53_000,            # 92 µs
    "ml_dsa_65": 98_000,            # 148 µs
    "ml_dsa_87": 120_000,           # 239 µs
    "slh_dsa_sha2_128s": 110_000,   # 249 µs
    "slh_dsa_sha2_128f": 327_000,   # 648 µs
    "slh_dsa_sha2_192s": 209_000,   # 473 µs
    "slh_dsa_sha2_192f": 534_000,   # 1,212 µs
    "slh_dsa_sha2_256s": 301_000,   # 682 µs
    "slh_dsa_sha2_256f": 538_000,   # 1,221 µs
    "slh_dsa_shake_128s": 339_000,  # 770 µs
    "slh_dsa_shake_128f": 902_000,  # 2,049 µs
    "slh_dsa_shake_192s": 477_000,  # 1,083 µs
    "slh_dsa_shake_192f": 1_328_000,  # 3,017 µs
    "slh_dsa_shake_256s": 677_000,  # 1,538 µs
    "slh_dsa_shake_256f": 1_467_000,  # 3,332 µs
}


def _verify(f: Frame, family: str, module_name: str | None, param: int) -> None:
    s = f.stack
    if module_name is None:
        raise TrapError(f"{family} verify at pc {f.pc_of_op()}: unknown parameter set {param}")
    msg_off, msg_len = s.pop(), s.pop()
    sig_off, sig_len = s.pop(), s.pop()
    pk_off, pk_len = s.pop(), s.pop()
    s.pop()  # paramSet, read already
    # the memory limit over all three ranges, and their expansion, before the message gas
    f.expand_ranges(((msg_off, msg_len), (sig_off, sig_len), (pk_off, pk_len)))
    f.charge(MESSAGE_WORD_GAS * words(msg_len) + VERIFY_GAS[module_name])
    msg = f.mread(msg_off, msg_len)
    sig = f.mread(sig_off, sig_len)
    pk = f.mread(pk_off, pk_len)
    scheme = importlib.import_module(f"pqcrypto.sign.{module_name}")
    from pqcrypto import InvalidSignatureError

    try:
        scheme.verify(pk, msg, sig)
    except (InvalidSignatureError, ValueError):  # ValueError: a wrong-length key or signature
        s.append(0)
    else:
        s.append(1)


def verify_ml_dsa(f: Frame) -> None:
    param = f.stack[-7]
    _verify(f, "ML-DSA", ML_DSA_SETS.get(param), param)


def verify_slh_dsa(f: Frame) -> None:
    param = f.stack[-7]
    name = SLH_DSA_SETS[param] if param < len(SLH_DSA_SETS) else None
    _verify(f, "SLH-DSA", name, param)
