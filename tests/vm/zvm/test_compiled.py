"""Compiled blocks: hot code gets compiled, once per code, and changes nothing observable."""

import pytest
from zvm_helpers import CALLER, RETURN_TOP, SELF, run, zvmc

from ghost_cli.exceptions import InvalidOpcodeError
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


def test_a_trace_reports_the_invalid_byte_that_fails_the_run():
    """The step of an instruction that fails is traced, an invalid opcode's included (named
    INVALID, as the disassembler lists it), so a trace ends where the run did."""
    steps = []
    with pytest.raises(InvalidOpcodeError, match="0xFE at pc 3"):
        _run(ZvmEngine(), zvmc(bytes.fromhex("110701fe")), trace=steps.append)
    assert [(s.pc, s.opcode, s.stack_top, s.stack_size) for s in steps] == [
        (0, "PUSH1", None, 0), (2, "NOP", 7, 1), (3, "INVALID", 7, 1)]
    assert steps[-1].gas_left == 10**7 - 4


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


# What the compiler proves about a block and the work it drops for it (compiler.py), each
# at its boundary. The prologue loads three words X (on top), Y, Z from the call data and
# stores them at 0, 32 and 64; each CALLDATALOAD ends a block, so the next block, where
# each case runs whole, knows nothing of them. The word left on top is returned: a mask
# dropped where it was needed leaves a word of 257 bits or more, which MSTORE refuses.
_PROLOGUE = ("PUSH 64\nCALLDATALOAD\nPUSH 32\nCALLDATALOAD\nPUSH 0\nCALLDATALOAD\n"
             "DUP1\nPUSH 0\nMSTORE\nDUP2\nPUSH 32\nMSTORE\nDUP3\nPUSH 64\nMSTORE\n"
             "PUSH 0\nCALLDATALOAD\nPOP\n")
_BOUNDED = "PUSH 224\nSHR\nDUP1\nPUSH 0xFFFFFF\n{test}\nPUSH @out\nJUMPI\n{use}"
PROOFS = {
    "sum of two words": "ADD",
    "sum of a word and a small one": "PUSH 0xFF\nAND\nADD",
    "product at 256 bits": "PUSH 128\nSHR\nSWAP1\nPUSH 128\nSHR\nMUL",
    "product past 256 bits": "PUSH 127\nSHR\nSWAP1\nPUSH 128\nSHR\nMUL",
    "shift to 256 bits": "PUSH 8\nSHR\nPUSH 8\nSHL",
    "shift past 256 bits": "PUSH 7\nSHR\nPUSH 8\nSHL",
    "shift of a right shift": "PUSH 200\nSHR\nPUSH 201\nSHL",
    "shift of a left shift": "PUSH 128\nSHR\nPUSH 64\nSHL\nPUSH 128\nSHL",
    "shift of a byte": "PUSH 0xFF\nAND\nPUSH 249\nSHL",
    "shift of an or": "PUSH 0xFF\nAND\nSWAP1\nPUSH 0xFFFF\nAND\nOR\nPUSH 241\nSHL",
    "shift of a remainder": "SWAP1\nPUSH 0xFF\nAND\nSWAP1\nMOD\nPUSH 249\nSHL",
    "bound by LT, then shifted": _BOUNDED.format(test="LT", use="PUSH 233\nSHL"),
    "bound by GT, then shifted": _BOUNDED.format(test="SWAP1\nGT", use="PUSH 233\nSHL"),
    "bound by LT, to 256 bits": _BOUNDED.format(test="LT", use="PUSH 232\nSHL"),
    "ISZERO of a bound": "PUSH 224\nSHR\nDUP1\nPUSH 0xFFFFFF\nLT\nISZERO\nPUSH @out\n"
                         "JUMPI\nPUSH 233\nSHL",
    "overlapping stores": "PUSH 32\nMSTORE\nPUSH 33\nMSTORE\nPUSH 32\nMLOAD",
    "a byte into a stored word": "PUSH 32\nMSTORE\nPUSH 40\nMSTORE8\nPUSH 32\nMLOAD",
    "a store at a computed offset": "PUSH 63\nMSTORE\nSWAP1\nPUSH 63\nAND\nMSTORE\n"
                                    "PUSH 63\nMLOAD",
    "a load twice, a store between": "DUP3\nPUSH 63\nAND\nDUP1\nMLOAD\nDUP3\nPUSH 63\n"
                                     "MSTORE\nSWAP1\nMLOAD\nADD",
    # loads of which only the low bytes are seen read only those (each at a boundary)
    "a loaded byte": "PUSH 32\nMLOAD\nPUSH 0xFF\nAND",
    "a loaded 9 bits": "PUSH 32\nMLOAD\nPUSH 0x1FF\nAND",
    "a loaded u32": "PUSH 32\nMLOAD\nPUSH 0xFFFFFFFF\nAND",
    "a loaded 33 bits": "PUSH 32\nMLOAD\nPUSH 0x1FFFFFFFF\nAND",
    "a loaded u64": "PUSH 32\nMLOAD\nPUSH 0xFFFFFFFFFFFFFFFF\nAND",
    "a loaded 65 bits": "PUSH 32\nMLOAD\nPUSH 0x1FFFFFFFFFFFFFFFF\nAND",
    "a loaded word shifted, then masked": "PUSH 33\nMLOAD\nPUSH 8\nSHR\nPUSH 0xFFFFFF\nAND",
    "a loaded word shifted past 32 bits": "PUSH 33\nMLOAD\nPUSH 8\nSHR\nPUSH 0xFFFFFFFF\nAND",
    "a loaded word masked, then shifted": "PUSH 33\nMLOAD\nPUSH 0xFF\nAND\nPUSH 248\nSHL",
    "a loaded word shifted left, then masked": "PUSH 40\nMLOAD\nPUSH 200\nSHL\n"
                                               "PUSH 0xFF\nPUSH 248\nSHL\nAND",
    "a loaded word shifted left 191": "PUSH 40\nMLOAD\nPUSH 191\nSHL\n"
                                      "PUSH 0xFF\nPUSH 248\nSHL\nAND",
    "low bytes of a sum": "PUSH 40\nMLOAD\nPUSH 50\nMLOAD\nADD\nPUSH 0xFFFF\nAND",
    "low bytes of a difference": "PUSH 40\nMLOAD\nPUSH 50\nMLOAD\nSUB\nPUSH 0xFFFF\nAND",
    "low bytes of a product and an or": "PUSH 40\nMLOAD\nPUSH 50\nMLOAD\nMUL\nPUSH 8\n"
                                        "MLOAD\nOR\nPUSH 0xFFFFFFFF\nAND",
    "low bytes of a xor": "PUSH 40\nMLOAD\nPUSH 50\nMLOAD\nXOR\nPUSH 0x1FF\nAND",
    "a loaded word, also seen whole": "PUSH 32\nMLOAD\nDUP1\nPUSH 0xFF\nAND\nADD",
    "a loaded word, also compared": "PUSH 32\nMLOAD\nDUP1\nPUSH 0xFF\nAND\nSWAP1\n"
                                    "PUSH 0xFFFF\nLT\nPUSH @out\nJUMPI",
    "a loaded word, also stored": "PUSH 32\nMLOAD\nDUP1\nPUSH 64\nMSTORE\nPUSH 0xFF\nAND\n"
                                  "PUSH 64\nMLOAD\nADD",
}
_DATA = {
    "ones": b"\xff" * 96,
    "zeros": bytes(96),
    "mixed": bytes(range(1, 97)),
    "small bound, aliased offset": (0xFFFFFF << 224 | 2**200 - 1).to_bytes(32, "big")
    + b"\x80" * 32 + (63).to_bytes(32, "big"),
}


@pytest.mark.parametrize("data", _DATA.values(), ids=_DATA.keys())
@pytest.mark.parametrize("src", PROOFS.values(), ids=PROOFS.keys())
def test_what_blocks_prove_changes_nothing_observable(monkeypatch, src, data):
    program = _PROLOGUE + src + "\nout: JUMPDEST" + RETURN_TOP

    def outcome(hot_after: int) -> tuple:
        monkeypatch.setattr(interpreter, "HOT_AFTER", hot_after)
        done = run(program, data=data, engine=ZvmEngine())
        return done.return_data, done.gas_used

    assert outcome(1) == outcome(10**9)


def test_loading_the_code_of_the_last_call_again_skips_hashing_it(monkeypatch):
    from ghost_cli.vm.zvm import engine as engine_module

    hashed = []
    real = engine_module.keccak256
    monkeypatch.setattr(engine_module, "keccak256", lambda data: hashed.append(1) or real(data))
    engine = ZvmEngine()
    a, b = zvmc(SUM.format(n=3)), zvmc(SUM.format(n=4))
    first = engine.load(a)
    assert engine.load(a) is first and len(hashed) == 1  # the same object: no hash
    assert engine.load(b) is not first and len(hashed) == 2
    assert engine.load(bytes(bytearray(a))) is first and len(hashed) == 3  # equal bytes: cache
    # mutable bytes are never taken for the last call's: the same bytearray, new contents
    mutable = bytearray(a)
    assert engine.load(mutable) is first
    mutable[:] = b
    assert engine.load(mutable).code.code == engine.load(b).code.code != first.code.code
