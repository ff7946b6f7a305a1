"""The committed generated code is exactly what `python -m ghost_cli.grpc_gen` makes."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ghost_cli.grpc_gen as gen_pkg

GENERATED = Path(gen_pkg.__file__).parent
REPO = GENERATED.parents[1]


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


@pytest.mark.slow
def test_the_wheel_ships_the_proto_files(tmp_path):
    """A client's author generates stubs from the .proto files: an installed ghost has
    them, as ghost_cli/proto/ghost/v1/*.proto, byte for byte the checkout's."""
    pytest.importorskip("setuptools", reason="builds a wheel without build isolation")
    src = tmp_path / "src"  # a copy: the build leaves build/ and *.egg-info behind
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("ghost_cli", "templates", "proto"):
        shutil.copytree(REPO / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(src)], check=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    protos = sorted((REPO / "proto" / "ghost" / "v1").glob("*.proto"))
    assert protos
    with zipfile.ZipFile(wheel) as zf:
        for proto in protos:
            shipped = zf.read(f"ghost_cli/proto/ghost/v1/{proto.name}")
            assert shipped == proto.read_bytes()
