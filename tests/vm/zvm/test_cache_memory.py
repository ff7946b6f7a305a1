"""The engine's cache of decoded contracts is bounded by what they hold in memory, not
only by their count: a 512 KiB contract of JUMPDESTs holds about 33 MB of analysis."""

from zvm_helpers import zvmc

from ghost_cli.vm.zvm import engine as zvm_engine
from ghost_cli.vm.zvm.engine import ZvmEngine
from ghost_cli.vm.zvm.opcodes import BY_NAME

JUMPDEST = bytes([BY_NAME["JUMPDEST"].value])
HALT = bytes([BY_NAME["HALT"].value])


def _sled(i: int, n: int = 100_000) -> bytes:
    return zvmc(JUMPDEST * (n + i) + HALT)  # distinct code, n + i JUMPDESTs


def test_big_analyses_push_older_ones_out(monkeypatch) -> None:
    monkeypatch.setattr(zvm_engine, "CACHE_BYTES", 10_000_000)  # room for one sled
    engine = ZvmEngine()
    loaded = [engine.load(_sled(i)) for i in range(4)]
    held = sum(zvm_engine._held(each) for each in engine._cache.values())
    assert len(engine._cache) == 1 and held <= zvm_engine.CACHE_BYTES
    assert engine.load(_sled(3)) is loaded[3]  # the newest stays


def test_small_contracts_are_kept_by_count(monkeypatch) -> None:
    engine = ZvmEngine()
    codes = [zvmc(bytes([BY_NAME["PUSH1"].value, i]) + HALT) for i in range(10)]
    for code in codes:
        engine.load(code)
    assert len(engine._cache) == 10
