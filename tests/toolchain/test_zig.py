from __future__ import annotations

import re
from pathlib import Path

import pytest

from ghost_cli.exceptions import ToolchainError
from ghost_cli.toolchain import zig


def test_zig_comes_from_the_ziglang_package() -> None:
    import ziglang

    # The package's own binary, run directly (no second interpreter per compile).
    assert zig.zig_command() == [str(Path(ziglang.__file__).parent / "zig")]
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.+]+)?", zig.zig_version())
    assert zig.check_zig_version().startswith("0.17.")


def test_version_is_asked_once() -> None:
    zig.zig_version()
    hits = zig.zig_version.cache_info().hits
    zig.zig_version()
    assert zig.zig_version.cache_info().hits == hits + 1


def test_missing_ziglang_is_a_toolchain_error(monkeypatch) -> None:
    monkeypatch.setattr(zig.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ToolchainError, match="ziglang package is not installed"):
        zig.zig_command()


def test_unrunnable_zig_is_translated(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(zig, "zig_command", lambda: [str(tmp_path / "no-such-zig")])
    with pytest.raises(ToolchainError, match="could not run Zig") as info:
        zig.run_zig(["version"])
    assert isinstance(info.value.__cause__, OSError)


def test_other_zig_series_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(zig, "zig_version", lambda: "0.13.0")
    with pytest.raises(ToolchainError, match=r"Zig 0.13.0 is installed but the ghost SDK needs"):
        zig.check_zig_version()


def test_nonzero_exit_is_returned_not_raised(tmp_path) -> None:
    # cwd: even a failed build-exe leaves an output file behind
    run = zig.run_zig(["build-exe", str(tmp_path / "missing" / "file.zig")], cwd=tmp_path)
    assert run.returncode != 0
    assert "file.zig" in run.stderr
