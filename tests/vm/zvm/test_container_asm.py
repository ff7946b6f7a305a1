"""ZVMC container and assembler: the API the wasm → ZVM lowering builds on."""

import json

import pytest

from ghost_cli.exceptions import CompileError, InvalidModuleError
from ghost_cli.vm.zvm import (
    OPCODES,
    assemble,
    decode_zvmc,
    disassemble,
    encode_zvmc,
    read_zvmc_metadata,
    selector,
    to_text,
)
from ghost_cli.vm.zvm.opcodes import jumpdests

META = {"abi": {"version": 1, "functions": [{"name": "get", "inputs": [], "output": "u64"}]}}


def test_zvmc_round_trip_and_header_layout():
    abi = json.dumps(META).encode()
    blob = encode_zvmc(b"\x11\x01", abi, target=0, flags=3)
    assert blob[:4] == b"ZVMC" and blob[4] == 1 and blob[5] == 0 and blob[6] == 3
    assert blob[7] == 0
    assert int.from_bytes(blob[8:12], "little") == 2
    assert int.from_bytes(blob[12:16], "little") == len(abi)
    z = decode_zvmc(blob)
    assert (z.code, z.abi, z.version, z.target, z.flags) == (b"\x11\x01", abi, 1, 0, 3)
    assert read_zvmc_metadata(blob) == META
    assert read_zvmc_metadata(encode_zvmc(b"")) is None


@pytest.mark.parametrize("blob", [
    b"", b"ZVMC", b"XVMC" + bytes(12),
    b"ZVMC\x02\x00\x00\x00" + bytes(8),  # version
    b"ZVMC\x01\x07\x00\x00" + bytes(8),  # target
    b"ZVMC\x01\x00\x00\x01" + bytes(8),  # reserved byte
    b"ZVMC\x01\x00\x00\x00" + (5).to_bytes(4, "little") + bytes(4) + b"abc",  # short code
    b"ZVMC\x01\x00\x00\x00" + bytes(8) + b"trailing",
    b"ZVMC\x01\x00\x00\x00" + (0xFFFFFFFF).to_bytes(4, "little") * 2,
])
def test_malformed_zvmc_is_invalid_module(blob):
    with pytest.raises(InvalidModuleError):
        decode_zvmc(blob)


@pytest.mark.parametrize("abi", [b"not json", b"[1,2]", b"\xff\xfe"])
def test_bad_abi_section_is_invalid_module(abi):
    with pytest.raises(InvalidModuleError):
        read_zvmc_metadata(encode_zvmc(b"", abi))


def test_selector_is_keccak_prefix():
    # keccak256("increment()") starts d09de08a (the well-known Solidity selector)
    assert selector("increment()") == bytes.fromhex("d09de08a")


def test_assembler_features():
    code = assemble("""
        ; comment
        start: PUSH 1            ; auto → PUSH1
        PUSH 256                 ; auto → PUSH2
        PUSH2 7
        PUSH -1                  ; auto → PUSH32 of 2^256-1
        PUSH1 -1                 ; 0xff
        PUSH @end
        PUSH4 selector(increment())
        HOSTCALL storage_write
        HOSTCALL 3
        end: JUMPDEST
        .byte 1 2
        .bytes 0xbeef
    """)
    ins = disassemble(code)
    names = [i.name for i in ins if i.valid]
    assert names[:9] == ["PUSH1", "PUSH2", "PUSH2", "PUSH32", "PUSH1", "PUSH1", "PUSH4",
                         "HOSTCALL", "HOSTCALL"]
    assert ins[3].immediate == 2**256 - 1 and ins[4].immediate == 0xFF
    end = next(i for i in ins if i.name == "JUMPDEST").offset
    assert ins[5].immediate == end
    assert ins[6].immediate == 0xD09DE08A
    assert ins[7].immediate == 1 and ins[8].immediate == 3
    assert code.endswith(b"\x01\x02\xbe\xef")
    assert assemble(to_text(ins)) == code


def test_label_pushes_relax_to_wider_immediates():
    body = "\n".join(["NOP"] * 300)
    code = assemble(f"PUSH @far\n{body}\nfar: JUMPDEST\n")
    first = disassemble(code)[0]
    assert first.name == "PUSH2" and first.immediate == len(code) - 1
    assert code[first.immediate] == 0xA3


def test_string_immediates_are_left_aligned():
    ins = disassemble(assemble('PUSH "Hi"\nPUSH4 "ab"'))
    assert ins[0].name == "PUSH32"
    assert ins[0].immediate.to_bytes(32, "big") == b"Hi".ljust(32, b"\0")
    assert ins[1].immediate.to_bytes(4, "big") == b"ab\0\0"


@pytest.mark.parametrize("src", [
    "FROB", "PUSH", "PUSH1 256", "PUSH1 @nowhere", "ADD 1", "a:\na:", "HOSTCALL nope",
    "HOSTCALL", ".byte 300", ".bytes 0xabc", "PUSH 0xzz", 'PUSH "unterminated',
    "PUSH2 selector(f())", 'PUSH1 "toolong"',
])
def test_assembler_errors_name_the_line(src):
    with pytest.raises(CompileError, match=r"^line \d+: "):
        assemble(src)


def test_disassembler_never_fails_and_round_trips_every_byte():
    code = bytes(range(256)) + b"\x16\x01"  # ends in a truncated PUSH32
    ins = disassemble(code)
    assert not ins[-1].valid and ins[-1].name == "PUSH32"
    assert assemble(to_text(ins)) == code


def test_jumpdest_analysis_skips_immediates():
    code = assemble("PUSH2 0xa3a3\nJUMPDEST\nHOSTCALL 0xa3\nJUMPDEST")
    assert jumpdests(code) == {3, 6}
    assert OPCODES[0xA3].name == "JUMPDEST"


# ---- the .zasm syntax at its edges (docs/zvm.md, "Assembly") -------------------------------


def test_any_whitespace_separates_mnemonic_and_operand():
    assert assemble("PUSH\t10") == assemble("PUSH 10") == assemble("\tPUSH   10") == b"\x11\x0a"
    assert assemble("loop:\tHOSTCALL\tinput_size\n.byte\t1\t2") == b"\xd0\x04\x01\x02"


def test_a_semicolon_inside_a_string_is_text():
    ins = disassemble(assemble('PUSH "a;b" ; a comment with a " quote'))
    assert ins[0].immediate.to_bytes(32, "big") == b"a;b".ljust(32, b"\0")


def test_string_escapes_are_quote_and_backslash_only():
    ins = disassemble(assemble(r'PUSH4 "a\"\\b"'))
    assert ins[0].immediate.to_bytes(4, "big") == b'a"\\b'
    for bad in (r'PUSH "a\nb"', r'PUSH "a\"', 'PUSH "ab" x', 'PUSH "a\\'):
        with pytest.raises(CompileError, match=r"^line 1: "):
            assemble(bad)


@pytest.mark.parametrize(("src", "code"), [
    ("PUSH 010", "110a"),  # decimal, leading zeros and all
    ("PUSH 007", "1107"),
    ("PUSH1 -128", "1180"),  # two's complement at the width
    ("PUSH2 -1", "12ffff"),
    ("PUSH -1", "16" + "ff" * 32),  # auto-sized: the 256-bit word it means
    (f"PUSH {2**256 - 1}", "16" + "ff" * 32),
    (f"PUSH -{2**255}", "1680" + "00" * 31),
    ("PUSH 1_000", "1203e8"),
    ("PUSH 0b11", "1103"),
    ("HOSTCALL 004", "d004"),
])
def test_numbers(src, code):
    assert assemble(src).hex() == code


@pytest.mark.parametrize("src", [
    f"PUSH {2**256}",  # auto-sized: used to wrap to PUSH1 0x00
    f"PUSH32 {2**256}",
    f"PUSH -{2**255 + 1}",
    "PUSH1 -129", "PUSH1 -257", "PUSH1 -256", "PUSH2 -32769",
    "PUSH \u0661",  # a digit, but not an ASCII one
    "PUSH 0x", "PUSH 1e3",
])
def test_numbers_that_do_not_fit_or_parse_are_errors(src):
    with pytest.raises(CompileError, match=r"^line 1: (.* does not fit PUSH|not a number)"):
        assemble(src)


def test_source_bytes_that_are_not_utf8_are_a_compile_error_naming_the_line():
    assert assemble(b"PUSH 1\nNOP") == b"\x11\x01\x01"
    with pytest.raises(CompileError, match=r"^line 2: not UTF-8") as info:
        assemble(b'NOP\nPUSH "\xff"')
    assert info.value.details["line"] == 2
