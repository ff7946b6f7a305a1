"""`ghost --help` must not load the heavy parts (wasmtime, the toolchain, SQLite, crypto)."""

import subprocess
import sys

HEAVY = ("wasmtime", "sqlite3", "Crypto", "ghost_cli.toolchain.build", "ghost_cli.chain.store",
         "ghost_cli.vm.wasm.engine", "pytest",
         "ghost_cli.rpc.dispatcher")  # node options read rpc.limits, not the method table

PROBE = f"""
import sys
from ghost_cli.cli.main import app
try:
    app(["--help"])
except SystemExit:
    pass
print("loaded:" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_help_imports_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1]
    assert out == "loaded:"
