"""What a hostile contract can make the host spend is priced or capped: host-call loops end
in out_of_gas, debug logs are capped per call, memory is returned after every call, and
the compiled-module caches are bounded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from wasm_helpers import REPO, make_ctx, wat_module

from ghost_cli.exceptions import GasLimitTooHighError, OutOfGasError, TimeoutError_
from ghost_cli.rpc.errors import error_object
from ghost_cli.vm import gas
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.log_limit import LogBuffer, cap_logs
from ghost_cli.vm.types import Limits
from ghost_cli.vm.wasm import WasmEngine
from ghost_cli.vm.wasm.cache import DiskCache, MemoryCache


def test_every_host_call_pays_for_crossing_into_the_host() -> None:
    assert gas.HOST_CALL_BASE == 10_000
    for row in HOST_FUNCTIONS:
        assert gas.HOST_PRICES[row.name].base >= gas.HOST_CALL_BASE, row.name


@pytest.mark.parametrize("call", [
    "(drop (call $block_height))",
    "(drop (call $gas_left))",
    "(drop (call $input_size))",
    "(call $caller (i32.const 0))",
])
def test_a_host_call_loop_at_the_default_limit_runs_out_of_gas_not_out_of_time(
        call: str) -> None:
    """At 10 gas a call, this loop made ~1M host calls at 10M gas: longer than the 5 s
    backstop, so the outcome was `timeout` or `out_of_gas` depending on the machine. Now
    it stops after about 1,000 calls, by gas, everywhere."""
    spin = wat_module(f'(func (export "spin") (loop $l {call} (br $l)))')
    engine = WasmEngine(Limits(timeout_seconds=60.0))
    with pytest.raises(OutOfGasError) as info:
        engine.execute(spin, "spin", make_ctx(gas=gas.DEFAULT_GAS_LIMIT), {}.get)
    assert info.value.gas_used == gas.DEFAULT_GAS_LIMIT


def test_the_wall_clock_backstop_has_its_own_code_everywhere() -> None:
    error = TimeoutError_("timed out", gas_used=5)
    assert error.code == "timeout" and error.exit_code == 6
    assert error_object(error)["code"] == -32027
    capped = GasLimitTooHighError("too much")
    assert capped.exit_code == 13 and error_object(capped)["code"] == -32015


LOGGER = """
  (data (i32.const 0) "{fill}")
  (func (export "log") (local $i i32)
    (loop $l
      (call $debug_log (i32.const 0) (i32.const {size}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {count})))))"""


def test_debug_logs_are_capped_per_call_and_say_so(engine: WasmEngine) -> None:
    size, count = 1000, 40  # 40,000 bytes asked for, 16,384 kept
    code = wat_module(LOGGER.format(fill="x" * size, size=size, count=count))
    out = engine.execute(code, "log", make_ctx(gas=gas.DEFAULT_GAS_LIMIT), {}.get)
    kept = out.logs[:-1]
    assert sum(len(m) for m in kept) == gas.MAX_LOG_BYTES
    assert kept[:16] == ("x" * size,) * 16 and kept[16] == "x" * (gas.MAX_LOG_BYTES - 16 * size)
    dropped = size * count - gas.MAX_LOG_BYTES
    assert out.logs[-1] == gas.LOG_TRUNCATED.format(dropped=dropped, limit=gas.MAX_LOG_BYTES)
    # Every byte asked for is paid for, kept or not.
    assert out.gas_used > count * gas.HOST_PRICES["debug_log"].cost(size)


def test_small_logs_are_kept_whole() -> None:
    buffer = LogBuffer(limit=10)
    for message in ("héllo", "wor"):
        buffer.add(message)
    assert buffer.logs() == ("héllo", "wor")
    buffer.add("ld!")  # 6 + 3 + 3 bytes: one byte over
    assert buffer.logs()[:-1] == ("héllo", "wor", "l")
    assert "2 more bytes" in buffer.logs()[-1]
    assert cap_logs(buffer.logs(), limit=10) == buffer.logs()  # capping twice changes nothing
    assert cap_logs(["a" * 20], limit=10)[0] == "a" * 10


RSS_SCRIPT = """
import sys
from wasm_helpers import make_ctx, wat_module
from ghost_cli.exceptions import ExecutionError
from ghost_cli.vm.wasm import WasmEngine

# Grow linear memory a page at a time up to the limit, touching every page, buffer a few
# storage writes and events, then trap: the worst a call can leave behind.
BOMB = wat_module('''
  (func (export "bomb") (local $p i32)
    (call $storage_write (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 65536))
    (call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 65536))
    (loop $grow
      (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then
        (local.set $p (i32.mul (i32.sub (memory.size) (i32.const 1)) (i32.const 65536)))
        (i32.store (local.get $p) (i32.const 1))
        (br $grow))))
    unreachable)''', memory='(memory (export "memory") 2)')

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

engine = WasmEngine()
def bomb():
    try:
        engine.execute(BOMB, "bomb", make_ctx(gas=10_000_000), {}.get)
    except ExecutionError as exc:
        assert exc.code == "memory_limit", exc.code
for _ in range(5):
    bomb()
before = rss()
for _ in range(int(sys.argv[1])):
    bomb()
print(before, rss())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_repeated_memory_bombs_do_not_grow_the_process(tmp_path: Path) -> None:
    """Each call may fill 16 MiB; 60 of them would hold ~1 GiB if stores outlived calls."""
    calls = 60
    proc = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(calls)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ,
             "PYTHONPATH": os.pathsep.join((str(REPO), str(REPO / "tests" / "support")))})
    assert proc.returncode == 0, proc.stderr
    before, after = map(int, proc.stdout.split())
    assert after - before < 128 * 1024 * 1024, (before, after)


def test_memory_cache_is_bounded_by_entries_and_bytes() -> None:
    cache: MemoryCache[str] = MemoryCache(capacity=3, max_bytes=100)
    for key in "abc":
        cache.put(key, key, 30)
    assert cache.get("a") == "a"  # now the most recently used
    cache.put("d", "d", 30)  # over 3 entries and 100 bytes: "b", the least recent, goes
    assert cache.get("b") is None and len(cache) == 3 and cache.bytes == 90
    cache.put("e", "e", 80)  # "c", "a", "d" go until it fits
    assert len(cache) == 1 and cache.get("e") == "e" and cache.bytes == 80
    cache.put("huge", "huge", 1000)  # a single oversized entry is still kept (in use)
    assert len(cache) == 1 and cache.bytes == 1000


def test_disk_cache_is_bounded_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path, "tag", max_bytes=3 * 1100)
    for i, digest in enumerate(("a" * 64, "b" * 64, "c" * 64)):
        disk.store(digest, bytes(1000))
        os.utime(disk.path(digest), (1000 + i, 1000 + i))
    disk.store("d" * 64, bytes(1000))  # the oldest ("a") goes
    names = sorted(p.name[:1] for p in tmp_path.glob("*.cwasm"))
    assert names == ["b", "c", "d"]
    disk.store("e" * 64, bytes(10_000))  # larger than the whole cache: not kept
    assert not disk.path("e" * 64).exists()
    assert sum(p.stat().st_size for p in tmp_path.glob("*.cwasm")) <= disk.max_bytes
