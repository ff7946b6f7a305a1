"""Compiled modules, cached in memory (by sha256 of the code) and on disk.

On disk a module is `Module.serialize()` output behind a small header and a sha256 of the
payload, in `<cache_dir>/<code sha256>.<tag>.cwasm`, where the tag names the wasmtime
build (its native library's size and modification time) and the engine settings that
shape compiled code. `Module.deserialize` trusts
its input, so a file whose checksum does not match, or that wasmtime rejects, is ignored
and rewritten rather than loaded.

Both are bounded (docs/host-abi.md): in memory by entries and by compiled bytes, on disk
by bytes; the least recently used go first (on disk: oldest modification time, which a
load refreshes).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Generic, TypeVar

import wasmtime

MAGIC = b"ghost-cwasm\x01"
_DIGEST = 32

#: Compiled modules kept in memory per engine, by count and by compiled size.
MEMORY_CACHE_ENTRIES = 256
MEMORY_CACHE_BYTES = 256 * 1024 * 1024
#: Compiled modules kept on disk per cache directory.
DISK_CACHE_BYTES = 1024 * 1024 * 1024

T = TypeVar("T")


class MemoryCache(Generic[T]):
    """A small LRU: the engine keeps the modules it used most recently ready to run, at most
    `capacity` of them and `max_bytes` of their (compiled) sizes together."""

    def __init__(self, capacity: int = MEMORY_CACHE_ENTRIES,
                 max_bytes: int = MEMORY_CACHE_BYTES) -> None:
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[T, int]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> T | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: str, item: T, size: int = 0) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (item, size)
        self.bytes += size
        while len(self._items) > self._capacity or (
                self.bytes > self._max_bytes and len(self._items) > 1):
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped


class DiskCache:
    def __init__(self, directory: Path, tag: str, max_bytes: int = DISK_CACHE_BYTES) -> None:
        self.directory = directory
        self.tag = tag
        self.max_bytes = max_bytes

    def path(self, digest: str) -> Path:
        return self.directory / f"{digest}.{self.tag}.cwasm"

    def load(self, engine: wasmtime.Engine, digest: str) -> wasmtime.Module | None:
        try:
            blob = self.path(digest).read_bytes()
        except OSError:
            return None
        head, checksum, payload = blob[:len(MAGIC)], blob[len(MAGIC):len(MAGIC) + _DIGEST], \
            blob[len(MAGIC) + _DIGEST:]
        if head != MAGIC or hashlib.sha256(payload).digest() != checksum:
            return None
        try:
            module = wasmtime.Module.deserialize(engine, payload)
        except wasmtime.WasmtimeError:
            return None
        try:
            os.utime(self.path(digest))  # recently used: the last to be evicted
        except OSError:
            pass
        return module

    def store(self, digest: str, payload: bytes) -> None:
        """Keep `payload` (a module's `serialize()` output), evicting the least recently
        used files beyond `max_bytes`. A payload larger than the whole cache is not kept."""
        if len(payload) + len(MAGIC) + _DIGEST > self.max_bytes:
            return
        blob = MAGIC + hashlib.sha256(payload).digest() + payload
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{digest[:16]}", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(blob)
                os.replace(tmp, self.path(digest))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._evict(keep=self.path(digest))
        except OSError:
            pass  # the cache only saves time; an unwritable directory costs a recompile

    def _evict(self, keep: Path) -> None:
        files = []
        for path in self.directory.glob("*.cwasm"):
            try:
                stat = path.stat()
            except OSError:
                continue  # removed by another process meanwhile
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda f: f[0]):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
