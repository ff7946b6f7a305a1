"""Find and run Zig, which ships as the `ziglang` Python package.

Nothing needs a manual download: the package carries the compiler, and
`python -m ziglang` runs it with the interpreter that runs ghost.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config.defaults import SUPPORTED_ZIG_SERIES
from ..exceptions import ToolchainError

_INSTALL_HINT = "pip install ziglang==0.17.1"


@dataclass(frozen=True)
class ZigRun:
    returncode: int
    stdout: str
    stderr: str


def zig_command() -> list[str]:
    """The argv prefix that runs Zig; ToolchainError when the ziglang package is absent.

    The package's own binary when it is there: `python -m ziglang` would start a second
    interpreter on every compile (about 40 ms each)."""
    spec = importlib.util.find_spec("ziglang")
    if spec is None or spec.origin is None:
        raise ToolchainError(
            f"Zig not found: the ziglang package is not installed ({_INSTALL_HINT})"
        )
    for name in ("zig", "zig.exe"):
        binary = Path(spec.origin).parent / name
        if binary.is_file():
            return [str(binary)]
    return [sys.executable, "-m", "ziglang"]


def run_zig(args: Sequence[str], *, cwd: Path | None = None, timeout: float = 600) -> ZigRun:
    """Run Zig with `args`; translate failures to start it into ToolchainError.

    A non-zero exit is returned, not raised: the caller knows what the output means.
    """
    import subprocess  # here: a build that every stamp answers starts no process

    argv = zig_command() + list(args)
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"zig {args[0] if args else ''} timed out after {timeout:g}s") from exc
    except OSError as exc:
        raise ToolchainError(f"could not run Zig ({' '.join(argv[:3])}): {exc}") from exc
    return ZigRun(proc.returncode, proc.stdout, proc.stderr)


@lru_cache(maxsize=1)
def zig_version() -> str:
    """The Zig version, e.g. "0.17.1" (asked once per process)."""
    run = run_zig(["version"], timeout=60)
    version = run.stdout.strip()
    if run.returncode != 0 or not version:
        detail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolchainError(f"`zig version` failed: {detail}")
    return version


def check_zig_version() -> str:
    """The Zig version, if it is the series the contract SDK is written for."""
    version = zig_version()
    if not (version == SUPPORTED_ZIG_SERIES or version.startswith(SUPPORTED_ZIG_SERIES + ".")):
        raise ToolchainError(
            f"Zig {version} is installed but the ghost SDK needs Zig {SUPPORTED_ZIG_SERIES}.x "
            f"({_INSTALL_HINT})"
        )
    return version
