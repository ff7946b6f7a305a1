"""Fixtures for the WebAssembly engine: a shared engine and a real Zig-compiled contract."""

from __future__ import annotations

import subprocess
import sys

import pytest
from wasm_helpers import COUNTER_ZIG, SDK, Chain

from ghost_cli.vm.wasm import WasmEngine


@pytest.fixture(scope="session")
def engine() -> WasmEngine:
    return WasmEngine()


@pytest.fixture(scope="session")
def counter_wasm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The counter contract compiled by the real Zig toolchain against the SDK."""
    work = tmp_path_factory.mktemp("zig")
    src = work / "counter.zig"
    src.write_text(COUNTER_ZIG)
    out = work / "counter.wasm"
    proc = subprocess.run(
        [sys.executable, "-m", "ziglang", "build-exe", "-target", "wasm32-freestanding",
         "-mcpu=mvp", "-fno-entry", "-rdynamic", "-O", "ReleaseSmall", "--dep", "ghost",
         f"-Mroot={src}", f"-Mghost={SDK}", f"-femit-bin={out}", "--name", "c"],
        capture_output=True, text=True, cwd=work, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


@pytest.fixture
def counter(engine: WasmEngine, counter_wasm: bytes) -> Chain:
    return Chain(engine, counter_wasm)

