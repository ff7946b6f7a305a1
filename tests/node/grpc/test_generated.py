"""The committed generated code is exactly what `python -m ghost_cli.grpc_gen` makes."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import ghost_cli.grpc_gen as gen_pkg

GENERATED = Path(gen_pkg.__file__).parent


def test_regenerating_from_proto_gives_identical_files(tmp_path):
    pytest.importorskip("grpc_tools", reason="regeneration needs grpcio-tools (test extra)")
    pinned = "1.85.1"  # pyproject's test extra; protoc's version is in the output
    if importlib.metadata.version("grpcio-tools") != pinned:
        pytest.skip(f"grpcio-tools {pinned} makes the committed files")
    from ghost_cli.grpc_gen.__main__ import generate

    written = generate(tmp_path)
    assert written
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in written}
    committed = {p.relative_to(GENERATED): p.read_bytes()
                 for p in (GENERATED / "ghost").rglob("*.py")}
    assert fresh == committed


def test_generated_modules_import_as_part_of_the_package():
    from ghost_cli.grpc_gen.ghost.v1 import chain_pb2_grpc, contracts_pb2, contracts_pb2_grpc

    assert contracts_pb2.DESCRIPTOR.services_by_name["Contracts"].methods_by_name["Deploy"]
    assert hasattr(contracts_pb2_grpc, "ContractsStub") and hasattr(chain_pb2_grpc, "ChainStub")
