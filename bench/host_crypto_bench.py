"""Measure the crypto host services and derive their gas; compare each hash host call with
the same hash compiled into a contract from Zig's std.crypto.

    python bench/host_crypto_bench.py

Rate: gas per µs of host work is HOST_GAS_PER_US in vm/gas.py, a throughput policy. The
bench also prints the wasm fuel rate (fuel per µs of the engine running Zig's SHA-256 in
the contract) for reference. Prints each service's µs (median of runs), the derived gas,
and the price in vm/gas.py. Host call and in-contract code are timed in turns (host,
contract, host, ...), the best of each shown.

Signatures, the same way: a contract with `verify_host` (ghost.crypto.verify, the host call)
and `verify_in_contract` (Zig std.crypto's verify on the raw key and signature), for Ed25519
and ML-DSA-65, one contract each; a build, deploy or gas failure is printed as the result.
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
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.exceptions import GhostError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm import host_services as svc
from ghost_cli.vm.gas import (
    DEFAULT_GAS_LIMIT,
    HOST_GAS_PER_US,
    HOST_PRICES,
    KEYGEN_PRICES,
    MERKLE_PER_LEVEL,
    SIG_VERIFY_PRICES,
)
from ghost_cli.vm.types import Limits

PROBE = Path(__file__).resolve().parents[1] / "tests" / "vm" / "crypto_probe.zig"

# {T} is the std.crypto type; pk and sig are ghost-encoded (scheme id byte ‖ raw).
SIG_CONTRACT = """const std = @import("std");
const ghost = @import("ghost");
const T = {T};

comptime {{
    ghost.exportContract(@This());
}}

pub fn verify_host(pk: []const u8, msg: []const u8, sig: []const u8) bool {{
    return ghost.crypto.verify(pk, msg, sig);
}}

pub fn verify_in_contract(pk: []const u8, msg: []const u8, sig: []const u8) bool {{
    if (pk.len != 1 + T.PublicKey.encoded_length) return false;
    if (sig.len != 1 + T.Signature.encoded_length) return false;
    const key = T.PublicKey.fromBytes(pk[1..][0..T.PublicKey.encoded_length].*) catch return false;
    const s = {FROM_SIG};
    s.verify(msg, key) catch return false;
    return true;
}}
"""
SIG_TYPES = {  # scheme name -> (std.crypto type, Signature.fromBytes expression)
    "ed25519": ("std.crypto.sign.Ed25519",
                "T.Signature.fromBytes(sig[1..][0..T.Signature.encoded_length].*)"),
    "ml-dsa-65": ("std.crypto.sign.mldsa.MLDSA65",
                  "T.Signature.fromBytes(sig[1..][0..T.Signature.encoded_length].*)"
                  " catch return false"),
}
SIG_GAS = 1_000_000_000  # the per-transaction cap (MAX_TX_GAS): in-contract verification can finish


def in_turns(a, b, runs: int) -> tuple:
    """The least of `runs` results of each of a() and b(), called in turns (a, b, a, b...),
    so that a moment of load on the machine hurts both alike."""
    ra, rb = [], []
    for _ in range(runs):
        ra.append(a())
        rb.append(b())
    return min(ra), min(rb)


def micros(fn, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e6)
    return statistics.median(times)


def bench_signatures(root: Path, sb: Sandbox) -> None:
    """Host sig_verify vs Zig std.crypto's verify compiled into the contract."""
    print(f"signatures: host call vs Zig std.crypto in the contract (32-byte message; "
          f"query gas limit {SIG_GAS:,}, default {DEFAULT_GAS_LIMIT:,})")
    msg = b"m" * 32
    for name, (zig_type, from_sig) in SIG_TYPES.items():
        contract = "sig_" + name.replace("-", "_")
        (root / "src" / f"{contract}.zig").write_text(
            SIG_CONTRACT.format(T=zig_type, FROM_SIG=from_sig))
        with open(root / "ghost.toml", "a") as f:
            f.write(f'\n[contracts.{contract}]\nsource = "src/{contract}.zig"\n')
        try:
            (wasm,) = build_project(load_project(root), [contract], target="wasm")
        except Exception as e:  # noqa: BLE001 - the failure is the measurement
            print(f"  in-contract {name}: does not build: {str(e).strip()[:600]}")
            continue
        code = wasm.path.read_bytes()
        size = f"module {len(code) / 1024:.0f} KiB"
        if len(code) > Limits().module_bytes:
            print(f"  in-contract {name}: {size} > {Limits().module_bytes // 1024} KiB limit")
            continue
        try:
            sb.deploy(code, name=contract)
        except Exception as e:  # noqa: BLE001
            print(f"  in-contract {name}: {size}, deploy refused: {e}")
            continue
        key = KeyPair.generate(name, b"s" * 32)
        scheme = schemes.get(name)
        sig = bytes([scheme.id]) + scheme.sign(key.secret_key, msg)
        bad = sig[:-1] + bytes([sig[-1] ^ 1])

        def query(fn: str, s: bytes = sig, contract: str = contract, pk: bytes = key.public_key):
            t = time.perf_counter()
            r = sb.query(contract, fn, [pk, msg, s], gas_limit=SIG_GAS)
            return r.gas_used, (time.perf_counter() - t) * 1e6, r.result

        rows = {}
        try:
            rows["verify_host"], rows["verify_in_contract"] = in_turns(
                lambda: query("verify_host"), lambda: query("verify_in_contract"), 5)
            for fn in rows:
                ok_bad = query(fn, bad)[2]
                if rows[fn][2] is not True or ok_bad is not False:
                    print(f"  {name} {fn}: valid -> {rows[fn][2]}, tampered -> {ok_bad} "
                          "(wrong!)")
        except Exception as e:  # noqa: BLE001 - gas, stack or timeout: the measurement
            print(f"  in-contract {name}: {size}, failed: {e}")
            continue
        (g_host, t_host, _), (g_zig, t_zig, _) = rows["verify_host"], rows["verify_in_contract"]
        over = ""
        if g_zig > DEFAULT_GAS_LIMIT:  # show what the default limit does to it
            try:
                sb.query(contract, "verify_in_contract", [key.public_key, msg, sig])
                over = " (passes at the default limit?)"
            except Exception as e:  # noqa: BLE001
                over = f" (default limit: {type(e).__name__}: {str(e)[:80]})"
        print(f"  {name:11s} {size:>15s}  host {g_host:9d} gas {t_host:8.0f} µs"
              f" | zig {g_zig:11d} gas {t_zig:9.0f} µs | gas ratio zig/host "
              f"{g_zig / g_host:6.1f}, time {t_zig / t_host:6.1f}{over}")


def engine_rate(sb, function: str, data: bytes) -> float:
    """Gas per µs of contract code: the engine alone runs `function` on `data` and on
    nothing, and the difference in fuel is divided by the difference in time. Timing the
    engine (not a signed call) keeps signing and SQLite out of the measurement."""
    from ghost_cli.abi import encode_call
    from ghost_cli.vm.types import CallContext

    address = sb.resolve("p")
    code = sb.store.code(sb.store.contract(address).code_hash)
    fn = sb.executor.abi_of(address).function(function)

    def run(payload: bytes) -> tuple[int, float]:
        ctx = CallContext(caller=sb.default_sender, address=address,
                          input=encode_call(fn, [payload]), gas_limit=DEFAULT_GAS_LIMIT * 10)
        t = time.perf_counter()
        out = sb.engines.execute(code, function, ctx, lambda key: None)
        return out.gas_used, (time.perf_counter() - t) * 1e6

    (g_full, t_full), (g_empty, t_empty) = in_turns(lambda: run(data), lambda: run(b""), 9)
    return (g_full - g_empty) / max(t_full - t_empty, 1.0)


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help
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
        fuel_rate = 0.0
        for name in ("sha256", "keccak256", "blake2b256"):
            for data in (big, bytes(1024)):
                (g_host, t_host), (g_zig, t_zig) = in_turns(
                    lambda n=name, d=data: call(n, d),
                    lambda n=name, d=data: call(n + "InContract", d), 5)
                print(f"  {name:11s} {len(data):6d} B  host {g_host:9d} gas {t_host:8.0f} µs"
                      f" | zig {g_zig:9d} gas {t_zig:8.0f} µs | gas ratio zig/host "
                      f"{g_zig / g_host:6.1f}")
                if name == "sha256" and data is big:
                    fuel_rate = engine_rate(sb, "sha256InContract", data)
        rate = HOST_GAS_PER_US
        print(f"rate: {rate} gas/µs of host work (HOST_GAS_PER_US, a policy); for reference, "
              f"wasm fuel ran at {fuel_rate:.0f}/µs (in-contract SHA-256, engine time)")
        bench_signatures(root, sb)

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
        try:
            ct, _ = svc.kem_encapsulate(pk, b"s" * 32)
        except GhostError as exc:  # the bench extra pins pycryptodome 3.x: no ML-KEM
            print(f"  kem rows skipped: {exc.message}")
        else:
            derive("kem_encapsulate", micros(lambda: svc.kem_encapsulate(pk, b"s" * 32)),
                   HOST_PRICES["kem_encapsulate"].base)
            derive("kem_decapsulate", micros(lambda: svc.kem_decapsulate(sk, ct)),
                   HOST_PRICES["kem_decapsulate"].base)
        derive("merkle level (keccak of 65 B)", micros(lambda: svc.keccak256(bytes(65)), 200),
               MERKLE_PER_LEVEL)
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
