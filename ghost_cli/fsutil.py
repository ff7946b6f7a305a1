"""Small file-system helpers shared by the config, the toolchain and the keystore."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never a torn one
    (a full disk leaves the old file in place). Raises OSError; callers translate it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _written_temp(path, data)
    try:
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise



def write_output(path: Path, data: bytes, mode: int = 0o644) -> None:
    """`write_atomically` for a file the user named (`-o FILE`): a path that cannot be
    written is their input, one line and exit 2."""
    from .exceptions import UsageError

    try:
        write_atomically(path, data, mode)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

def write_new(path: Path, data: bytes) -> bool:
    """Write `data` to a temporary file (mode 0600) and hard-link it as `path`; False,
    writing nothing, when `path` exists (a rename would replace it). Where the file
    system has no hard links, the name is claimed with O_EXCL first, then replaced.
    Raises OSError; callers translate it."""
    tmp = _written_temp(path, data)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links here (FAT, some network mounts)
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                return False
            try:
                os.replace(tmp, path)
            except BaseException:
                path.unlink(missing_ok=True)  # our own empty claim
                raise
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _written_temp(path: Path, data: bytes) -> str:
    """A new temporary file beside `path` (mode 0600) holding `data`, flushed to disk."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp
