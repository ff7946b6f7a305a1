"""What Zig's runtime safety costs: every template built safe (ReleaseSafe, the default)
and unsafe (ReleaseSmall, the baseline), on both targets where the template lowers to ZVM.

For each template and target: artifact size, deploy gas and the gas of a few typical calls
(from sandbox receipts, TX_BASE included), printed with the ratio safe / baseline. Gas and
size are deterministic, so one run of each is the measurement; builds alternate baseline
and safe per template (A B A B).

    python bench/safety_cost.py [--templates counter,token]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import CompileError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

BASELINE, SAFE = "ReleaseSmall", "ReleaseSafe"
ALICE = "0x" + "11" * 20
#: Typical calls per template: (function, args), run in order on a fresh deployment.
CALLS: dict[str, list[tuple[str, list]]] = {
    "counter": [("increment", []), ("add", [40]), ("get", [])],
    "token": [("transfer", [ALICE, 250]), ("balance_of", [ALICE])],
    "storage": [("set", ["greeting", b"hello"]), ("get", ["greeting"]),
                ("exists", ["greeting"])],
    "arithmetic": [("add_u64", [2**40, 2**41]), ("mul_u128", [2**60, 2**50]),
                   ("mul_div_u256", [2**200, 2**40, 2**30]), ("accumulate", [12345])],
    "signature": [("deposit", [500]), ("balance", [])],
    "rollup": [("batch_count", []), ("threshold", [])],
}
#: Constructor (`init`) arguments, run inside the deploy: its gas is in deploy gas. The
#: rollup's committee is only checked for its lengths here, so zero bytes do.
DEPLOY_ARGS: dict[str, list] = {
    "token": [1_000_000],
    "signature": [b"\x01\x02", b""],
    "rollup": [bytes(48), bytes(96), 1],
}


def measure(tmp: Path, template: str, target: str, optimize: str) -> dict | None:
    root = new_project("bench", template, tmp / f"{template}-{target}-{optimize}")
    project = load_project(root)
    try:
        (result,) = build_project(project, target=target, optimize=optimize)
    except CompileError:
        return None  # the template does not lower to ZVM
    code = result.path.read_bytes()
    with Sandbox(tmp / f"{template}-{target}-{optimize}.db") as sandbox:
        deploy = sandbox.deploy(code, DEPLOY_ARGS.get(template, []), name=template).gas_used
        gas = {}
        for function, args in CALLS[template]:
            try:
                gas[function] = sandbox.call(template, function, args).gas_used
            except Exception as exc:  # a call the template refuses here: shown, not fatal
                gas[function] = f"failed: {type(exc).__name__}"
    return {"size": len(code), "deploy": deploy, "gas": gas}


def ratio(safe: object, base: object) -> str:
    if isinstance(safe, int) and isinstance(base, int) and base:
        return f"{safe / base:.2f}x"
    return "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--templates", default=",".join(CALLS))
    names = parser.parse_args().templates.split(",")
    print(f"baseline: {BASELINE} (no safety checks); measured: {SAFE} (the default)")
    print(f"{'template':11}{'target':7}{'what':16}{'baseline':>12}{'safe':>12}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for template in names:
            for target in ("wasm", "zvm"):
                base = measure(Path(tmp), template, target, BASELINE)
                safe = measure(Path(tmp), template, target, SAFE)
                if base is None or safe is None:
                    print(f"{template:11}{target:7}{'(does not lower to ZVM)':16}")
                    continue
                rows = [("size (bytes)", base["size"], safe["size"]),
                        ("deploy gas", base["deploy"], safe["deploy"])]
                rows += [(f"{fn}", base["gas"][fn], safe["gas"][fn]) for fn in base["gas"]]
                for what, b, s in rows:
                    b_text = f"{b:,}" if isinstance(b, int) else str(b)
                    s_text = f"{s:,}" if isinstance(s, int) else str(s)
                    print(f"{template:11}{target:7}{what:16}{b_text:>12}{s_text:>12}"
                          f"{ratio(s, b):>8}")


if __name__ == "__main__":
    main()
