"""Compiled modules, cached in memory (by sha256 of the code) and on disk.

On disk a module is `Module.serialize()` output behind a small header and a sha256 of the
payload, in `<cache_dir>/<code sha256>.<tag>.cwasm`, where the tag names the wasmtime
version and the engine settings that shape compiled code. `Module.deserialize` trusts
its input, so a file whose checksum does not match, or that wasmtime rejects, is ignored
and rewritten rather than loaded.
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

T = TypeVar("T")


class MemoryCache(Generic[T]):
    """A small LRU: the engine keeps the modules it used most recently ready to run."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str) -> T | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, item: T) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


class DiskCache:
    def __init__(self, directory: Path, tag: str) -> None:
        self.directory = directory
        self.tag = tag

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
            return wasmtime.Module.deserialize(engine, payload)
        except wasmtime.WasmtimeError:
            return None

    def store(self, digest: str, module: wasmtime.Module) -> None:
        payload = bytes(module.serialize())
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
        except OSError:
            pass  # the cache only saves time; an unwritable directory costs a recompile
