"""The codec inside `ghost bindings zig` modules against tests/vectors/abi.json: every
vector decodes and re-encodes to its bytes, and every malformed input is refused with the
error docs/abi.md ("Refusals") names, the same refusal as the SDK and the Python codec."""

from __future__ import annotations

import json
from pathlib import Path

from ghost_cli.abi import Abi
from ghost_cli.bindings import zig as gen_zig

VECTORS = Path(__file__).parent / "vectors" / "abi.json"

#: The Zig module's error for each refusal of docs/abi.md.
ZIG_ERRORS = {"ghost: call data too short": "CallDataTooShort",
              "ghost: call data too long": "CallDataTooLong",
              "ghost: invalid bool": "InvalidBool", "ghost: invalid utf-8": "InvalidUtf8",
              "ghost: invalid optional tag": "InvalidOptionalTag",
              "ghost: invalid enum value": "InvalidEnumValue"}


def _module(name: str, case: dict) -> str:
    """A module with one function `f` taking and returning the vector's type."""
    ty = case["type"]
    raw = {"version": 2, "functions": [{"name": "f", "inputs": [{"name": "v", "type": ty}],
                                        "output": ty, "can_fail": False}],
           "constructor": None, "events": [], "types": case["types"], "errors": []}
    return gen_zig.generate(name, Abi.from_json(raw), raw)


def _test(name: str, case: dict, malformed: bool) -> str:
    hexed = case["hex"]
    head = (f'test "{name} {case["type"]}" {{\n'
            "    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);\n"
            "    defer arena_state.deinit();\n"
            "    const arena = arena_state.allocator();\n"
            f"    var data: [{len(hexed) // 2}]u8 = undefined;\n"
            f'    _ = try std.fmt.hexToBytes(&data, "{hexed}");\n')
    if malformed:
        return head + (f"    try std.testing.expectError(error.{ZIG_ERRORS[case['error']]}, "
                       f"{name}.f.decodeResult(arena, &data));\n}}\n")
    return head + (f"    const value = try {name}.f.decodeResult(arena, &data);\n"
                   "    var buf: [8192]u8 = undefined;\n"
                   f"    var w = {name}.Writer{{ .buf = &buf }};\n"
                   f"    try {name}.encodeValue({name}.f.Result, &w, value);\n"
                   "    try std.testing.expectEqualSlices(u8, &data, buf[0..w.pos]);\n}\n")


def test_generated_zig_codec_follows_the_vectors(tmp_path: Path) -> None:
    from ghost_cli.toolchain.zig import run_zig

    doc = json.loads(VECTORS.read_text())
    cases = [(f"v{i}", c, False) for i, c in enumerate(doc["vectors"])]
    cases += [(f"m{i}", c, True) for i, c in enumerate(doc["malformed"])]
    for name, case, _ in cases:
        (tmp_path / f"{name}.zig").write_text(_module(name, case))
    root = ['const std = @import("std");']
    root += [f'const {name} = @import("{name}");' for name, _, _ in cases]
    root += [_test(name, case, bad) for name, case, bad in cases]
    (tmp_path / "check.zig").write_text("\n".join(root))
    deps = [arg for name, _, _ in cases for arg in ("--dep", name)]
    mods = [f"-M{name}={name}.zig" for name, _, _ in cases]
    run = run_zig(["test", "--color", "off", *deps, "-Mroot=check.zig", *mods],
                  cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
