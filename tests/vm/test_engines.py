"""The engine registry: one row per code format (ghost_cli/formats.py), found the same way by
magic bytes, target name and file suffix, and every engine it builds is a whole Engine."""

from __future__ import annotations

import importlib

import pytest
from wasm_helpers import wat_module

from ghost_cli.config import defaults as d
from ghost_cli.exceptions import InvalidModuleError
from ghost_cli.formats import FORMATS, WASM, ZVMC
from ghost_cli.vm.engines import ENGINES, Engine, StepTracing, default_engines, read_module_metadata
from ghost_cli.vm.types import Limits
from ghost_cli.vm.zvm.container import encode_zvmc
from ghost_cli.vm.zvm.opcodes import OPCODES

ENGINE_METHODS = [name for name in vars(Engine) if not name.startswith("_")]


def test_every_format_has_one_engine_found_three_ways() -> None:
    assert [k.format for k in ENGINES] == list(FORMATS)
    for kind in ENGINES:
        f = kind.format
        assert ENGINES.by_magic(f.magic + b"rest") is kind
        assert ENGINES.by_target(f.target) is kind
        assert ENGINES.by_suffix(f.suffix) is kind
    assert len({f.magic for f in FORMATS}) == len({f.target for f in FORMATS}) \
        == len({f.suffix for f in FORMATS}) == len(FORMATS)


def test_ghost_toml_targets_are_the_registry_targets() -> None:
    assert d.TARGETS == tuple(k.format.target for k in ENGINES)
    assert d.ARTIFACT_SUFFIX == {k.format.target: k.format.suffix for k in ENGINES}
    assert d.DEFAULT_TARGET in d.TARGETS


def test_unknown_code_has_no_engine() -> None:
    assert ENGINES.by_magic(b"\x7fELF") is None
    assert read_module_metadata(b"\x7fELF....") is None
    with pytest.raises(InvalidModuleError, match="not a contract this node runs"):
        default_engines(Limits(), None).validate(b"\x7fELF....")


def test_built_engines_are_whole_engines_picked_by_magic() -> None:
    assert {"validate", "check", "execute", "read_metadata"} <= set(ENGINE_METHODS)
    engines = default_engines(Limits(), None)
    for method in ENGINE_METHODS:
        assert callable(getattr(engines, method))
    wasm, zvm = engines.engine_for(WASM.magic), engines.engine_for(ZVMC.magic)
    for engine in (wasm, zvm):
        for method in ENGINE_METHODS:
            assert callable(getattr(engine, method)), (engine, method)
    # only the interpreter reports its steps; wasmtime runs natively
    assert isinstance(zvm, StepTracing) and not isinstance(wasm, StepTracing)

    module = wat_module('(func (export "f"))')
    assert module.startswith(WASM.magic)
    engines.check(module)
    engines.validate(module)
    container = encode_zvmc(bytes([0x00]))  # STOP
    assert container.startswith(ZVMC.magic)
    engines.check(container)
    assert engines.read_metadata(module) is None and engines.read_metadata(container) is None


def test_every_opcode_row_names_a_handler_that_exists() -> None:
    """The opcode table names its handlers as data (`family`.`handler`) so the assembler and
    the lowering read it without importing the interpreter; each name must resolve."""
    for op in OPCODES.values():
        module = importlib.import_module(f"ghost_cli.vm.zvm.handlers.{op.family}")
        handler = getattr(module, op.handler, None)
        assert callable(handler), f"{op.name}: no {op.family}.{op.handler}"
        if op.arg is not None:
            assert callable(handler(op.arg)), op.name
