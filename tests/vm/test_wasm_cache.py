"""Compiled modules are cached on disk and reused by a later engine; bad files are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from wasm_helpers import make_ctx, wat_module

from ghost_cli.exceptions import InvalidModuleError
from ghost_cli.vm.wasm import WasmEngine

CODE = wat_module("""
  (data (i32.const 0) "cached")
  (func (export "f") (call $set_return (i32.const 0) (i32.const 6)))""")


def _run(engine: WasmEngine) -> bytes:
    return engine.execute(CODE, "f", make_ctx(), {}.get).return_data


def _only_file(cache: Path) -> Path:
    (path,) = cache.glob("*.cwasm")
    return path


def test_second_engine_loads_from_disk(tmp_path: Path) -> None:
    first = WasmEngine(cache_dir=tmp_path)
    assert first.load(CODE).origin == "compiled"
    assert _run(first) == b"cached"
    path = _only_file(tmp_path)
    assert path.name.startswith(first.load(CODE).digest)
    assert "wasmtime" in path.name

    second = WasmEngine(cache_dir=tmp_path)
    assert second.load(CODE).origin == "disk"
    assert _run(second) == b"cached"
    # Same code, same gas, whichever way it was loaded.
    assert second.execute(CODE, "f", make_ctx(), {}.get).gas_used == (
        first.execute(CODE, "f", make_ctx(), {}.get).gas_used)


@pytest.mark.parametrize("damage", [
    lambda blob: b"garbage",
    lambda blob: blob[: len(blob) // 2],  # truncated
    lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # one bit flipped: checksum catches it
    lambda blob: blob[:12] + bytes(32) + blob[44:],  # checksum wiped
])
def test_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path, damage) -> None:  # noqa: ANN001
    WasmEngine(cache_dir=tmp_path).validate(CODE)
    path = _only_file(tmp_path)
    good = path.read_bytes()
    path.write_bytes(damage(good))

    engine = WasmEngine(cache_dir=tmp_path)
    assert engine.load(CODE).origin == "compiled"
    assert _run(engine) == b"cached"
    assert path.read_bytes()[:44] == good[:44]  # rewritten: same header and checksum
    assert WasmEngine(cache_dir=tmp_path).load(CODE).origin == "disk"


def test_unwritable_cache_dir_only_costs_a_compile(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    engine = WasmEngine(cache_dir=blocked / "cache")
    assert _run(engine) == b"cached"


def test_invalid_modules_are_not_cached(tmp_path: Path) -> None:
    engine = WasmEngine(cache_dir=tmp_path)
    with pytest.raises(InvalidModuleError):
        engine.validate(b"\0asm\x01\0\0\0garbage")
    assert list(tmp_path.glob("*.cwasm")) == []
