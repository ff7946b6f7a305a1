"""The SDK's ABI codec under `zig test`, natively (tests/toolchain/zig/sdk_codec_test.zig):
round trips of every ABI type, exact bytes, every refusal and the export rule."""

from __future__ import annotations

import shutil
from pathlib import Path

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
