"""What a written storage key costs the store at commit, against the gas it pays.

    python bench/storage_write_cost.py [--sizes 0,10000,50000] [--keys 1024] [--rounds 3]

contracts/filler's `fill(start, n)` sets n new keys in one call, on a state file. For each
state size (keys already stored) it runs in turns (A B A B ...):
  - authenticated (as a node's store): storage, and the state tree's rows on each key's
    path rewritten at commit;
  - plain (the baseline: the sandbox's default store): storage alone.
Each row shows µs per written key (the best round), gas per µs of the call (the gas
schedule aims at 440: vm/gas.py HOST_GAS_PER_US) and its ratio to the baseline. `--keys`
defaults to MAX_TX_STORAGE_KEYS, the most one transaction may write.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm import gas

FILLER = Path(__file__).resolve().parent.parent / "contracts" / "filler"
GAS = gas.MAX_TX_GAS


def build_filler(tmp: Path) -> bytes:
    root = tmp / "filler"
    shutil.copytree(FILLER, root, symlinks=False, ignore=shutil.ignore_patterns("build", ".ghost"))
    return build_project(load_project(root))[0].path.read_bytes()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="0,10000,50000",
                   help="keys already stored before the timed calls, comma-separated")
    p.add_argument("--keys", type=int, default=gas.MAX_TX_STORAGE_KEYS,
                   help="new keys written by each timed call")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        code = build_filler(tmp)
        print(f"one call writing {args.keys:,} new keys, best of {args.rounds} rounds, "
              "authenticated and plain in turns\n")
        print(f"{'stored keys':>11} {'store':<14} {'us/key':>7} {'gas/us':>7} {'ratio':>6}")
        for size in [int(s) for s in args.sizes.split(",")]:
            boxes = {auth: Sandbox(tmp / f"s{size}-{auth}.db", authenticated=auth)
                     for auth in (True, False)}
            best: dict[bool, tuple[float, int]] = {}
            try:
                for sb in boxes.values():
                    sb.deploy(code, name="filler")
                    for start in range(0, size, gas.MAX_TX_STORAGE_KEYS):
                        n = min(gas.MAX_TX_STORAGE_KEYS, size - start)
                        sb.call("filler", "fill", [start, n], gas_limit=GAS)
                start = size
                for _ in range(args.rounds):
                    for auth, sb in boxes.items():
                        t = time.perf_counter()
                        used = sb.call("filler", "fill", [start, args.keys],
                                       gas_limit=GAS).gas_used
                        took = time.perf_counter() - t
                        if auth not in best or took < best[auth][0]:
                            best[auth] = (took, used)
                    start += args.keys
            finally:
                for sb in boxes.values():
                    sb.close()
            for auth in (True, False):
                took, used = best[auth]
                print(f"{size:>11,} {'authenticated' if auth else 'plain':<14} "
                      f"{took / args.keys * 1e6:>7.0f} {used / took / 1e6:>7.0f} "
                      f"{took / best[False][0]:>5.2f}x", flush=True)


if __name__ == "__main__":
    main()
