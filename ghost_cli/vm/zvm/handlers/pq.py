"""Post-quantum signature verification (ghost: ZVM v1.0.0 reserves these, ghost runs them).

F0 PQ_VERIFY_DILITHIUM (ML-DSA, FIPS 204) and F2 PQ_VERIFY_SPHINCS (SLH-DSA, FIPS 205)
pop, top first:  msgOff, msgLen, sigOff, sigLen, pkOff, pkLen, paramSet
and push 1 when the signature over the message verifies under the public key, else 0 (a
wrong-length key or signature is simply invalid). Pure mode, empty context string.
paramSet for ML-DSA is 44, 65 or 87; for SLH-DSA an index into SLH_DSA_SETS. An unknown
paramSet is a contract bug: a TrapError. Gas: the base, plus 6 per word of message (the
message is hashed), plus memory expansion for the three ranges.
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
    f.charge(MESSAGE_WORD_GAS * words(msg_len))
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
