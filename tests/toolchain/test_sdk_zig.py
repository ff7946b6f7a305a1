"""The SDK's ABI codec under `zig test`, natively (tests/toolchain/zig/sdk_codec_test.zig):
round trips of every ABI type, exact bytes, every refusal and the export rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ghost_cli.toolchain.zig import run_zig

REPO = Path(__file__).resolve().parents[2]


def test_sdk_codec_zig_tests_pass(tmp_path) -> None:
    # the vectors reach the test as a module embedding a copy of the file
    shutil.copy(REPO / "tests" / "vectors" / "abi.json", tmp_path / "abi.json")
    (tmp_path / "vectors.zig").write_text('pub const json = @embedFile("abi.json");\n')
    run = run_zig(["test", "--color", "off", "--dep", "ghost", "--dep", "vectors",
                   "-Mroot=tests/toolchain/zig/sdk_codec_test.zig",
                   "-Mghost=templates/sdk/ghost.zig",
                   f"-Mvectors={tmp_path / 'vectors.zig'}"], cwd=REPO, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "the shared vectors...OK" in run.stderr + run.stdout


BAD_LIST = """const ghost = @import("ghost");
comptime {
    ghost.exportFunctions(@This(), .{ "get", "%s" });
}
pub fn get() u64 {
    return 1;
}
pub fn double(p: *const u32) u32 {
    return p.* * 2;
}
"""


@pytest.mark.parametrize(("listed", "words"), [
    ("missing", "ghost.exportFunctions: the contract has no pub fn missing"),
    ("double", "ghost.exportFunctions: double is not a contract function"),
])
def test_export_functions_compile_error_names_the_entry(tmp_path, listed, words) -> None:
    (tmp_path / "c.zig").write_text(BAD_LIST % listed)
    run = run_zig(["build-obj", "--color", "off", "-fno-emit-bin", "--dep", "ghost",
                   f"-Mroot={tmp_path / 'c.zig'}", "-Mghost=templates/sdk/ghost.zig"],
                  cwd=REPO, timeout=300)
    assert run.returncode != 0
    assert words in run.stderr
