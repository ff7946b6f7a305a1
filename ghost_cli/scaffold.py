"""`ghost new`: create a project from a template.

Templates live in templates/<name>/ at the top of the repository, shipped as the package
`ghost_cli.templates`, and are read with importlib.resources so this works from a wheel
as well as from a checkout. A template is any directory there holding a ghost.toml; the
contract SDK (templates/sdk/ghost.zig) is copied into every new project's lib/.
"""

from __future__ import annotations

import importlib.resources
import keyword
import re
import shutil
from importlib.resources.abc import Traversable
from pathlib import Path

from .config.defaults import CONFIG_FILE, DEFAULT_SDK_DIR, SDK_FILE
from .exceptions import GhostError, UsageError

TEMPLATES_PACKAGE = "ghost_cli.templates"
SDK_TEMPLATE = "sdk"
DEFAULT_TEMPLATE = "counter"
PLACEHOLDER = "{{name}}"
#: The project name made a Zig identifier (`my-app` -> `my_app`), for templates that need one.
IDENT_PLACEHOLDER = "{{ident}}"

# Zig keywords: the identifier derived from a project name may appear in generated code.
_ZIG_KEYWORDS = frozenset(
    "addrspace align allowzero and anyframe anytype asm break callconv catch comptime const "
    "continue defer else enum errdefer error export extern fn for if inline linksection "
    "noalias noinline nosuspend opaque or orelse packed pub resume return struct suspend "
    "switch test threadlocal try union unreachable var volatile while".split()
)
# A project name, as a cargo package name: a letter, then letters, digits, `_` or `-`.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", ".ghost", "build"}


def templates_root() -> Traversable:
    """The templates directory, from the installed package or, failing that, the checkout."""
    try:
        return importlib.resources.files(TEMPLATES_PACKAGE)
    except ModuleNotFoundError:
        # A checkout on sys.path without an install: templates/ sits next to ghost_cli/.
        checkout = Path(__file__).resolve().parent.parent / "templates"
        if checkout.is_dir():
            return checkout
        raise GhostError(
            "ghost's templates are missing from this installation; reinstall ghost-cli"
        ) from None


def available_templates() -> list[str]:
    """Names of the project templates, sorted."""
    root = templates_root()
    return sorted(
        t.name for t in root.iterdir() if t.is_dir() and (t / CONFIG_FILE).is_file()
    )


def identifier_for(name: str) -> str:
    """The Zig identifier a project name stands for, as cargo makes a crate name from a
    package name: every `-` becomes `_` (`my-app` -> `my_app`)."""
    return name.replace("-", "_")


def validate_name(name: str) -> str:
    """The Zig identifier for `name` if it can name a project; UsageError saying why not."""
    if not _NAME.match(name):
        hint = re.sub(r"[^A-Za-z0-9_-]", "_", name).lstrip("_-0123456789")[:64]
        suggestion = f" (try {hint!r})" if hint and hint != name else ""
        raise UsageError(
            f"invalid project name {name!r}: use a letter then letters, digits, _ or -, at "
            f"most 64 characters{suggestion}"
        )
    if name in _ZIG_KEYWORDS or keyword.iskeyword(name):
        raise UsageError(f"invalid project name {name!r}: it is a Zig or Python keyword")
    return identifier_for(name)


def new_project(name: str, template: str = DEFAULT_TEMPLATE, dest: Path | None = None) -> Path:
    """Create project `name` from `template` in directory `dest` (default ./<name>).

    `dest` may exist if it is empty. Returns the project root, resolved.
    """
    ident = validate_name(name)
    known = available_templates()
    if template not in known:
        raise UsageError(f"unknown template {template!r} (templates: {', '.join(known)})")
    root = (Path.cwd() / name if dest is None else Path(dest)).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(f"{root} already exists and is not an empty directory")
    # A path through a file (`--dir notes.txt/app`) is the caller's mistake, not a failed
    # write: say which part is a file rather than the system's ENOTDIR at mkdir.
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"cannot create the project in {root}: {existing} is not a directory")

    source = templates_root()
    created = _topmost_missing(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        _copy_tree(source / template, root, name, ident)
        sdk = source / SDK_TEMPLATE / SDK_FILE
        (root / DEFAULT_SDK_DIR).mkdir(exist_ok=True)
        (root / DEFAULT_SDK_DIR / SDK_FILE).write_bytes(sdk.read_bytes())
    except BaseException as exc:
        # A full disk or Ctrl-C midway would leave half a project (a truncated SDK) that
        # the next `ghost new` refuses as not empty: take back everything made here.
        _undo(root, created)
        if isinstance(exc, OSError):
            raise GhostError(f"cannot create the project in {root}: {exc.strerror or exc}") from exc
        raise
    return root


def _topmost_missing(path: Path) -> Path | None:
    """The outermost directory of `path` (itself included) that does not exist yet."""
    missing = None
    for p in (path, *path.parents):
        if p.exists():
            break
        missing = p
    return missing


def _undo(root: Path, created: Path | None) -> None:
    """Remove what a failed `new_project` made: the directories it created, or, in a
    directory that was there (and empty), everything now in it."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    try:
        for item in list(root.iterdir()):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
    except OSError:
        pass  # the error being raised says more than this one would


def _copy_tree(src: Traversable, dst: Path, name: str, ident: str) -> None:
    for item in sorted(src.iterdir(), key=lambda t: t.name):
        if item.name in _SKIP or item.name.endswith(".pyc"):
            continue
        target = dst / item.name
        if item.is_dir():
            target.mkdir(exist_ok=True)
            _copy_tree(item, target, name, ident)
        else:
            target.write_bytes(_fill(item.read_bytes(), name, ident))


def _fill(data: bytes, name: str, ident: str) -> bytes:
    """Replace the placeholder in text files; binary files are copied as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return text.replace(PLACEHOLDER, name).replace(IDENT_PLACEHOLDER, ident).encode("utf-8")
