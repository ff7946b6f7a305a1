"""`ghost fmt`: the project's Zig sources through `zig fmt` (the Zig `ghost build` uses,
refused as `ghost build` refuses it when it is of another series).

The vendored SDK (`[build] sdk_dir`, lib/ by default) is left alone unless asked for:
it is ghost's file, replaced on upgrade, and formatting it would only make a diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..config import defaults as d
from ..config.project import Project
from ..exceptions import CompileError, FormatCheckError, ToolchainError, UsageError
from .zig import check_zig_version, run_zig

#: Directories never searched for sources: build output, ghost's state, Zig's caches.
_SKIP_DIRS = {d.STATE_DIR, ".zig-cache", "zig-cache", "zig-out", "node_modules"}
#: A diagnostic about the source itself, `file:line:col: error: ...`.
_PARSE_ERROR = re.compile(r"^.+:\d+:\d+: error: ")


@dataclass(frozen=True)
class FormatResult:
    files: list[Path]  # every file looked at
    changed: list[Path]  # reformatted, or with check=True: would be


def zig_sources(project: Project, *, include_sdk: bool = False) -> list[Path]:
    """Every .zig file under the project root, sorted, without build output, hidden
    directories and (unless `include_sdk`) the SDK directory."""
    skip = {project.root / name for name in _SKIP_DIRS} | {project.out_dir}
    if not include_sdk:
        skip.add(project.sdk_dir)
    found = []
    for path in sorted(project.root.rglob("*.zig")):
        if not path.is_file():  # a directory named x.zig, a dangling link: no source
            continue
        parents = path.relative_to(project.root).parents
        if any(p.name.startswith(".") for p in parents) or any(
            (project.root / p) in skip for p in parents
        ):
            continue
        found.append(path)
    return found


def format_sources(project: Project, paths: list[Path] | None = None, *, check: bool = False,
                   include_sdk: bool = False) -> FormatResult:
    """Format `paths` (default: the project's Zig sources) in place, or with `check` only
    list those that would change (FormatCheckError when any would)."""
    files = [p.resolve() for p in paths] if paths else zig_sources(project,
                                                                  include_sdk=include_sdk)
    for p in files:
        if not p.exists():
            raise UsageError(f"no such file: {p}")
        if not p.is_file() or p.suffix != ".zig":
            raise UsageError(f"not a Zig source file: {p}")
    if not files:
        return FormatResult([], [])
    # relative to the project root where they can be: Zig's diagnostics name them as
    # given, and `ghost build` names sources relative to the root too
    # ("./-x.zig": Zig would read a name starting with `-` as an option)
    names = [f"./{n}" if n.startswith("-") else n for n in (_rel(p, project.root)
                                                              for p in files)]
    # As `ghost build` does: another Zig series formats differently, so its output would
    # fight the Zig that builds the contracts (and `--check` would fail on clean files).
    check_zig_version()
    run = run_zig(["fmt", *(["--check"] if check else []), *names], cwd=project.root)
    errors = [line for line in run.stderr.splitlines() if _PARSE_ERROR.match(line)]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CompileError(f"zig fmt cannot parse {errors[0].strip()}{more}",
                           output=run.stderr)
    failures = [line.strip() for line in run.stderr.splitlines() if "error:" in line]
    if failures:  # not the source's fault: e.g. `error: formatting "x.zig": AccessDenied`
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise ToolchainError(f"zig fmt failed: {failures[0].removeprefix('error: ')}{more}")
    changed = [_resolve(line, project.root) for line in run.stdout.splitlines() if line.strip()]
    if check and changed:
        names = ", ".join(_rel(p, project.root) for p in changed)
        raise FormatCheckError(f"{len(changed)} file(s) not formatted: {names}",
                               files=[_rel(p, project.root) for p in changed])
    if run.returncode != 0:
        raise ToolchainError(f"zig fmt failed: {run.stderr.strip() or 'no output'}")
    return FormatResult(files, changed)


def _resolve(line: str, root: Path) -> Path:
    path = Path(line.strip())
    return path if path.is_absolute() else (root / path).resolve()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
