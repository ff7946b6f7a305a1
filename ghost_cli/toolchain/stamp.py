"""Build stamps: `ghost build` skips Zig for a contract when nothing it is built from changed.

After a build, `.ghost/build-stamps/<name>.<target>.json` records a key over everything
the artifact is made from, and the result (sizes, hashes, ABI, metadata, imports,
exports). The next build of that contract with the same key reuses the artifact instead
of compiling, and does not even start Zig (`zig version` included) when every contract
is up to date. The key covers:

  - every file (any extension) under the contract's source directory and the SDK
    directory, by relative path and contents (hidden directories and the build output
    left out, as for the metadata's source_hash);
  - the contract's name, source path and target, the optimize mode, the shadow stack
    size, the wasm target and CPU, the output directory;
  - the ghost version, the Python files of ghost that shape an artifact (toolchain, VM,
    config and top-level modules, by path, size and modification time: an edited
    toolchain in a development install builds again) and the Zig binary
    (its path, size and modification time: a new ziglang package is a new binary).

A stamp is used only if the artifact and its debug sidecar still hold exactly the bytes
the build wrote (their sha256 is recorded), so an edited or deleted artifact is rebuilt.
A build whose inputs changed while Zig ran records no stamp (build.py checks the key again).
`ghost build --force` (`build_project(..., force=True)`) always compiles, and so does a
contract with more than MAX_INPUT_FILES input files or MAX_INPUT_BYTES of them. A stamp that
cannot be read is ignored; one that cannot be written only costs the next build its skip.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..config import defaults as d
from ..fsutil import write_atomically

if TYPE_CHECKING:
    from ..config.project import ContractConfig, Project

#: Past this many input files or bytes the key is not worth computing: no stamp, compile.
MAX_INPUT_FILES = 2_000
MAX_INPUT_BYTES = 64 << 20
STAMP_DIR = "build-stamps"  # under the project's state directory (.ghost)
#: Part of every key: bump when what a stamp records, or how it is checked, changes.
STAMP_FORMAT = 1


def stamp_path(project: Project, name: str, target: str) -> Path:
    return project.state_dir / STAMP_DIR / f"{name}.{target}.json"


def zig_identity() -> str | None:
    """The installed Zig binary as path, size and mtime; None when it cannot be found
    (then nothing is skipped and the build reports why Zig is missing)."""
    from .zig import zig_command

    try:
        binary = zig_command()[-1]
        st = os.stat(binary)
    except Exception:  # noqa: BLE001 - any failure here only means: do not skip
        return None
    return f"{binary}:{st.st_size}:{st.st_mtime_ns}"


#: What of ghost shapes an artifact: the toolchain, the VM modules it uses (wasm parsing,
#: the ZVM lowering's assembler and container), the defaults, and the top-level modules.
_SHAPING = ("toolchain", "vm", "config")


@lru_cache(maxsize=1)
def ghost_fingerprint() -> str:
    """ghost's Python files that shape an artifact, by path, size and modification time
    (stat only: a few milliseconds)."""
    package = Path(__file__).resolve().parent.parent
    entries: list[str] = []

    def add(path: str) -> None:
        st = os.stat(path)
        entries.append(f"{os.path.relpath(path, package)}:{st.st_size}:{st.st_mtime_ns}")

    for name in os.listdir(package):
        if name.endswith(".py"):
            add(os.path.join(package, name))
    for sub in _SHAPING:
        for dirpath, dirnames, filenames in os.walk(package / sub):
            dirnames[:] = [dn for dn in dirnames if dn != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    add(os.path.join(dirpath, name))
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def input_files(project: Project, contract: ContractConfig) -> list[Path]:
    """Every file under the contract's source directory and the SDK directory (Zig may
    @embedFile any of them), skipping hidden directories and the build output."""
    root = project.root
    skip = {project.out_dir.resolve(), project.state_dir.resolve()}
    files: set[Path] = set()
    for top in ((root / contract.source).parent, project.sdk_dir):
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath)
            dirnames[:] = [dn for dn in dirnames
                           if not dn.startswith(".") and (here / dn).resolve() not in skip
                           and dn not in ("zig-out", "zig-cache")]
            files.update(here / f for f in filenames)
    return sorted(files)


def build_key(project: Project, contract: ContractConfig, target: str, optimize: str,
              stack: int | None, zig: str) -> str | None:
    """The key of a build, or None when the inputs are too many to hash (a contract whose
    source sits at the top of a large tree): then it is always compiled."""
    files = input_files(project, contract)
    if len(files) > MAX_INPUT_FILES:
        return None
    h = hashlib.sha256()
    settings = {
        "format": STAMP_FORMAT, "ghost": __version__, "ghost_files": ghost_fingerprint(),
        "zig": zig, "name": contract.name,
        "source": contract.source.as_posix(), "target": target, "optimize": optimize,
        "stack": stack, "wasm_target": d.WASM_TARGET, "cpu": d.WASM_CPU,
        "out_dir": project.out_dir.resolve().as_posix(),
    }
    h.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    total = 0
    for path in files:
        data = path.read_bytes()
        total += len(data)
        if total > MAX_INPUT_BYTES:
            return None
        h.update(path.relative_to(project.root).as_posix().encode() + b"\0")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


_RESULT_KEYS = frozenset({"name", "path", "size", "sha256", "imports", "exports", "abi",
                          "metadata", "debug_path"})


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def lookup(project: Project, name: str, target: str, key: str) -> dict[str, Any] | None:
    """The recorded result of the build with `key`, if its artifact and sidecar are intact."""
    try:
        stamp = json.loads(stamp_path(project, name, target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("key") != key:
        return None
    result = stamp.get("result")
    if not isinstance(result, dict) or not _RESULT_KEYS <= result.keys():
        return None
    artifact = project.root / result.get("path", "")
    sidecar = project.root / result.get("debug_path", "")
    if (_sha256_of(artifact) != result.get("sha256")
            or _sha256_of(sidecar) != stamp.get("debug_sha256")):
        return None
    return result


def record(project: Project, name: str, target: str, key: str, result: dict[str, Any],
           debug_sha256: str) -> None:
    path = stamp_path(project, name, target)
    data = json.dumps({"key": key, "debug_sha256": debug_sha256, "result": result},
                      sort_keys=True).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    except OSError:
        pass  # no stamp: the next build compiles, which is always correct

