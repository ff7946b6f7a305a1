"""The SDK's ABI codec under `zig test`, natively (tests/toolchain/zig/sdk_codec_test.zig):
round trips of every ABI type, exact bytes, every refusal and the export rule."""

from __future__ import annotations

from pathlib import Path

from ghost_cli.toolchain.zig import run_zig

REPO = Path(__file__).resolve().parents[2]


def test_sdk_codec_zig_tests_pass() -> None:
    run = run_zig(["test", "--color", "off", "--dep", "ghost",
                   "-Mroot=tests/toolchain/zig/sdk_codec_test.zig",
                   "-Mghost=templates/sdk/ghost.zig"], cwd=REPO, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "passed" in run.stderr + run.stdout
