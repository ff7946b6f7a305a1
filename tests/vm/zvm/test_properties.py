"""Property tests: no input bytes make the engine raise anything but a GhostError, and the
disassembler round-trips any code."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zvm_helpers import CALLER, SELF

from ghost_cli.exceptions import GhostError
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.types import CallContext, Limits
from ghost_cli.vm.zvm import assemble, disassemble, encode_zvmc, to_text
from ghost_cli.vm.zvm.engine import ZvmEngine
from ghost_cli.vm.zvm.opcodes import BY_NAME, OPCODES

# Bytes biased towards real opcodes (and small PUSH immediates), so programs run a while.
_OPS = sorted(OPCODES)
_byte = st.one_of(st.sampled_from(_OPS), st.integers(0, 255), st.sampled_from([0, 1, 2, 32]))
_code = st.lists(_byte, max_size=200).map(bytes)
_LIMITS = Limits(memory_bytes=1 << 20)
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _ctx(data: bytes, gas: int) -> CallContext:
    return CallContext(CALLER, SELF, data, gas, block_height=1, block_time=2, chain_id=3)


def _resolver(address: bytes):
    return None


@SETTINGS
@given(code=_code, data=st.binary(max_size=40), gas=st.integers(0, 200_000))
def test_random_bytecode_only_raises_ghost_errors(code, data, gas):
    engine = ZvmEngine(_LIMITS, resolver=_resolver)
    blob = encode_zvmc(code)
    try:
        out = engine.execute(blob, "f()", _ctx(data, gas), {}.get)
    except GhostError as exc:
        assert 0 <= getattr(exc, "gas_used", 0) <= gas
    else:
        assert 0 <= out.gas_used <= gas


@SETTINGS
@given(blob=st.one_of(st.binary(max_size=64),
                      st.binary(max_size=48).map(lambda b: b"ZVMC" + b),
                      st.tuples(st.binary(max_size=8), st.binary(max_size=8),
                                st.integers(0, 255), st.integers(0, 255)).map(
                          lambda t: b"ZVMC\x01" + bytes([t[2] % 4, t[3], 0])
                          + len(t[0]).to_bytes(4, "little") + len(t[1]).to_bytes(4, "little")
                          + t[0] + t[1])),
       function=st.sampled_from(["f()", "get", "x(u64)"]))
def test_random_containers_only_raise_ghost_errors(blob, function):
    engine = ZvmEngine(_LIMITS)
    try:
        engine.validate(blob)
        engine.execute(blob, function, _ctx(b"", 10_000), {}.get)
    except GhostError:
        pass


@SETTINGS
@given(code=st.binary(max_size=300))
def test_disassembly_round_trips(code):
    assert assemble(to_text(disassemble(code))) == code


_containers = st.tuples(st.binary(max_size=8), st.binary(max_size=24),
                        st.integers(0, 255)).map(
    lambda t: b"ZVMC\x01" + bytes([t[2] % 4, 0, 0]) + len(t[0]).to_bytes(4, "little")
    + len(t[1]).to_bytes(4, "little") + t[0] + t[1])


@SETTINGS
@given(output=st.one_of(st.binary(max_size=64), st.binary(max_size=40).map(lambda b: b"ZVMC" + b),
                        _containers,
                        _containers.map(lambda c: c + b"x"),
                        st.builds(lambda c: encode_zvmc(c, b'{"abi": []}'), st.binary(max_size=8))))
def test_any_constructor_output_deploys_or_fails_cleanly(output):
    """CREATE with init code returning `output`: a new contract or 0, never a crash."""
    init = b"".join(b"\x16" + output[i:i + 32].ljust(32, b"\0") + b"\x11" + bytes([i])
                    + b"\x81" for i in range(0, len(output), 32))  # PUSH32 chunk, PUSH1 i, MSTORE
    init += bytes([0x11, len(output), 0x11, 0, 0xA8])  # RETURN(0, len)
    src = b"".join(b"\x16" + init[i:i + 32].ljust(32, b"\0") + b"\x12" + i.to_bytes(2, "big")
                   + b"\x81" for i in range(0, len(init), 32))
    src += bytes([0x12]) + len(init).to_bytes(2, "big") + bytes([0x11, 0, 0x11, 0, 0xAB])
    engine = ZvmEngine(_LIMITS, resolver=_resolver)
    out = engine.execute(encode_zvmc(src), "f()", _ctx(b"", 10**7), {}.get)
    assert len(out.created) <= 1
    for made in out.created:  # a container as it came, raw code wrapped
        assert made.code == (output if output.startswith(b"ZVMC") else encode_zvmc(output))
    assert out.created or output.startswith(b"ZVMC")  # raw code always deploys


# ---- the compiled fast path and the step-by-step path agree, to the gas and the message --

_PURE = [b for b, op in OPCODES.items()
         if op.family in ("arithmetic", "logic", "stack") and op.immediate == 0]
_KINDS = (
    (60, st.sampled_from(_PURE)),
    (25, st.tuples(st.just(0x11), st.integers(0, 255)).map(bytes)),  # PUSH1
    (10, st.sampled_from([0xA3, 0xA3, 0x01, 0xA2, 0x81, 0x80, 0x90, 0x91, 0xB6, 0xD0])),
    (5, st.tuples(st.just(0x11), st.integers(0, 200), st.sampled_from([0xA0, 0xA1])).map(bytes)),
)


def _kind(roll: int) -> st.SearchStrategy:
    for weight, strategy in _KINDS:
        if roll < weight:
            return strategy
        roll -= weight
    raise AssertionError(roll)


_item = st.integers(0, 99).flatmap(_kind)  # mostly stack and arithmetic, few jumps

# Words on the stack to start with (over four zeros), and an ending that stores the top
# four (SSTORE pops the key, then the value), so what the blocks computed shows in the writes.
_prologue = st.lists(st.one_of(st.integers(0, 2**256 - 1), st.integers(0, 40)),
                     min_size=4, max_size=4).map(
    lambda words: b"\x11\x00" * 4 + b"".join(b"\x16" + w.to_bytes(32, "big") for w in words))
_EPILOGUE = b"".join(bytes([0x11, 0xF0 + k, 0x91]) for k in range(4))
_program = st.tuples(_prologue, st.lists(_item, min_size=8, max_size=60)).map(
    lambda t: t[0] + b"".join(bytes([i]) if isinstance(i, int) else i for i in t[1])
    + _EPILOGUE)


def _outcome(code: bytes, data: bytes, gas: int, compiled: bool, monkeypatch) -> tuple:
    from ghost_cli.vm.zvm import interpreter

    monkeypatch.setattr(interpreter, "HOT_AFTER", 1 if compiled else 10**9)
    engine = ZvmEngine(_LIMITS, resolver=_resolver)
    try:
        out = engine.execute(encode_zvmc(code), "f()", _ctx(data, gas), {}.get)
    except GhostError as exc:
        return ("error", type(exc).__name__, exc.message, getattr(exc, "gas_used", None))
    return ("ok", out.return_data, out.gas_used, out.writes, out.events, out.logs)


@SETTINGS
@given(code=st.one_of(_program, _code), data=st.binary(max_size=8),
       gas=st.one_of(st.just(1_000_000), st.integers(0, 3000)))  # plenty, or out of gas somewhere
def test_compiled_blocks_match_the_step_by_step_path(code, data, gas):
    with pytest.MonkeyPatch.context() as mp:
        stepped = _outcome(code, data, gas, False, mp)
        compiled = _outcome(code, data, gas, True, mp)
    assert compiled == stepped


# The compiler proves things about a block and drops work on the strength of them: a word
# just stored at an offset is the word loaded there (unless a store in between may have
# overlapped it), an access inside memory already touched needs no bounds test, a value
# bounded by a JUMPI not taken (`c < x`, `x > c`) or by its operations needs no 256-bit
# mask. Snippets that put those proofs to work, with symbolic words (CALLDATASIZE ends a
# block, so the next one reads what was on the stack) and offsets that may alias constant
# ones. Every JUMPI goes to the epilogue, which shows memory and the stack in the writes.
def _ops(*names: str) -> bytes:
    return bytes(BY_NAME[name].value for name in names)


def _push(value: int, size: int = 1) -> bytes:
    return _ops(f"PUSH{size}") + value.to_bytes(size, "big")


_TO_END = object()  # placeholder: PUSH2 of the epilogue's pc
_OFFSETS = st.sampled_from([0, 1, 31, 32, 33, 64])
_BOUNDS = st.sampled_from([0, 1, 255, 2**16, 2**31, 2**32 - 1])
_WORDS = st.one_of(st.integers(2**224, 2**256 - 1), st.integers(0, 2**256 - 1),
                   st.sampled_from([2**256 - 1, 2**255, 2**64 - 1]))  # sums overflow
_STORES = st.sampled_from(["MSTORE", "MSTORE8"])
_BREAK = [_ops("CALLDATASIZE", "POP")]  # the next block reads the stack as symbols
_MEMORY_SNIPPETS = st.one_of(
    st.just(_BREAK),
    # store at o1, store at o2 (overlapping it or not), load at o1
    st.tuples(_WORDS, _OFFSETS, _WORDS, _OFFSETS, _STORES).map(lambda t: [
        _push(t[0], 32) + _push(t[1]) + _ops("MSTORE") + _push(t[2], 32) + _push(t[3])
        + _ops(t[4]) + _push(t[1]) + _ops("MLOAD")]),
    st.tuples(_OFFSETS, st.sampled_from(["MLOAD", "MSTORE", "MSTORE8"])).map(
        lambda t: [_push(t[0]) + _ops(t[1])]),
    st.sampled_from(["MLOAD", "MSTORE", "MSTORE8"]).map(  # at a computed offset
        lambda op: [_push(63) + _ops("AND", op)]),
    # a load of which only low bits are seen
    st.tuples(_OFFSETS, st.sampled_from([0, 1, 8, 31, 33]),
              st.sampled_from([0xFF, 0x1FF, 2**32 - 1, 2**33 - 1, 2**64 - 1, 2**65 - 1])).map(
        lambda t: [_push(t[0]) + _ops("MLOAD") + _push(t[1]) + _ops("SHR")
                   + _push(t[2], 16) + _ops("AND")]),
    st.sampled_from([[_ops(*names)] for names in (
        ("CALLDATASIZE",), ("DUP1",), ("DUP2",), ("SWAP1",), ("POP",))]),
    _WORDS.map(lambda v: [_push(v, 32)]),
)
# Words from the call data (symbols to the blocks after each CALLDATALOAD), then arithmetic
# whose masks the compiler drops where it proves them needless.
_ARITH_SNIPPETS = st.one_of(
    st.sampled_from([[_ops(*names)] for names in (
        ("DUP1",), ("DUP2",), ("DUP3",), ("SWAP1",), ("SWAP2",), ("ISZERO",),
        ("ADD",), ("MUL",), ("SUB",), ("AND",), ("OR",))]),
    # x = top >> r; leave when c < x (or x > c), else use x, now at most c
    st.tuples(st.sampled_from([192, 224, 240]), _BOUNDS, st.booleans(),
              st.sampled_from(["SHL", "ADD", "MUL"]), st.integers(0, 255)).map(lambda t: [
        _push(t[0]) + _ops("SHR", "DUP1") + _push(t[1], 4)
        + (_ops("SWAP1", "GT") if t[2] else _ops("LT")),
        _TO_END, _ops("JUMPI") + _push(t[4]) + _ops(t[3])]),
    st.tuples(st.sampled_from(["SHL", "SHR"]), st.integers(0, 256)).map(
        lambda t: [_push(t[1], 2) + _ops(t[0])]),
    st.tuples(st.sampled_from(["ADD", "MUL", "AND", "OR", "LT", "GT"]),
              st.sampled_from([0, 1, 7, 8, 255, 2**16 - 1, 2**32 - 1])).map(
        lambda t: [_push(t[1], 4) + _ops(t[0])]),
)
_MEMORY_EPILOGUE = _ops("JUMPDEST") + b"".join(
    _push(o) + _ops("MLOAD") + _push(0xE0 + i) + _ops("SSTORE")
    for i, o in enumerate((0, 1, 32, 33, 64)))
# the top 12 words of the stack too (12 zeros under the program's words keep it that deep)
_DEEP = b"".join(_push(0) for _ in range(12))
_STACK_EPILOGUE = b"".join(_push(0xF0 + k) + _ops("SSTORE") for k in range(12))
_CALL_WORDS = b"".join(_push(32 * i) + _ops("CALLDATALOAD") for i in range(4))


def _assemble(prologue: bytes, snippets: list[list]) -> bytes:
    prologue = _DEEP + prologue
    parts = [part for snippet in snippets for part in snippet]
    end = len(prologue) + sum(3 if part is _TO_END else len(part) for part in parts)
    body = b"".join(_push(end, 2) if part is _TO_END else part for part in parts)
    return prologue + body + _MEMORY_EPILOGUE + _STACK_EPILOGUE


_programs = st.one_of(
    st.builds(_assemble, _prologue, st.lists(_MEMORY_SNIPPETS, min_size=4, max_size=40)),
    st.builds(_assemble, st.just(_CALL_WORDS), st.lists(_ARITH_SNIPPETS, min_size=4,
                                                        max_size=40)))
_call_data = st.lists(_WORDS, min_size=4, max_size=4).map(
    lambda words: b"".join(w.to_bytes(32, "big") for w in words))


@settings(SETTINGS, max_examples=1000)
@given(code=_programs, data=st.one_of(_call_data, st.binary(max_size=40)),
       gas=st.one_of(st.just(1_000_000), st.integers(0, 3000)))
def test_compiled_memory_and_bounds_match_the_step_by_step_path(code, data, gas):
    with pytest.MonkeyPatch.context() as mp:
        stepped = _outcome(code, data, gas, False, mp)
        compiled = _outcome(code, data, gas, True, mp)
    assert compiled == stepped


# Instructions that take memory ranges (copies, hashes, logs, returns, host calls), with
# offsets and sizes around and far past the memory limit: the limit comes before their
# gas and before anything is built, the same way on both paths, and only ghost errors.
_LIMIT = _LIMITS.memory_bytes
HOST_INDEX = {f.name: i for i, f in enumerate(HOST_FUNCTIONS)}
_RANGE = st.sampled_from([0, 1, 31, 32, 33, _LIMIT // 2, _LIMIT - 32, _LIMIT, _LIMIT + 1,
                          10**10, 2**64, 2**255])
_RANGED = ["CALLDATACOPY", "CODECOPY", "RETURNDATACOPY", "KECCAK256", "SHA256", "BLAKE2B",
           "LOG0", "LOG1", "MLOAD", "MSTORE", "MSTORE8", "RETURN"]
_HOST_RANGED = [HOST_INDEX[name] for name in ("debug_log", "hash_keccak256", "input_copy")]


def _ranged(name: str, words: list[int]) -> bytes:
    """`name` with `words` as its operands, the first on top (0 for any left over)."""
    pops = BY_NAME[name].pops if name != "HOSTCALL" else 3
    pushes = b"".join(_push(v, 32) for v in reversed((words + [0] * pops)[:pops]))
    return pushes + _ops(name)


_ranged_item = st.one_of(
    st.builds(_ranged, st.sampled_from(_RANGED), st.lists(_RANGE, min_size=3, max_size=3)),
    st.builds(lambda words, index: _ranged("HOSTCALL", words) + bytes([index]),
              st.lists(_RANGE, min_size=3, max_size=3), st.sampled_from(_HOST_RANGED)))
_ranged_program = st.lists(_ranged_item, min_size=1, max_size=6).map(b"".join)


@SETTINGS
@given(code=_ranged_program, data=st.binary(max_size=40),
       gas=st.sampled_from([3000, 100_000, 1_000_000, 10**9]))
def test_memory_ranges_match_on_both_paths_and_stay_bounded(code, data, gas):
    with pytest.MonkeyPatch.context() as mp:
        stepped = _outcome(code, data, gas, False, mp)
        compiled = _outcome(code, data, gas, True, mp)
    assert compiled == stepped
    if stepped[0] == "error":
        assert stepped[1] in {"MemoryLimitError", "OutOfGasError", "TrapError"}, stepped
