"""Every bad input fails with its own typed error, never a crash."""

import pytest
from zvm_helpers import run, top

from ghost_cli.exceptions import (
    InvalidJumpError,
    InvalidModuleError,
    InvalidOpcodeError,
    MemoryLimitError,
    NotFoundError,
    OutOfGasError,
    RevertError,
    StackOverflowError,
    StackUnderflowError,
    StaticCallViolationError,
    TrapError,
    TruncatedImmediateError,
)
from ghost_cli.vm.types import CallContext, Limits
from ghost_cli.vm.zvm import assemble, encode_zvmc
from ghost_cli.vm.zvm.engine import ZvmEngine

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

INVALID = [0x02, 0x0F, 0x20, 0x3B, 0x5E, 0x74, 0x84, 0x94, 0xAD, 0xCA, 0xD1, 0xD3, 0xDF,
           0xE0, 0xE5, 0xEC, 0xF1, 0xF3, 0xFD, 0xFE, 0xFF]


@pytest.mark.parametrize("byte", INVALID)
def test_unknown_bytes_are_invalid_opcodes(byte):
    with pytest.raises(InvalidOpcodeError, match=f"0x{byte:02X}") as info:
        run(bytes([0x01, byte]))
    assert info.value.gas_used == 10_000_000  # an exceptional halt burns the gas


def test_reserved_bytes_say_why():
    with pytest.raises(InvalidOpcodeError, match="Hedera"):
        run(b"\xe3")
    with pytest.raises(InvalidOpcodeError, match="FALCON"):
        run(b"\xf1")


@pytest.mark.parametrize("code", [b"\x11", b"\x12\x01", b"\x13\x01\x02\x03", b"\x14" + bytes(7),
                                  b"\x15" + bytes(15), b"\x16" + bytes(31), b"\xd0"])
def test_truncated_immediates(code):
    with pytest.raises(TruncatedImmediateError, match="truncated"):
        run(code)


def test_code_ending_right_after_a_full_push_is_fine():
    assert run(b"\x16" + bytes(32)).return_data == b""


@pytest.mark.parametrize("src", ["POP", "ADD", "PUSH 1\nADD", "PUSH 1\nPUSH 1\nADDMOD",
                                 "DUP1", "PUSH 1\nDUP2", "PUSH 1\nSWAP1", "JUMP", "RETURN",
                                 "PUSH 1\nPUSH 1\nPUSH 1\nLOG2", "CALL", "SSTORE",
                                 "HOSTCALL storage_read", "PUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\n"
                                 "PUSH 1\nPUSH 1\nPQ_VERIFY_DILITHIUM"])
def test_stack_underflow(src):
    with pytest.raises(StackUnderflowError, match="underflow"):
        run(src)


def test_stack_limit_is_1024():
    assert run("PUSH 1\n" * 1024).gas_used == 3 * 1024
    with pytest.raises(StackOverflowError, match="1024"):
        run("PUSH 1\n" * 1025)
    with pytest.raises(StackOverflowError):
        run("PUSH 1\n" * 1024 + "DUP1")
    with pytest.raises(StackOverflowError):
        run("PUSH 1\n" * 1024 + "HOSTCALL input_size")
    run("PUSH 1\n" * 1024 + "SWAP4\nADD")  # full but not growing: fine


def test_infinite_loop_runs_out_of_gas():
    with pytest.raises(OutOfGasError):
        run("top: JUMPDEST\nPUSH @top\nJUMP", gas=100_000)


def test_jump_into_push_data_is_invalid():
    # byte 1 is an 0xA3 inside PUSH1's immediate: not a jump destination
    code = bytes([0x11, 0xA3, 0x11, 0x01, 0xA0])
    with pytest.raises(InvalidJumpError, match="destination 1"):
        run(code)
    with pytest.raises(InvalidJumpError):
        run("PUSH 2\nJUMP\nNOP")  # not a JUMPDEST at all
    with pytest.raises(InvalidJumpError):
        run(f"PUSH {2**255}\nJUMP")
    with pytest.raises(InvalidJumpError):
        run("PUSH 1\nPUSH 99\nJUMPI")
    run("PUSH 0\nPUSH 99\nJUMPI")  # not taken: fine
    # A HOSTCALL immediate is data too
    with pytest.raises(InvalidJumpError):
        run(bytes([0x11, 0x03, 0xA0, 0xD0, 0xA3]))


@pytest.mark.parametrize("src", [
    f"PUSH {2**64}\nMLOAD", f"PUSH 1\nPUSH {2**255}\nMSTORE", f"PUSH 1\nPUSH {2**200}\nMSTORE8",
    f"PUSH {2**250}\nPUSH 0\nKECCAK256", f"PUSH {2**100}\nPUSH 0\nPUSH 0\nCALLDATACOPY",
    f"PUSH {2**40}\nPUSH 0\nRETURN", f"PUSH {2**40}\nPUSH 0\nLOG0",
])
def test_memory_bombs_fail_cleanly(src):
    with pytest.raises((MemoryLimitError, OutOfGasError, TrapError)):
        run(src, gas=2**62)


def test_memory_limit_is_enforced_before_gas():
    with pytest.raises(MemoryLimitError, match="memory limit"):
        run("PUSH 4096\nMLOAD", limits=Limits(memory_bytes=4096), gas=2**62)
    run("PUSH 4064\nMLOAD", limits=Limits(memory_bytes=4096))


def test_revert_keeps_unused_gas_and_reason():
    with pytest.raises(RevertError) as info:
        run('PUSH "nope"\nPUSH 0\nMSTORE\nPUSH 4\nPUSH 0\nREVERT')
    assert info.value.reason == "nope"
    assert info.value.gas_used == 3 + 3 + 3 + 3 + 3 + 3  # pushes, MSTORE, 1 word of memory
    with pytest.raises(RevertError) as info:
        run("PUSH 2\nPUSH 0\nMSTORE\nPUSH 1\nPUSH 31\nREVERT")
    assert info.value.reason == "\x02"


def test_staticcall_into_self_refuses_the_write_and_pushes_0():
    # With call data: STATICCALL itself with none; without: try an SSTORE.
    src = """
        CALLDATASIZE
        PUSH @outer
        JUMPI
        PUSH 1
        PUSH 1
        SSTORE
        HALT
        outer: JUMPDEST
        PUSH 0
        PUSH 0
        PUSH 0
        PUSH 0
        ADDRESS
        PUSH 100000
        STATICCALL
    """
    assert top(src, data=b"\x01") == 0
    with pytest.raises(StaticCallViolationError):
        _run_static("PUSH 1\nPUSH 1\nSSTORE")


def _run_static(src: str):
    """Run `src` directly as a static top-level frame."""
    from zvm_helpers import CALLER, SELF

    from ghost_cli.vm.zvm.engine import _Host
    from ghost_cli.vm.zvm.interpreter import Code, Interpreter, Message, TxContext

    engine = ZvmEngine()
    blob = encode_zvmc(assemble(src))
    contract = engine.load(blob)
    host = _Host(engine, CallContext(CALLER, SELF, b"", 10**6), contract, blob, lambda k: None)
    tx = TxContext(CALLER, 10**6, 0, 0, 0, Limits(), host)
    result = Interpreter(engine._dispatch, tx).run(
        Message(Code.of(assemble(src)), SELF, CALLER, b"", 10**6, static=True))
    if result.error:
        raise result.error
    return result


@pytest.mark.parametrize("src", [
    "PUSH 1\nPUSH 1\nTSTORE", "PUSH 0\nPUSH 0\nLOG0", "PUSH 0\nSELFDESTRUCT",
    "PUSH 0\nPUSH 0\nPUSH 0\nCREATE", "PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nHOSTCALL storage_write",
    "PUSH 0\nPUSH 0\nHOSTCALL storage_delete",
    "PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nHOSTCALL emit_event",
    "PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 1\nPUSH 0\nPUSH 0\nCALL",
])
def test_every_state_change_is_refused_when_static(src):
    with pytest.raises(StaticCallViolationError):
        _run_static(src)


def test_static_frames_may_read():
    assert _run_static("PUSH 1\nSLOAD\nPUSH 1\nTLOAD\nADD").success


def test_hostcall_index_out_of_range():
    with pytest.raises(InvalidOpcodeError, match="no host function 200"):
        run("HOSTCALL 200")


@pytest.mark.parametrize("blob", [b"ZVMC", b"ZVMC\x01\x01\x00\x00" + bytes(8),
                                  encode_zvmc(b"", b"{bad json")])
def test_engine_rejects_bad_containers(blob):
    engine = ZvmEngine()
    with pytest.raises(InvalidModuleError):
        engine.validate(blob)


def test_engine_rejects_oversized_contracts():
    with pytest.raises(InvalidModuleError, match="limit"):
        ZvmEngine(Limits(module_bytes=100)).validate(encode_zvmc(bytes(100)))


def test_unknown_function():
    import json

    meta = {"abi": {"version": 1, "functions": [{"name": "get", "inputs": [], "output": None}]}}
    blob = encode_zvmc(b"", json.dumps(meta).encode())
    ctx = CallContext(b"\1" * 20, b"\2" * 20, b"", 1000)
    with pytest.raises(NotFoundError):
        ZvmEngine().execute(blob, "nope", ctx, lambda k: None)
    with pytest.raises(NotFoundError):
        ZvmEngine().execute(encode_zvmc(b""), "get", ctx, lambda k: None)
    assert ZvmEngine().execute(blob, "get", ctx, lambda k: None).gas_used == 0
    assert ZvmEngine().execute(encode_zvmc(b""), "get()", ctx, lambda k: None).gas_used == 0


def test_returndatacopy_out_of_bounds():
    with pytest.raises(TrapError, match="RETURNDATACOPY"):
        run("PUSH 1\nPUSH 0\nPUSH 0\nRETURNDATACOPY")


# ---- errors in hot code: the loop below runs 20 times (its blocks compile on the way),
# then falls through to the bad instruction; the error is the step-by-step one exactly.

LOOP = "PUSH 20\nloop: JUMPDEST\nPUSH 1\nSWAP1\nSUB\nDUP1\nPUSH @loop\nJUMPI\n"  # 11 bytes


@pytest.mark.parametrize(("tail", "error", "message"), [
    (b"\x13\x01\x02", TruncatedImmediateError, "truncated PUSH4 at pc 11: 2 of 4"),
    (b"\x11\x01\xd0", TruncatedImmediateError, "truncated HOSTCALL at pc 13"),
    (b"\x01\xfe", InvalidOpcodeError, "invalid opcode 0xFE at pc 12"),
    (b"\x11\x0f\xa0\x11\xa3", InvalidJumpError, "invalid jump at pc 13: destination 15"),
    (b"\x11\x01\x11\x10\xa1\x11\xa3", InvalidJumpError, "at pc 15: destination 16"),
    (b"\x11\x11\xa0\xa3", InvalidJumpError, "invalid jump at pc 13: destination 17"),
    (b"\x10\x10", StackUnderflowError, "stack underflow at pc 12: POP needs 1 items, stack has 0"),
])
def test_errors_after_hot_code_are_exact(tail, error, message):
    with pytest.raises(error, match=message) as info:
        run(assemble(LOOP) + tail)
    assert info.value.gas_used == 10_000_000


def test_out_of_gas_inside_a_hot_block_names_the_instruction():
    loop_gas = 3 + 20 * (1 + 3 + 3 + 3 + 3 + 3 + 10)
    tail = "POP\nPUSH 1\nPUSH 2\nADD\n"  # pcs 11, 12, 14, 16
    assert run(LOOP + tail).gas_used == loop_gas + 2 + 9
    with pytest.raises(OutOfGasError, match="at pc 16: ADD costs 3"):
        run(LOOP + tail, gas=loop_gas + 2 + 8)
    with pytest.raises(OutOfGasError, match="at pc 14: PUSH1 costs 3"):
        run(LOOP + tail, gas=loop_gas + 2 + 5)
    with pytest.raises(OutOfGasError, match="at pc 10: JUMPI costs 10"):
        run(LOOP + tail, gas=loop_gas - 5)  # in the last iteration
