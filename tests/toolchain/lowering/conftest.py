import pytest

from ghost_cli.vm.types import Limits
from ghost_cli.vm.wasm import WasmEngine
from ghost_cli.vm.zvm.engine import ZvmEngine


@pytest.fixture(scope="session")
def engines():
    """One WebAssembly engine and one ZVM engine for the whole session."""
    return WasmEngine(Limits()), ZvmEngine(Limits())
