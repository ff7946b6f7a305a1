"""Measure the crypto host services and derive their gas; compare each hash host call with
the same hash compiled into a contract from Zig's std.crypto.

    /tmp/venv/bin/python bench/host_crypto_bench.py

Rate: gas per microsecond is calibrated in the same run from WebAssembly fuel: the
in-contract SHA-256 of 32 KiB burns F fuel in T µs of wall time, so one µs of host work
is worth F / T gas (what the same time would cost as contract code). Prints each
service's µs (median of runs), the derived gas, and the price in vm/gas.py.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.crypto import schemes
from ghost_cli.crypto.aggregate import aggregate, prove_possession
from ghost_cli.crypto.kem import ML_KEM_768
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm import host_services as svc
from ghost_cli.vm.gas import HOST_PRICES, KEYGEN_PRICES, MERKLE_PER_LEVEL, SIG_VERIFY_PRICES

PROBE = Path(__file__).resolve().parents[1] / "tests" / "vm" / "crypto_probe.zig"


def micros(fn, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e6)
    return statistics.median(times)


def main() -> None:
    work = Path(tempfile.mkdtemp())
    root = new_project("bench", "counter", work / "bench")
    (root / "src" / "crypto_probe.zig").write_text(PROBE.read_text())
    with open(root / "ghost.toml", "a") as f:
        f.write('\n[contracts.crypto_probe]\nsource = "src/crypto_probe.zig"\n')
    (wasm,) = build_project(load_project(root), ["crypto_probe"], target="wasm")
    with Sandbox(work / "sb.db") as sb:
        sb.deploy(wasm.path.read_bytes(), name="p")

        def call(fn, *args):
            t = time.perf_counter()
            r = sb.call("p", fn, list(args), signer=sb.dev_keys[0])
            return r.gas_used, (time.perf_counter() - t) * 1e6

        big = bytes(32 * 1024)  # the SDK scratch (64 KiB) holds the call data
        print("hash: host call vs Zig std.crypto in the contract (32 KiB and 1 KiB input)")
        rate = None
        for name in ("sha256", "keccak256", "blake2b256"):
            for data in (big, bytes(1024)):
                g_host, t_host = min(call(name, data) for _ in range(5))
                g_zig, t_zig = min(call(name + "InContract", data) for _ in range(5))
                print(f"  {name:11s} {len(data):6d} B  host {g_host:9d} gas {t_host:8.0f} µs"
                      f" | zig {g_zig:9d} gas {t_zig:8.0f} µs | gas ratio zig/host "
                      f"{g_zig / g_host:6.1f}")
                if name == "sha256" and data is big:
                    g_empty, t_empty = min(call(name + "InContract", b"") for _ in range(5))
                    rate = (g_zig - g_empty) / max(t_zig - t_empty, 1.0)
        print(f"rate: {rate:.1f} gas/µs (fuel of in-contract SHA-256 over its wall time)")

        def derive(label: str, us: float, price: int) -> None:
            print(f"  {label:34s} {us:9.1f} µs -> {us * rate:10.0f} gas   (price {price})")

        print("services (median µs of pure host work):")
        for name, h in svc.HASHES.items():
            per_kib = micros(lambda h=h: h(bytes(1024)))
            derive(f"{name} per KiB", per_kib, HOST_PRICES[name].cost(1024))
        msg = b"m" * 32
        for name, scheme in schemes.SCHEMES.items():
            sk, pk = scheme.keygen()
            epk, esig = bytes([scheme.id]) + pk, bytes([scheme.id]) + scheme.sign(sk, msg)
            runs = 3 if name.startswith("slh") else 20

            def check(epk: bytes = epk, esig: bytes = esig) -> bool:
                return svc.verify(epk, msg, esig)

            derive(f"sig_verify {name}", micros(check, runs),
                   SIG_VERIFY_PRICES[name].cost(len(msg)))
            if name in KEYGEN_PRICES:
                derive(f"keygen_seeded {name}",
                       micros(lambda scheme=scheme: svc.keygen_seeded(scheme.id, b"s" * 32)),
                       KEYGEN_PRICES[name].base)
        bls = schemes.get("bls12-381")
        pairs = [bls.keygen(bytes([i]) * 32) for i in range(1, 5)]
        pks = b"".join(pk for _, pk in pairs)
        pops = b"".join(prove_possession(sk) for sk, _ in pairs)
        agg = aggregate([bls.sign(sk, msg) for sk, _ in pairs])
        derive("bls_aggregate_verify 4 keys", micros(
            lambda: svc.bls_aggregate_verify(pks, pops, msg, agg), 5),
            svc.bls_aggregate_price(len(pks), len(msg), 0))
        sk, pk = ML_KEM_768.keygen()
        ct, _ = svc.kem_encapsulate(pk, b"s" * 32)
        derive("kem_encapsulate", micros(lambda: svc.kem_encapsulate(pk, b"s" * 32)),
               HOST_PRICES["kem_encapsulate"].base)
        derive("kem_decapsulate", micros(lambda: svc.kem_decapsulate(sk, ct)),
               HOST_PRICES["kem_decapsulate"].base)
        derive("merkle level (keccak of 65 B)", micros(lambda: svc.keccak256(bytes(65)), 200),
               MERKLE_PER_LEVEL)
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
