"""Compiled blocks: hot code gets compiled, once per code, and changes nothing observable."""

from zvm_helpers import CALLER, SELF, zvmc

from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm import interpreter
from ghost_cli.vm.zvm.engine import ZvmEngine

# sum 1..n, then return it; 4 blocks: entry, loop head, loop body, exit
SUM = """
        PUSH 0
        PUSH {n}
loop:   JUMPDEST
        DUP1
        ISZERO
        PUSH @end
        JUMPI
        DUP1
        SWAP2
        ADD
        SWAP1
        PUSH 1
        SWAP1
        SUB
        PUSH @loop
        JUMP
end:    JUMPDEST
        POP
        PUSH 0
        MSTORE
        PUSH 32
        PUSH 0
        RETURN
"""


def _run(engine: ZvmEngine, blob: bytes, trace=None):
    contract = engine.load(blob)
    ctx = CallContext(CALLER, SELF, b"", 10**7)
    return engine.run_message(contract, blob, b"", ctx, {}.get, trace), contract.code


def test_a_hot_loop_is_compiled_and_gives_what_stepping_gives(monkeypatch):
    blob = zvmc(SUM.format(n=100))
    compiled, code = _run(ZvmEngine(), blob)
    assert code.blocks, "the loop ran 100 times: its blocks are hot"
    assert int.from_bytes(compiled.return_data, "big") == 5050
    monkeypatch.setattr(interpreter, "HOT_AFTER", 10**9)
    stepped, code = _run(ZvmEngine(), blob)
    assert not code.blocks
    assert (stepped.return_data, stepped.gas_used) == (compiled.return_data, compiled.gas_used)


def test_blocks_are_kept_with_the_code_for_later_calls():
    engine = ZvmEngine()
    blob = zvmc(SUM.format(n=3))  # too few iterations to get hot in one call
    seen = [len(_run(engine, blob)[1].blocks) for _ in range(interpreter.HOT_AFTER + 1)]
    assert seen[0] == 0 and seen[-1] > 0
    assert engine.load(blob).code is _run(engine, blob)[1]


def test_a_traced_run_sees_every_instruction_even_once_blocks_are_compiled():
    engine = ZvmEngine()
    blob = zvmc(SUM.format(n=50))
    _run(engine, blob)  # compiles the loop
    steps = []
    run, code = _run(engine, blob, trace=steps.append)
    assert code.blocks
    assert len(steps) == 2 + 14 * 50 + 5 + 7
    assert [s.opcode for s in steps[:4]] == ["PUSH1", "PUSH1", "JUMPDEST", "DUP1"]
    assert steps[-1].opcode == "RETURN"
    assert [s.gas_left for s in steps[:3]] == [10**7, 10**7 - 3, 10**7 - 6]


def test_compiled_blocks_per_code_are_capped(monkeypatch):
    monkeypatch.setattr(interpreter, "HOT_AFTER", 1)
    monkeypatch.setattr(interpreter, "MAX_BLOCKS", 2)
    run, code = _run(ZvmEngine(), zvmc(SUM.format(n=20)))
    assert len(code.blocks) == 2
    assert int.from_bytes(run.return_data, "big") == 210


def test_the_counter_costs_the_same_gas_compiled_as_stepped(monkeypatch):
    from test_sandbox_counter import COUNTER, METADATA

    from ghost_cli.vm.zvm import assemble, encode_zvmc, metadata_json

    blob = encode_zvmc(assemble(COUNTER.read_text()), metadata_json(METADATA))
    calls = [("increment", b""), ("add", (5).to_bytes(8, "little")), ("get", b"")] * 6

    def history(hot_after: int) -> list:
        monkeypatch.setattr(interpreter, "HOT_AFTER", hot_after)
        engine, storage, seen = ZvmEngine(), {}, []
        for function, args in calls:
            out = engine.execute(blob, function, CallContext(CALLER, SELF, args, 10**6),
                                 storage.get)
            storage.update(out.writes)
            seen.append((out.return_data, out.gas_used, out.writes, out.events))
        return seen

    assert history(1) == history(10**9)
