"""The code formats ghost builds and runs, each described once: its target name (ghost.toml
`target`, `--target`), the magic bytes its code starts with, and its artifact's file suffix.

Plain data at the bottom of the layers: config validates ghost.toml with it, the toolchain
names artifacts with it, and the VM's engine registry (vm/engines.py) keys engines by it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeFormat:
    target: str
    magic: bytes
    suffix: str
    title: str


WASM = CodeFormat("wasm", b"\0asm", ".wasm", "WebAssembly")
#: ZVM bytecode in a ZVMC container (vm/zvm/container.py), lowered from WebAssembly.
ZVMC = CodeFormat("zvm", b"ZVMC", ".zvmc", "ZVMC")

#: Every format, in the order `ghost build` lists targets.
FORMATS: tuple[CodeFormat, ...] = (WASM, ZVMC)
