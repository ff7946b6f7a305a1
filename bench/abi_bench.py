"""ABI v2 codec cost: in Python, and in a contract on wasm and on ZVM.

1. Python: encode and decode of one nested struct (a Ballot: integers, an address, a
   string, a u32 slice, an optional enum, a slice of structs, a 2-D array, bytes4) with
   ghost_cli.abi, against the same data through the standard library's json
   (dumps/loads) as the baseline, timed in turns (json, abi, json, abi, ...), best round
   of each: operations per second and the ratio.
2. Contract: the gas of decoding that struct as call data, on the wasm build and on the
   ZVM build (`--target zvm`) of one contract: gas of `ballot_id(b: Ballot) u64` minus
   the gas of `nothing(x: u8) u8`, each from a sandbox query (what decoding the extra
   bytes costs, the call's fixed costs cancelling). Baseline: wasm; ratio zvm/wasm.

    python bench/abi_bench.py [--ops N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from ghost_cli.abi import Abi, encode_value, parse_type
from ghost_cli.abi.types import declarations

SOURCE = """const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

pub const Color = enum(u8) { red, green, blue };
pub const Pair = struct { a: u64, b: ghost.String };
pub const Ballot = struct {
    id: u64,
    owner: ghost.Address,
    title: ghost.String,
    votes: []const u32,
    color: ?Color,
    pairs: []const Pair,
    grid: [2][3]u16,
    tag: [4]u8,
};

/// Decode a Ballot from the call data; return one field.
pub fn ballot_id(b: Ballot) u64 {
    return b.id;
}

/// The same call with one byte of arguments: the fixed cost to subtract.
pub fn nothing(x: u8) u8 {
    return x;
}
"""

TYPES = [
    {"kind": "enum", "name": "Color",
     "variants": [{"name": n, "value": i} for i, n in enumerate(("red", "green", "blue"))]},
    {"kind": "struct", "name": "Pair", "fields": [{"name": "a", "type": "u64"},
                                                  {"name": "b", "type": "string"}]},
    {"kind": "struct", "name": "Ballot", "fields": [
        {"name": "id", "type": "u64"}, {"name": "owner", "type": "address"},
        {"name": "title", "type": "string"}, {"name": "votes", "type": "u32[]"},
        {"name": "color", "type": "Color?"}, {"name": "pairs", "type": "Pair[]"},
        {"name": "grid", "type": "u16[3][2]"}, {"name": "tag", "type": "bytes4"}]},
]

BALLOT = {"id": 42, "owner": bytes(range(20)), "title": "Where do we eat on Friday?",
          "votes": list(range(16)), "color": "green",
          "pairs": [{"a": i, "b": f"option {i}"} for i in range(4)],
          "grid": [[1, 2, 3], [4, 5, 6]], "tag": b"vote"}

ROUNDS = 5


def best_rate(fns: dict, ops: int) -> dict:
    """Operations per second of each function, in turns, best of ROUNDS rounds."""
    for fn in fns.values():
        for _ in range(min(200, ops)):
            fn()
    chunk = max(1, ops // ROUNDS)
    best = dict.fromkeys(fns, 0.0)
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(chunk):
                fn()
            best[name] = max(best[name], chunk / (time.perf_counter() - start))
    return best


def python_figures(ops: int) -> None:
    abi = Abi.from_json({"version": 2, "functions": [], "types": TYPES})
    ty = parse_type("Ballot", abi)
    as_json = ty.to_json(BALLOT)  # the baseline carries the same data as JSON text
    data, text = ty.encode(BALLOT), json.dumps(as_json)
    assert ty.decode(data)[0] == BALLOT and json.loads(text) == as_json
    assert encode_value("Ballot", BALLOT, declarations(abi)) == data
    rates = best_rate({
        "json encode": lambda: json.dumps(as_json),
        "abi encode": lambda: ty.encode(BALLOT),
        "json decode": lambda: json.loads(text),
        "abi decode": lambda: ty.decode(data),
    }, ops)
    print(f"Python, one Ballot ({len(data)} bytes ABI, {len(text)} bytes JSON), "
          f"best of {ROUNDS} rounds, alternating")
    print(f"{'':24}{'ops/s':>12}{'ratio':>9}")
    for op in ("encode", "decode"):
        base, ours = rates[f"json {op}"], rates[f"abi {op}"]
        print(f"{'json ' + op + ' (baseline)':24}{base:>12,.0f}")
        print(f"{'abi ' + op:24}{ours:>12,.0f}{ours / base:>8.2f}x")


def contract_figures() -> None:
    from ghost_cli.chain.sandbox import Sandbox
    from ghost_cli.config.project import load_project
    from ghost_cli.scaffold import new_project
    from ghost_cli.toolchain.build import build_project

    with tempfile.TemporaryDirectory() as tmp:
        root = new_project("abibench", "counter", Path(tmp) / "abibench")
        (root / "src" / "counter.zig").write_text(SOURCE)
        project = load_project(root)
        gas = {}
        with Sandbox(Path(tmp) / "sandbox.db") as net:
            for target in ("wasm", "zvm"):
                [built] = build_project(project, target=target)
                address = net.deploy(Path(built.path).read_bytes()).address
                full = net.query(address, "ballot_id", [BALLOT]).gas_used
                fixed = net.query(address, "nothing", [7]).gas_used
                assert net.query(address, "ballot_id", [BALLOT]).result == 42
                gas[target] = (full, fixed)
    size = len(encode_value("Ballot", BALLOT, TYPES))
    print(f"\nContract: decoding one Ballot ({size} bytes of call data) = gas of "
          "ballot_id(b) - gas of nothing(x)")
    print(f"{'':16}{'ballot_id':>12}{'nothing':>10}{'decode':>10}{'ratio':>9}")
    base = gas["wasm"][0] - gas["wasm"][1]
    for target, label in (("wasm", "wasm (baseline)"), ("zvm", "zvm")):
        full, fixed = gas[target]
        ratio = "" if target == "wasm" else f"{(full - fixed) / base:>8.2f}x"
        print(f"{label:16}{full:>12,}{fixed:>10,}{full - fixed:>10,}{ratio:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=20_000,
                        help="operations per measurement (default 20000)")
    args = parser.parse_args()
    python_figures(args.ops)
    contract_figures()


if __name__ == "__main__":
    main()
