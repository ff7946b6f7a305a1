"""`ghost build`: compile each contract to WebAssembly and stamp it with its metadata.

For each contract: read the ABI from its source (abi_extract), compile with Zig for
wasm32-freestanding, check that the module imports only host functions with the right
signatures and exports every ABI function, mark each function's `mutates` from the
module's call graph (toolchain/mutation.py), then append the `ghost.metadata` custom
section and write `<out_dir>/<name>.wasm`.

For the "zvm" target the module (compiled with a smaller shadow stack, see
defaults.ZVM_STACK_BYTES) is lowered to ZVM bytecode (toolchain/lowering) and written as
`<out_dir>/<name>.zvmc`, a ZVMC container whose ABI section holds the same metadata plus
`"target": "zvm"`.

Zig compiles a small generated root (`.ghost/zig-cache/<name>/ghost-root.zig`) that makes the SDK's
panic handler the program's and imports the contract, so a failed safety check or `@panic`
reports its message (docs/debugging.md). The compile keeps DWARF and the `name` section;
they are split off into `<out_dir>/<name>.debug.wasm` (toolchain/debuginfo.py) and never
deployed.

A contract whose sources, SDK, toolchain and settings have not changed since its last
build is not compiled again: its artifact is reused (toolchain/stamp.py); `force`
compiles anyway.

Builds are reproducible: Zig runs in the project root with relative paths, the deployed
bytes carry no debug info (they equal a stripped compile's), and the metadata is canonical
JSON (sorted keys, no whitespace) holding only facts derived from the sources and the
toolchain, so the same sources and toolchain give the same bytes in any directory and any
cache state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..abi import Abi
from ..config import defaults as d
from ..config.project import ContractConfig, Project
from ..exceptions import (
    CompileError,
    ConfigError,
    GhostError,
    ToolchainError,
    UnknownImportError,
    UsageError,
)
from ..fsutil import write_atomically
from . import stamp
from .zig import check_zig_version, run_zig

try:
    import fcntl
except ImportError:  # Windows: no flock, so no sweep of dead builds' directories
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ..vm.wasm_module import WasmModule

# The compile path's modules (the ABI reader, wasm parsing, the debug sidecar) are imported
# when something is compiled: a build that every stamp answers does not load them.

#: Called with a short description of each step, so the CLI can show what is happening.
Progress = Callable[[str], None]

_ZIG_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$")


@dataclass(frozen=True)
class BuildResult:
    name: str
    path: Path
    size: int
    sha256: str
    imports: tuple[str, ...]  # "module.name" of every import, e.g. "ghost.storage_read"
    exports: tuple[str, ...]  # names of the exported functions
    abi: Abi
    metadata: dict[str, Any]
    seconds: float
    target: str = d.DEFAULT_TARGET
    debug_path: Path | None = None  # the sidecar with DWARF, names (and the ZVM pc map)
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "imports": list(self.imports),
            "exports": list(self.exports),
            "abi": self.abi.to_json(),
            "metadata": self.metadata,
            "seconds": round(self.seconds, 3),
            "debug_path": str(self.debug_path) if self.debug_path else None,
            "safety": self.metadata["toolchain"]["optimize"] in d.SAFE_OPTIMIZE_MODES,
            "warnings": list(self.warnings),
        }


def build_project(
    project: Project, names: Iterable[str] | None = None, *, progress: Progress | None = None,
    target: str | None = None, optimize: str | None = None, force: bool = False,
) -> list[BuildResult]:
    """Build the named contracts (default: all of them, in ghost.toml order) for `target`
    (default: each contract's configured target) in Zig mode `optimize` (default: the
    project's `build.optimize`). A contract with nothing changed since its last build is
    not compiled again (stamp.py) unless `force`; Zig is not started when none is."""
    contracts = _selected(project, names)
    _sdk_file(project)  # fail before compiling anything if the SDK is missing
    zig = stamp.zig_identity()
    return [
        build_contract(project, c, progress=progress, target=target, optimize=optimize,
                       force=force, zig_identity=zig)
        for c in contracts
    ]


def _selected(project: Project, names: Iterable[str] | None) -> list[ContractConfig]:
    """The contracts `names` picks (default: all, in ghost.toml order), each once; a
    ConfigError or NotFoundError when there are none or a name is unknown."""
    if names is not None:
        return [project.contract(n) for n in dict.fromkeys(names)]
    contracts = list(project.contracts.values())
    if not contracts:
        raise ConfigError(
            f"{project.config_path}: no contracts declared; add a [contracts.<name>] table "
            "with a source key"
        )
    return contracts


def build_contract(
    project: Project,
    contract: ContractConfig,
    *,
    zig_version: str | None = None,
    progress: Progress | None = None,
    target: str | None = None,
    optimize: str | None = None,
    force: bool = False,
    zig_identity: str | None = None,
) -> BuildResult:
    """Compile one contract; write `<out_dir>/<name>.wasm` (or `.zvmc` for the zvm
    target) and describe the result. Unless `force`, a contract whose last build had the
    same inputs (stamp.py; `zig_identity` names the Zig binary) is not compiled: its
    artifact is reused."""
    started = time.perf_counter()
    target = target or contract.target
    if target not in d.TARGETS:
        raise ConfigError(f"unknown target {target!r}: use one of {', '.join(d.TARGETS)}")
    say = progress or (lambda _msg: None)
    if zig_identity is None:
        zig_identity = stamp.zig_identity()
    source = project.root / contract.source
    if not source.is_file():
        raise ConfigError(
            f"{project.config_path}: contracts.{contract.name}.source: "
            f"{contract.source.as_posix()} does not exist"
        )
    sdk = _sdk_file(project)
    # `-O ""` is a mode nobody has, as `--target ""` is a target: refused, not ignored
    optimize = project.build.optimize if optimize is None else optimize
    if optimize not in d.OPTIMIZE_MODES:  # ghost.toml's is checked on load: this is -O's
        raise UsageError(
            f"unknown optimize mode {optimize!r}: use one of {', '.join(d.OPTIMIZE_MODES)}")
    warnings = _warnings(project, contract, sdk, optimize)
    stack = d.ZVM_STACK_BYTES if target == "zvm" else None
    key = _key(project, contract, target, optimize, stack, zig_identity)
    found = None if key is None or force else stamp.lookup(project, contract.name, target, key)
    if found is not None:
        say(f"{contract.name} is up to date")
        return _from_stamp(project, found, target, warnings, started)
    zig_version = zig_version or check_zig_version()
    from ..vm.wasm_module import METADATA_SECTION, add_custom_section, parse_module
    from .abi_extract import extract_abi
    from .debuginfo import ZVM_DEBUG_SECTION, sidecar_path, strip_debug
    from .mutation import mutating_exports

    say(f"reading the ABI of {contract.name}")
    abi: Abi | CompileError
    try:
        abi = extract_abi(source, project.root)
    except CompileError as exc:
        if exc.details.get("reason") != "unreadable":
            raise  # valid Zig the ABI cannot express: our message names the line and type
        abi = exc  # not valid Zig, most likely: let the compiler say why first

    first = not (project.root / d.ZIG_CACHE_DIR / contract.name).is_dir()
    say(f"compiling {contract.name} with Zig {zig_version} ({optimize})"
        + ("; a first build can take a few seconds" if first else ""))
    debug_code, zig_output = _compile(project, contract, sdk, optimize, stack)
    code = strip_debug(debug_code)
    if isinstance(abi, CompileError):
        raise abi
    if not abi.functions:
        raise CompileError(
            f"{contract.source.as_posix()}: no `pub fn` declarations; a contract needs at "
            "least one function"
        )

    say(f"checking the imports and exports of {contract.name}")
    module = parse_module(code)
    check_imports(module, contract.name)
    check_exports(module, abi, contract, zig_output)
    # `mutates` comes from the code itself (its calls to state-writing host functions),
    # the same wasm for both targets: the ZVM build lowers this module.
    abi = abi.with_mutates(mutating_exports(code))

    metadata = {
        "format": d.METADATA_FORMAT,
        "name": contract.name,
        "abi": abi.to_json(),
        "source_hash": source_hash(project, contract),
        "toolchain": {
            "zig": zig_version,
            "ghost": __version__,
            "optimize": optimize,
            "target": d.WASM_TARGET,
            "cpu": d.WASM_CPU,
        },
    }
    if target == "zvm":
        metadata["target"] = target
        metadata["toolchain"]["stack_bytes"] = stack
        say(f"lowering {contract.name} to ZVM bytecode")
        final, zvm_debug = _zvmc(code, abi, metadata, contract)
        debug_code = add_custom_section(
            debug_code, ZVM_DEBUG_SECTION,
            json.dumps(zvm_debug, sort_keys=True, separators=(",", ":")).encode())
    else:
        payload = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode("utf-8")
        final = add_custom_section(code, METADATA_SECTION, payload)

    if key is not None and _key(project, contract, target, optimize, stack,
                                zig_identity) != key:
        # Edited while it was built: the artifact may hold either version, so it gets no
        # stamp (a stamp under the old key would serve it once the edit is undone).
        key = None
        warnings += (f"{contract.name}: its sources changed while it was built; build "
                     "again to be sure the artifact is of the sources now on disk",)
    path = project.out_dir / f"{contract.name}{d.ARTIFACT_SUFFIX[target]}"
    say(f"writing {_rel(path, project.root)}")
    _write_atomically(path, final)
    debug_path = sidecar_path(project.out_dir, contract.name, target)
    _write_atomically(debug_path, debug_code)
    result = BuildResult(
        name=contract.name,
        path=path,
        size=len(final),
        sha256=hashlib.sha256(final).hexdigest(),
        imports=tuple(str(i) for i in module.imports),
        exports=tuple(e.name for e in module.exports if e.kind == "func"),
        abi=abi,
        metadata=metadata,
        seconds=time.perf_counter() - started,
        target=target,
        debug_path=debug_path,
        warnings=warnings + _size_warnings(contract.name, len(final)),
    )
    if key is not None:
        stamp.record(project, contract.name, target, key, {
            "name": result.name, "path": _rel(path, project.root), "size": result.size,
            "sha256": result.sha256, "imports": list(result.imports),
            "exports": list(result.exports), "abi": abi.to_json(), "metadata": metadata,
            "debug_path": _rel(debug_path, project.root),
        }, hashlib.sha256(debug_code).hexdigest())
    return result


def _warnings(project: Project, contract: ContractConfig, sdk: Path,
              optimize: str) -> tuple[str, ...]:
    warnings: tuple[str, ...] = () if optimize in d.SAFE_OPTIMIZE_MODES else (
        f"{contract.name}: Zig's safety checks are off ({optimize}): integer overflow wraps, "
        "an index out of bounds reads whatever is there and `unreachable` runs on; "
        "ReleaseSafe keeps them",)
    if not has_panic_handler(sdk):
        warnings += (
            f"{_rel(sdk, project.root)} has no panic handler (an SDK from an older ghost): "
            "a failed safety check or @panic traps without its message; copy the SDK of "
            "a new project (`ghost new`) over it",)
    return warnings


def _size_warnings(name: str, size: int) -> tuple[str, ...]:
    """Every deploy refuses an artifact above the module size limit (exit 5): say so when
    it is built, where the contract can still be made smaller."""
    from ..vm.types import Limits

    limit = Limits().module_bytes
    if size <= limit:
        return ()
    return (f"{name}: the artifact is {size:,} bytes, above the {limit:,}-byte module "
            "limit: a deploy refuses it (invalid_module)",)


def _key(project: Project, contract: ContractConfig, target: str, optimize: str,
         stack: int | None, zig_identity: str | None) -> str | None:
    """The build's stamp key; None without Zig to identify (the compile will say why) or
    with an input it cannot read (the compile reports it)."""
    if zig_identity is None:
        return None
    try:
        return stamp.build_key(project, contract, target, optimize, stack, zig_identity)
    except OSError:
        return None


def up_to_date(project: Project, names: Iterable[str] | None = None, *,
               target: str | None = None, optimize: str | None = None
               ) -> list[BuildResult] | None:
    """What `build_project(project, names, target=..., optimize=...)` would return if
    every contract it builds is unchanged since its last build (all answered by stamps,
    nothing compiled, no Zig started); None as soon as one is not, or anything is amiss:
    the full build then runs and reports it."""
    started = time.perf_counter()
    zig = stamp.zig_identity()
    try:
        contracts = _selected(project, names)
    except GhostError:  # none declared, or an unknown name: the full build says which
        return None
    if zig is None:
        return None
    sdk = project.sdk_dir / d.SDK_FILE
    if not sdk.is_file():
        return None
    results = []
    for contract in contracts:
        built_for = target or contract.target
        mode = project.build.optimize if optimize is None else optimize
        if (built_for not in d.TARGETS or mode not in d.OPTIMIZE_MODES
                or not (project.root / contract.source).is_file()):
            return None
        stack = d.ZVM_STACK_BYTES if built_for == "zvm" else None
        key = _key(project, contract, built_for, mode, stack, zig)
        found = None if key is None else stamp.lookup(project, contract.name, built_for, key)
        if found is None:
            return None
        results.append(_from_stamp(project, found, built_for,
                                   _warnings(project, contract, sdk, mode), started))
        started = time.perf_counter()
    return results


def _from_stamp(project: Project, found: dict[str, Any], target: str,
                warnings: tuple[str, ...], started: float) -> BuildResult:
    """The result of a build skipped by its stamp: as the build that wrote it described it."""
    return BuildResult(
        name=found["name"],
        path=project.root / found["path"],
        size=found["size"],
        sha256=found["sha256"],
        imports=tuple(found["imports"]),
        exports=tuple(found["exports"]),
        abi=Abi.from_json(found["abi"]),
        metadata=found["metadata"],
        seconds=time.perf_counter() - started,
        target=target,
        debug_path=project.root / found["debug_path"],
        warnings=warnings + _size_warnings(found["name"], found["size"]),
    )


def _zvmc(code: bytes, abi: Abi, metadata: dict[str, Any],
          contract: ContractConfig) -> tuple[bytes, dict[str, Any]]:
    """Lower the module and wrap it with its metadata in a ZVMC container; also return the
    lowering's debug map (pc -> wasm function and offset, frame layout)."""
    from ..vm.zvm.container import encode_zvmc, metadata_json
    from .lowering import lower_with_debug

    try:
        lowered, debug = lower_with_debug(code, abi, shadow_stack=True)
    except CompileError as exc:
        raise CompileError(
            f"{contract.source.as_posix()}: {exc.message}", contract=contract.name, **exc.details
        ) from exc
    container = encode_zvmc(lowered, metadata_json(metadata))
    # The container puts the code after its header and sections; the pc map is by code pc.
    return container, debug


def _sdk_file(project: Project) -> Path:
    sdk = project.sdk_dir / d.SDK_FILE
    if not sdk.is_file():
        raise ConfigError(
            f"{project.config_path}: build.sdk_dir: {project.build.sdk_dir}/{d.SDK_FILE} "
            "not found (a new project from `ghost new` has it)"
        )
    return sdk


def _compile(
    project: Project, contract: ContractConfig, sdk: Path, optimize: str, stack: int | None,
    *, strip: bool = False,
) -> tuple[bytes, str]:
    """Run Zig in the project root with relative paths, so messages and output name no
    absolute path; return the module's bytes and Zig's output (its warnings). `stack`: the
    shadow stack's size in bytes (None: Zig's default). `strip`: without debug info (builds
    keep it, for the sidecar)."""
    root = project.root
    cache = Path(d.ZIG_CACHE_DIR) / contract.name
    main = _root_file(project, contract, sdk)
    with _build_dir(project.state_dir) as tmp_dir:
        out = tmp_dir / f"{contract.name}.wasm"
        args = [
            "build-exe",
            "-target", d.WASM_TARGET,
            # WebAssembly 1.0 only: the engine refuses bulk memory (memory.copy/fill move
            # megabytes for one unit of fuel), and a fixed CPU keeps the bytes reproducible
            f"-mcpu={d.WASM_CPU}",
            # The MVP instruction set: no bulk memory (memory.copy/fill cost one unit of
            # fuel whatever their length, so the VM refuses them); copies become loops.
            "-mcpu=mvp",
            "-fno-entry",  # a library of exports, no _start
            "-rdynamic",  # export what exportContract @exports
            # Debug info is split off into the sidecar: deployed bytes never carry it.
            "-fstrip" if strip else "-fno-strip",
            "--color", "off",
            "--cache-dir", cache.as_posix(),
            "--name", contract.name,
            # -O is per module: give it to each, so the SDK is optimized like the contract
            "-O", optimize,
            "--dep", d.SDK_MODULE, "--dep", _CONTRACT_MODULE,
            f"-Mroot={_rel(main, root)}",
            "-O", optimize,
            "--dep", d.SDK_MODULE,
            f"-M{_CONTRACT_MODULE}={contract.source.as_posix()}",
            "-O", optimize,
            f"-M{d.SDK_MODULE}={_rel(sdk, root)}",
            f"-femit-bin={out}",
            *(["--stack", str(stack)] if stack is not None else []),
        ]
        run = run_zig(args, cwd=root)
        if run.returncode != 0:
            raise _compile_error(contract, run.stderr or run.stdout, root)
        try:
            return out.read_bytes(), run.stderr
        except OSError as exc:
            raise ToolchainError(
                f"Zig reported success but wrote no module for {contract.name}: {exc}"
            ) from exc


#: Zig's output goes to a new `.ghost/build-*` directory; the build holds its lock file
#: (flock) locked from the moment it has that name until the directory is gone.
_BUILD_DIR_PREFIX = "build-"
_LOCK_FILE = ".lock"
#: The names tempfile gives it (not `build-stamps`).
_BUILD_DIR_NAME = re.compile(re.escape(_BUILD_DIR_PREFIX) + r"[a-z0-9_]{8}")


@contextlib.contextmanager
def _build_dir(state_dir: Path) -> Iterator[Path]:
    """A new build directory in `state_dir`, removed on the way out: on an error, Ctrl-C,
    SIGTERM or SIGHUP too (cli/main.py). Only SIGKILL or a crash can leave one behind;
    the next build removes those first (_sweep_build_dirs)."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        _sweep_build_dirs(state_dir)
        tmp = tempfile.TemporaryDirectory(prefix=_BUILD_DIR_PREFIX, dir=state_dir)
    except OSError as exc:
        raise ToolchainError(f"cannot create a build directory in {state_dir}: {exc}") from exc
    lock = None
    try:
        with tmp as name:
            lock = _lock_build_dir(Path(name))
            yield Path(name)
    finally:  # after the directory is gone: until then it is this build's
        if lock is not None:
            os.close(lock)


def _lock_build_dir(directory: Path) -> int | None:
    """Lock `directory`'s lock file for as long as the descriptor returned stays open (the
    process's life at most: the kernel drops a dead process's locks). The file gets its
    name only once locked, so a sweep never finds it unlocked while this build runs.
    None where there are no such locks: that directory is never swept."""
    if fcntl is None:
        return None
    fresh = directory / f"{_LOCK_FILE}.new"
    try:
        fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(fresh, directory / _LOCK_FILE)
    except OSError:  # a file system without flock (some network mounts): no lock
        os.close(fd)
        return None
    return fd


def _sweep_build_dirs(state_dir: Path) -> None:
    """Remove the build directories whose build is gone (killed with SIGKILL, a crash, a
    power cut): those whose lock file this process can lock. A concurrent build holds
    its own locked, so it is left alone; so is a directory with no lock file (one being
    made, or one from a ghost before these locks: delete `.ghost/` to be rid of it)."""
    if fcntl is None:
        return
    try:
        found = [p for p in state_dir.iterdir() if _BUILD_DIR_NAME.fullmatch(p.name)]
    except OSError:
        return
    for directory in found:
        lock_path = directory / _LOCK_FILE
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except OSError:  # no lock file
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # still the file locked here: not a directory made since under the same name
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:  # locked, a live build's (or gone meanwhile)
            pass
        finally:
            os.close(fd)


_CONTRACT_MODULE = "contract"
_ROOT_SOURCE = """// Generated by `ghost build`: the SDK's panic handler, then the contract.
pub const panic = @import("ghost").panic;
comptime {
    _ = @import("contract");
}
"""
#: An SDK from before the panic handler: Zig's default (a bare trap), so it still builds.
_OLD_SDK_ROOT = _ROOT_SOURCE.replace('pub const panic = @import("ghost").panic;\n', "")


def has_panic_handler(sdk: Path) -> bool:
    """Whether the project's SDK declares `ghost.panic` (SDKs copied by `ghost new` before
    it existed do not; their contracts trap without a message)."""
    try:
        # bytes: an SDK that is not UTF-8 is for Zig to report, with its line
        return b"pub const panic = struct" in sdk.read_bytes()
    except OSError:
        return False


def _root_file(project: Project, contract: ContractConfig, sdk: Path) -> Path:
    """The generated root module, at a fixed path so Zig's cache keeps hitting."""
    path = project.root / d.ZIG_CACHE_DIR / contract.name / "ghost-root.zig"
    source = _ROOT_SOURCE if has_panic_handler(sdk) else _OLD_SDK_ROOT
    try:
        if not path.is_file() or path.read_bytes() != source.encode():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, source.encode())
    except OSError as exc:
        raise ToolchainError(f"cannot write {path}: {exc}") from exc
    return path


def _compile_error(contract: ContractConfig, output: str, root: Path) -> CompileError:
    errors = []
    for line in output.splitlines():
        m = _ZIG_ERROR.match(line.strip())
        if m:
            file = _in_project(Path(m["file"]), root)
            errors.append(f"{file}:{m['line']}:{m['col']}: error: {m['msg']}")
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = errors[0] + more
    else:
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        first = next((ln for ln in lines if "error" in ln), lines[-1] if lines else "no output")
        message = f"{contract.name}: Zig failed: {first}"
    return CompileError(message, contract=contract.name, errors=errors, output=output)


def _in_project(path: Path, root: Path) -> str:
    """A file of the project relative to its root, as Zig names it; any other (Zig's std,
    an SDK elsewhere) as Zig wrote it: `../../..` climbing out of the project reads worse
    than the path, and the message then no longer matches Zig's own first line."""
    if path.is_absolute() and path.is_relative_to(root):
        return _rel(path, root)
    return path.as_posix()


def check_imports(module: WasmModule, name: str) -> None:
    """Every import must be a host function from module "ghost" with the table's signature."""
    import difflib

    from ..vm.host_table import BY_NAME, HOST_MODULE
    from ..vm.wasm_module import FuncType

    for imp in module.imports:
        where = f"{name}.wasm imports {imp.module}.{imp.name}"
        if imp.module != HOST_MODULE or imp.kind != "func":
            raise UnknownImportError(
                f"{where} ({imp.kind}), which the host does not provide; contracts may import "
                f'only host functions from module "{HOST_MODULE}"'
            )
        host = BY_NAME.get(imp.name)
        if host is None:
            close = difflib.get_close_matches(imp.name, list(BY_NAME), n=1)
            hint = f"did you mean {close[0]}?" if close else "see docs/host-abi.md"
            raise UnknownImportError(f"{where}, which is not a host function ({hint})")
        expected = FuncType(tuple(t for _, t in host.params), host.results)
        if imp.type != expected:
            raise UnknownImportError(
                f"{where} with signature {imp.type} but the host provides {expected}"
            )


def check_exports(module: WasmModule, abi: Abi, contract: ContractConfig,
                  zig_output: str = "") -> None:
    """Every ABI function must be exported as a `() -> ()` entry point. `zig_output`:
    what Zig printed, which says why the linker dropped an export."""
    from ..vm.wasm_module import FuncType

    entry = FuncType((), ())  # every contract function: arguments come through input_copy
    for fn in abi.functions:
        found = module.export_type(fn.name)
        if found is None:
            raise _missing_export(fn.name, contract, zig_output)
        if found != entry:
            raise CompileError(
                f"{contract.source.as_posix()}: export {fn.name!r} has signature {found}, "
                f"expected {entry} (contract functions are exported by exportContract)"
            )


def _missing_export(name: str, contract: ContractConfig, zig_output: str) -> CompileError:
    where = contract.source.as_posix()
    # wasm-ld meets two definitions of the symbol, the contract's and one from Zig's C
    # runtime (compiler_rt: strlen, memcpy, ...) that the code calls; it keeps the
    # runtime's, warns, and the contract's export is gone.
    if re.search(rf"function signature mismatch: {re.escape(name)}$", zig_output, re.M):
        return CompileError(
            f"{where}: function {name!r} has the name of a C runtime function Zig links into "
            "the module (wasm-ld: function signature mismatch), so the linker keeps that one "
            "and drops the contract's export; rename the function", function=name)
    return CompileError(
        f"{where}: function {name!r} is not exported; does the contract have "
        "`comptime { ghost.exportContract(@This()); }`?")


#: A file a Zig source pulls in: Zig takes only a string literal here, so a scan finds
#: every one (one in a comment only adds a file, never drops one).
_PULLS_IN = re.compile(rb'@(import|embedFile)\s*\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)')


def source_files(project: Project, contract: ContractConfig) -> list[Path]:
    """The files a contract is built from: its root file, every file reached from it through
    `@import` or `@embedFile` of a path (a name such as "std" or "ghost" is a module,
    not a file), and the SDK directory's Zig files. Other contracts beside it are not
    among them."""
    sdk = project.sdk_dir
    files = {p for p in stamp.input_files(project, contract)
             if p.suffix == ".zig" and p.is_relative_to(sdk)}
    todo = [Path(os.path.normpath(project.root / contract.source))]
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        if path.suffix != ".zig":
            continue  # an embedded file is data
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ToolchainError(f"cannot read {path}: {exc}") from exc
        for builtin, target in _PULLS_IN.findall(text):
            name = target.decode("utf-8", "replace")
            # Zig's rule: @import of a path ends in .zig or .zon; else it names a module
            if builtin == b"embedFile" or name.endswith((".zig", ".zon")):
                pulled = Path(os.path.normpath(path.parent / name))
                if pulled.is_file():  # a missing one is Zig's error to report
                    todo.append(pulled)
    return sorted(files, key=lambda p: _rel(p, project.root))


def source_hash(project: Project, contract: ContractConfig) -> str:
    """sha256 over the sorted relative paths and contents of the contract's source files.

    Each file contributes its path, a NUL, its length as 8 bytes little-endian and its
    bytes, so no two different trees hash alike.
    """
    h = hashlib.sha256()
    for path in source_files(project, contract):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ToolchainError(f"cannot read {path}: {exc}") from exc
        h.update(_rel(path, project.root).encode("utf-8") + b"\0")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ToolchainError(f"cannot write {path}: {exc}") from exc
