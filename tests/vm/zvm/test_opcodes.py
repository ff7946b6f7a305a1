"""Opcode semantics, table-driven: 256-bit wrap-around, signed ops, edge cases."""

import pytest
from zvm_helpers import top

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

M = 2**256 - 1
MIN = 2**255  # the most negative signed word


def neg(x: int) -> int:
    return (-x) & M


def push(*values: int) -> str:
    """PUSH the values so that the first one ends on top (a = first, b = second...)."""
    return "\n".join(f"PUSH {v}" for v in reversed(values))


BINARY = [
    # (opcode, a (top), b, expected)
    ("ADD", 1, 2, 3), ("ADD", M, 1, 0), ("ADD", M, M, M - 1),
    ("SUB", 5, 3, 2), ("SUB", 3, 5, neg(2)), ("SUB", 0, 1, M),
    ("MUL", 6, 7, 42), ("MUL", 2**255, 2, 0), ("MUL", M, M, 1),
    ("MUL", 2**200, 2**100, 0), ("MUL", 2**128 + 1, 2**128 - 1, (2**256 - 1) & M),
    ("DIV", 7, 2, 3), ("DIV", 7, 0, 0), ("DIV", M, 2**128, 2**128 - 1), ("DIV", 1, M, 0),
    ("SDIV", neg(7), 2, neg(3)), ("SDIV", 7, neg(2), neg(3)), ("SDIV", neg(7), neg(2), 3),
    ("SDIV", MIN, neg(1), MIN), ("SDIV", MIN, 1, MIN), ("SDIV", 5, 0, 0),
    ("SDIV", neg(1), MIN, 0), ("SDIV", MIN, MIN, 1),
    ("MOD", 7, 3, 1), ("MOD", 7, 0, 0), ("MOD", M, 2**255, 2**255 - 1),
    ("SMOD", neg(7), 3, neg(1)), ("SMOD", 7, neg(3), 1), ("SMOD", neg(7), neg(3), neg(1)),
    ("SMOD", MIN, neg(1), 0), ("SMOD", 5, 0, 0), ("SMOD", MIN, 3, neg(2)),
    ("EXP", 2, 10, 1024), ("EXP", 2, 256, 0), ("EXP", 3, 0, 1), ("EXP", 0, 0, 1),
    ("EXP", M, 2, 1), ("EXP", 2, 255, 2**255),
    ("SIGNEXTEND", 0, 0xFF, M), ("SIGNEXTEND", 0, 0x7F, 0x7F),
    ("SIGNEXTEND", 1, 0x8000, neg(0x8000)),
    ("SIGNEXTEND", 0, 0x1FF, M), ("SIGNEXTEND", 0, 0x17F, 0x7F), ("SIGNEXTEND", 31, MIN, MIN),
    ("SIGNEXTEND", 32, 0xFF, 0xFF), ("SIGNEXTEND", M, 0x80, 0x80),
    ("SIGNEXTEND", 30, 2**247, neg(2**247)),
    ("LT", 1, 2, 1), ("LT", 2, 1, 0), ("LT", M, 0, 0), ("GT", M, 0, 1), ("GT", 1, 1, 0),
    ("SLT", M, 0, 1), ("SLT", 0, M, 0), ("SLT", MIN, 2**255 - 1, 1),
    ("SGT", 0, M, 1), ("SGT", M, 0, 0), ("SGT", 2**255 - 1, MIN, 1),
    ("EQ", 5, 5, 1), ("EQ", 5, 6, 0), ("EQ", M, M, 1),
    ("AND", 0b1100, 0b1010, 0b1000), ("OR", 0b1100, 0b1010, 0b1110),
    ("XOR", 0b1100, 0b1010, 0b0110),
    ("BYTE", 31, 0xABCD, 0xCD), ("BYTE", 30, 0xABCD, 0xAB), ("BYTE", 0, MIN, 0x80),
    ("BYTE", 32, M, 0), ("BYTE", M, M, 0),
    ("SHL", 1, 1, 2), ("SHL", 255, 1, MIN), ("SHL", 256, 1, 0), ("SHL", 4, M, M - 15),
    ("SHR", 1, 2, 1), ("SHR", 255, MIN, 1), ("SHR", 256, M, 0), ("SHR", M, M, 0),
    ("SAR", 1, neg(4), neg(2)), ("SAR", 255, MIN, M), ("SAR", 256, MIN, M), ("SAR", 256, 5, 0),
    ("SAR", 1, 4, 2), ("SAR", M, neg(1), M), ("SAR", 254, 2**255 - 1, 1),
]


@pytest.mark.parametrize(("op", "a", "b", "expected"), BINARY)
def test_binary(op, a, b, expected):
    assert top(f"{push(a, b)}\n{op}") == expected


TERNARY = [
    ("ADDMOD", 10, 10, 8, 4), ("ADDMOD", M, 2, 2, 1), ("ADDMOD", M, M, M, 0),
    ("ADDMOD", 1, 2, 0, 0), ("MULMOD", 10, 10, 8, 4), ("MULMOD", M, M, 12, 9),
    ("MULMOD", 2**255, 2, 2**256 - 1, 1), ("MULMOD", 5, 5, 0, 0),
]


@pytest.mark.parametrize(("op", "a", "b", "n", "expected"), TERNARY)
def test_ternary(op, a, b, n, expected):
    assert top(f"{push(a, b, n)}\n{op}") == expected


@pytest.mark.parametrize(("op", "a", "expected"), [
    ("ISZERO", 0, 1), ("ISZERO", 7, 0), ("NOT", 0, M), ("NOT", M, 0), ("NOT", 1, M - 1),
])
def test_unary(op, a, expected):
    assert top(f"PUSH {a}\n{op}") == expected


def test_dup_and_swap():
    # stack bottom→top: 1 2 3 4 5
    base = "PUSH 1\nPUSH 2\nPUSH 3\nPUSH 4\nPUSH 5\n"
    assert top(base + "DUP1") == 5
    assert top(base + "DUP4") == 2
    assert top(base + "SWAP1") == 4
    assert top(base + "SWAP4") == 1
    assert top(base + "SWAP4\nPOP\nPOP\nPOP\nPOP") == 5  # 5 moved to the 5th place


def test_push_widths_are_big_endian():
    assert top("PUSH8 0x0102030405060708") == 0x0102030405060708
    assert top("PUSH16 0x0102030405060708090a0b0c0d0e0f10") == 0x0102030405060708090A0B0C0D0E0F10
    assert top("PUSH32 -1") == M


def test_memory_words_are_big_endian():
    assert top("PUSH 0xAABB\nPUSH 0\nMSTORE\nPUSH 30\nMLOAD") == 0xAABB << 240
    assert top("PUSH 0xAABB\nPUSH 0\nMSTORE\nPUSH 0\nMLOAD") == 0xAABB
    assert top("PUSH 0x1FF\nPUSH 31\nMSTORE8\nPUSH 0\nMLOAD") == 0xFF
    assert top("PUSH 1\nPUSH 100\nMSTORE8\nMSIZE") == 128
    assert top("MSIZE") == 0
    assert top("PUSH 0\nMLOAD\nPOP\nMSIZE") == 32


def test_pc_and_jumps():
    assert top("NOP\nNOP\nPC") == 2
    assert top("PUSH @end\nJUMP\nPUSH 1\nend: JUMPDEST\nPUSH 9") == 9
    assert top("PUSH 0\nPUSH @end\nJUMPI\nPUSH 1\nend: JUMPDEST") == 1
    assert top("PUSH 5\nPUSH @end\nJUMPI\nPUSH 1\nend: JUMPDEST\nPUSH 2") == 2


def test_hashes():
    import hashlib

    from Crypto.Hash import RIPEMD160

    from ghost_cli.crypto.hashing import keccak256

    store = 'PUSH "abc"\nPUSH 0\nMSTORE\n'
    assert top(store + "PUSH 3\nPUSH 0\nKECCAK256") == int.from_bytes(keccak256(b"abc"), "big")
    assert top("PUSH 0\nPUSH 0\nKECCAK256") == int.from_bytes(keccak256(b""), "big")
    assert top(store + "PUSH 3\nPUSH 0\nSHA256") == int.from_bytes(
        hashlib.sha256(b"abc").digest(), "big")
    assert top(store + "PUSH 3\nPUSH 0\nRIPEMD160") == int.from_bytes(
        RIPEMD160.new(b"abc").digest(), "big")
    assert top(store + "PUSH 3\nPUSH 0\nBLAKE2B") == int.from_bytes(
        hashlib.blake2b(b"abc", digest_size=32).digest(), "big")
    expected = keccak256((5).to_bytes(32, "big") + (9).to_bytes(32, "big"))
    assert top("PUSH 5\nPUSH 9\nTABLEHASH") == int.from_bytes(expected, "big")  # key 9, slot 5


def test_context_and_block():
    from zvm_helpers import CALLER, SELF

    assert top("ADDRESS") == int.from_bytes(SELF, "big")
    assert top("CALLER") == int.from_bytes(CALLER, "big")
    assert top("ORIGIN") == int.from_bytes(CALLER, "big")
    assert top("CALLVALUE") == 0
    assert top("PUSH 0\nBALANCE") == 0
    assert top("NUMBER") == 7
    assert top("TIMESTAMP") == 1_700_000_000
    assert top("CHAINID") == 1337
    assert top("GASLIMIT") == 10_000_000
    for op in ("COINBASE", "DIFFICULTY", "PREVRANDAO", "SELFBALANCE", "BASEFEE", "GASPRICE"):
        assert top(op) == 0
    assert top("PUSH 1\nBLOCKHASH") == 0


def test_calldata():
    data = bytes(range(1, 41))
    assert top("CALLDATASIZE", data=data) == 40
    assert top("PUSH 0\nCALLDATALOAD", data=data) == int.from_bytes(data[:32], "big")
    assert top("PUSH 30\nCALLDATALOAD", data=data) == int.from_bytes(
        data[30:].ljust(32, b"\0"), "big")
    assert top(f"PUSH {2**255}\nCALLDATALOAD", data=data) == 0
    # CALLDATACOPY pops memOffset, dataOffset, size; past the end reads zeros
    assert top("PUSH 8\nPUSH 36\nPUSH 0\nCALLDATACOPY\nPUSH 0\nMLOAD", data=data) == \
        int.from_bytes(data[36:] + bytes(28), "big")


def test_code_introspection():
    from ghost_cli.vm.zvm import assemble

    src = "CODESIZE\nPUSH 4\nPUSH 0\nPUSH 0\nCODECOPY\nPUSH 0\nMLOAD"
    code = assemble(src + "\nSWAP1" + "\nPOP" + "\nPUSH 0\nMSTORE\nPUSH 32\nPUSH 0\nRETURN")
    assert top(src + "\nSWAP1\nPOP") == int.from_bytes(code[:4] + bytes(28), "big")
    assert top("CODESIZE\nPOP\nPUSH 0\nEXTCODESIZE") == 0


def test_storage_round_trip_and_transient():
    assert top("PUSH 42\nPUSH 7\nSSTORE\nPUSH 7\nSLOAD") == 42
    assert top("PUSH 7\nSLOAD") == 0
    assert top("PUSH 42\nPUSH 7\nTSTORE\nPUSH 7\nTLOAD") == 42
    assert top("PUSH 7\nTLOAD") == 0
    key = (7).to_bytes(32, "big")
    assert top("PUSH 7\nSLOAD", storage={key: (99).to_bytes(32, "big")}) == 99
    assert top("PUSH 7\nSLOAD", storage={key: b"\x01\x02"}) == 0x0102


def test_storage_writes_leave_as_32_byte_keys_and_values():
    from zvm_helpers import SELF, run

    r = run("PUSH 42\nPUSH 7\nSSTORE\nPUSH 0\nPUSH 8\nSSTORE",
            storage={(8).to_bytes(32, "big"): (1).to_bytes(32, "big")})
    assert r.writes[SELF] == {(7).to_bytes(32, "big"): (42).to_bytes(32, "big"),
                              (8).to_bytes(32, "big"): None}


def test_logs_copy_data_and_carry_topics():
    from zvm_helpers import SELF, run

    r = run('PUSH "hello"\nPUSH 0\nMSTORE\nPUSH 0xBB\nPUSH 0xAA\nPUSH 5\nPUSH 0\nLOG2\n'
            'PUSH 0\nPUSH 0\nMSTORE\nPUSH 0\nPUSH 0\nLOG0')
    first, second = r.events
    assert first.address == SELF and first.data == b"hello"
    assert first.topics == ((0xAA).to_bytes(32, "big"), (0xBB).to_bytes(32, "big"))
    assert second.topics == () and second.data == b""


def test_return_and_halt():
    from zvm_helpers import run

    assert run("PUSH 1\nHALT\nPUSH 2").return_data == b""
    assert run("").return_data == b""
    r = run('PUSH "hi"\nPUSH 0\nMSTORE\nPUSH 2\nPUSH 0\nRETURN\n.byte 0xEE')
    assert r.return_data == b"hi"
    assert run("PUSH 1\nSELFDESTRUCT\n.byte 0xEE").return_data == b""
