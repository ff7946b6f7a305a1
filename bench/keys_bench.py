"""Throughput and sizes of every signature scheme and the KEM, with Ed25519 measured in the
same run as the baseline, then the alternative libraries that were weighed (docs/keys.md).

    python bench/keys_bench.py [--seconds S] [--json]

Rates are operations per second on one core, each the best of three timed rounds of about
S/3 seconds (at least 2 operations a round). "sign ×ed" is how many Ed25519 signatures fit
in the time of one of the scheme's (likewise verify): lower is closer to the baseline.
Alternatives run only when installed (pip install dilithium-py blspy milagro-bls-binding
py_ecc); pqcrypto's ML-DSA and ML-KEM are always there.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ghost_cli.crypto.kem import ML_KEM_768
from ghost_cli.crypto.schemes import SCHEMES

MESSAGE = os.urandom(32)  # ghost signs 32-byte domain-separated hashes


@dataclass(frozen=True)
class Row:
    name: str
    library: str
    keygen_per_s: float
    sign_per_s: float  # encaps for a KEM
    verify_per_s: float  # decaps for a KEM
    public_key: int
    secret_key: int
    signature: int  # ciphertext for a KEM


def rate(op: Callable[[], object], seconds: float) -> float:
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while True:
            op()
            n += 1
            elapsed = time.perf_counter() - start
            if n >= 2 and elapsed >= seconds / 3:
                break
        best = max(best, n / elapsed)
    return best


def measure(name: str, library: str, keygen, sign, verify, seconds: float) -> Row:
    """`keygen() -> (sk, pk)`, `sign(sk, msg) -> sig`, `verify(pk, msg, sig) -> truthy`."""
    sk, pk = keygen()
    sig = sign(sk, MESSAGE)
    assert verify(pk, MESSAGE, sig), f"{name}: the signature does not verify"
    return Row(name, library, rate(keygen, seconds), rate(lambda: sign(sk, MESSAGE), seconds),
               rate(lambda: verify(pk, MESSAGE, sig), seconds), len(pk), len(sk), len(sig))


LIBRARY = {
    "ml-dsa-44": "cryptography", "ml-dsa-65": "cryptography", "ml-dsa-87": "cryptography",
    "slh-dsa-sha2-128s": "pqcrypto", "slh-dsa-sha2-128f": "pqcrypto",
    "ed25519": "cryptography", "schnorr-secp256k1": "coincurve",
    "bls12-381": "py-arkworks-bls12381",
}


def ghost_rows(seconds: float) -> list[Row]:
    rows = [measure(n, LIBRARY[n], s.keygen, s.sign, s.verify, seconds)
            for n, s in SCHEMES.items()]
    kem = ML_KEM_768
    sk, pk = kem.keygen()
    ct, _ = kem.encaps(pk)
    rows.append(Row(kem.name + " (KEM)", "cryptography", rate(kem.keygen, seconds),
                    rate(lambda: kem.encaps(pk), seconds),
                    rate(lambda: kem.decaps(sk, ct), seconds), len(pk), len(sk), len(ct)))
    return rows


def _pq_verify(mod):
    def verify(pk, msg, sig):
        mod.verify(pk, msg, sig)  # raises on a bad signature
        return True
    return verify


def alternative_rows(seconds: float) -> list[Row]:
    rows = []
    from pqcrypto.kem import ml_kem_768
    from pqcrypto.sign import ml_dsa_65

    rows.append(measure("ml-dsa-65", "pqcrypto 1.0.0", lambda: ml_dsa_65.keygen()[::-1],
                        ml_dsa_65.sign, _pq_verify(ml_dsa_65), seconds))
    sk, pk = ml_kem_768.keygen()[::-1]
    ct, _ = ml_kem_768.encaps(pk)
    rows.append(Row("ml-kem-768 (KEM)", "pqcrypto 1.0.0", rate(ml_kem_768.keygen, seconds),
                    rate(lambda: ml_kem_768.encaps(pk), seconds),
                    rate(lambda: ml_kem_768.decaps(sk, ct), seconds), len(pk), len(sk), len(ct)))
    try:
        from dilithium_py.ml_dsa import ML_DSA_65
    except ImportError:
        pass
    else:
        rows.append(measure("ml-dsa-65", "dilithium-py (pure Python)",
                            lambda: ML_DSA_65.keygen()[::-1], ML_DSA_65.sign, ML_DSA_65.verify,
                            seconds))
    try:
        from blspy import G1Element, G2Element, PopSchemeMPL, PrivateKey
    except ImportError:
        pass
    else:
        def blspy_keygen():
            key = PopSchemeMPL.key_gen(os.urandom(32))
            return bytes(key), bytes(key.get_g1())
        rows.append(measure(
            "bls12-381", "blspy 2.0.3", blspy_keygen,
            lambda sk, m: bytes(PopSchemeMPL.sign(PrivateKey.from_bytes(sk), m)),
            lambda pk, m, s: PopSchemeMPL.verify(G1Element.from_bytes(pk), m,
                                                 G2Element.from_bytes(s)), seconds))
    try:
        import milagro_bls_binding as milagro
    except ImportError:
        pass
    else:
        def milagro_keygen():
            sk = SCHEMES["bls12-381"].keygen()[0]  # it has no KeyGen; SkToPk is its own
            return sk, milagro.SkToPk(sk)
        rows.append(measure("bls12-381", "milagro-bls-binding", milagro_keygen, milagro.Sign,
                            milagro.Verify, seconds))
    try:
        from py_ecc.bls import G2ProofOfPossession as PyEcc
    except ImportError:
        pass
    else:
        def py_ecc_keygen():
            sk = PyEcc.KeyGen(os.urandom(32))
            return sk.to_bytes(32, "big"), PyEcc.SkToPk(sk)
        rows.append(measure("bls12-381", "py_ecc (pure Python)", py_ecc_keygen,
                            lambda sk, m: PyEcc.Sign(int.from_bytes(sk, "big"), m),
                            PyEcc.Verify, seconds))
    return rows


def table(title: str, rows: list[Row], base: Row) -> str:
    head = (f"{'scheme':<20} {'library':<27} {'keygen/s':>9} {'sign/s':>9} {'verify/s':>9} "
            f"{'sign ×ed':>8} {'verify ×ed':>10} {'pk':>6} {'sk':>5} {'sig':>6}")
    lines = [title, head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<20} {r.library:<27} {r.keygen_per_s:>9.0f} {r.sign_per_s:>9.1f} "
            f"{r.verify_per_s:>9.0f} {base.sign_per_s / r.sign_per_s:>7.1f}x "
            f"{base.verify_per_s / r.verify_per_s:>9.1f}x {r.public_key:>6} {r.secret_key:>5} "
            f"{r.signature:>6}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=0.6, help="time per measured operation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = ghost_rows(args.seconds)
    base = next(r for r in rows if r.name == "ed25519")
    alternatives = alternative_rows(args.seconds)
    if args.json:
        print(json.dumps({"baseline": asdict(base), "schemes": [asdict(r) for r in rows],
                          "alternatives": [asdict(r) for r in alternatives]}, indent=2))
        return
    print(f"baseline: ed25519 ({base.library}) {base.sign_per_s:.0f} sign/s, "
          f"{base.verify_per_s:.0f} verify/s, measured in this run; KEM rows: sign = encaps, "
          "verify = decaps, sig = ciphertext")
    print(table("ghost's schemes", rows, base))
    print()
    print(table("alternatives weighed (same baseline)", alternatives, base))


if __name__ == "__main__":
    main()
