"""Regenerate ghost_cli/grpc_gen/ghost/v1 from proto/ghost/v1/*.proto:

    python -m ghost_cli.grpc_gen [OUT_DIR]

protoc writes absolute imports (`from ghost.v1 import contracts_pb2`) that only work
with proto/'s layout on sys.path; they are rewritten to ghost_cli.grpc_gen's package, so
the generated modules import like the rest of ghost_cli. The output depends only on the
.proto files and the pinned grpcio-tools version.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

PACKAGE = "ghost_cli.grpc_gen"
HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parents[1] / "proto"
SUBDIR = Path("ghost") / "v1"
_IMPORT = re.compile(r"^from ghost\.v1 import ", re.M)


def generate(out_dir: Path) -> list[Path]:
    """Write the generated modules (and their packages' __init__.py) under out_dir."""
    from grpc_tools import protoc  # the `test` extra: only regeneration needs it

    protos = sorted((PROTO_ROOT / SUBDIR).glob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        # Relative paths keep the checkout's location out of the generated files.
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{_include_dir()}", f"--python_out={tmp}",
                f"--grpc_python_out={tmp}", *(str(p) for p in protos)]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        written = []
        for src in sorted((Path(tmp) / SUBDIR).glob("*.py")):
            dest = out_dir / SUBDIR / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_IMPORT.sub(f"from {PACKAGE}.ghost.v1 import ", src.read_text()))
            written.append(dest)
    for pkg in (out_dir / "ghost", out_dir / SUBDIR):
        (pkg / "__init__.py").write_text("")
        written.append(pkg / "__init__.py")
    return written


def _include_dir() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")  # google/protobuf/*.proto


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in generate(out):
        print(path)
