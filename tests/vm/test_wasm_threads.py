"""One engine shared by threads: every call sees only its own frame, result and error."""

from __future__ import annotations

import threading

from wasm_helpers import make_ctx, wat_module

from ghost_cli.exceptions import RevertError, TrapError
from ghost_cli.vm.wasm import WasmEngine

CODE = wat_module("""
  (func $load (call $input_copy (i32.const 0) (i32.const 0) (call $input_size)))
  (func (export "echo")
    (call $load)
    (call $storage_write (i32.const 0) (call $input_size) (i32.const 0) (call $input_size))
    (call $set_return (i32.const 0) (call $input_size)))
  (func (export "refuse") (call $load) (call $revert (i32.const 0) (call $input_size)))
  (func (export "crash") (call $load) unreachable)""")

ROUNDS = 150


def test_threads_sharing_an_engine_do_not_mix_calls() -> None:
    engine = WasmEngine()
    engine.validate(CODE)
    problems: list[str] = []

    def worker(n: int) -> None:
        me = f"thread-{n}".encode()
        for i in range(ROUNDS):
            data = me + str(i).encode()
            kind = (n + i) % 3
            try:
                if kind == 0:
                    out = engine.execute(CODE, "echo", make_ctx(data), {}.get)
                    if out.return_data != data or out.writes != {data: data}:
                        problems.append(f"{data!r}: got {out}")
                    continue
                engine.execute(CODE, "refuse" if kind == 1 else "crash", make_ctx(data), {}.get)
                problems.append(f"{data!r}: no error")
            except RevertError as exc:
                if kind != 1 or exc.reason != data.decode():
                    problems.append(f"{data!r}: {exc!r}")
            except TrapError as exc:
                if kind != 2:
                    problems.append(f"{data!r}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []


READ = wat_module("""
  (func (export "read")
    (drop (call $storage_read (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))))""")


def test_calls_past_the_engines_slots_wait_for_one() -> None:
    """Each call holds an instance slot from its store's creation to its close; with more
    threads than slots, the rest wait (the pool would refuse them) and all succeed."""
    engine = WasmEngine(slots=2)
    engine.validate(READ)
    lock = threading.Lock()
    running = [0, 0]  # now, most at once
    failures: list[BaseException] = []

    def storage(key: bytes) -> None:  # a slow host call: the slot is held meanwhile
        with lock:
            running[0] += 1
            running[1] = max(running)
        threading.Event().wait(0.005)
        with lock:
            running[0] -= 1

    def worker() -> None:
        for _ in range(10):
            try:
                engine.execute(READ, "read", make_ctx(), storage)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert running[1] == 2


ADDRESS_SPACE_PROBE = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from wasm_helpers import make_ctx, wat_module
from ghost_cli.vm.wasm import WasmEngine
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
# room for this process to run (and compile), not for 16 slots of 16 MiB
limit = (size + 200 * 1024) * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
engine = WasmEngine()
out = engine.execute(wat_module('(func (export "f"))'), "f", make_ctx(), {}.get)
print(engine.pooled, out.gas_used)
"""


def test_without_address_space_for_the_slots_calls_still_run() -> None:
    import subprocess
    import sys
    from pathlib import Path

    support = Path(__file__).resolve().parents[1] / "support"
    done = subprocess.run([sys.executable, "-c", ADDRESS_SPACE_PROBE, str(support)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "1"]
    assert WasmEngine().pooled
