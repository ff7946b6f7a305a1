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
