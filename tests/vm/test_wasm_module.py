"""The pure-Python WebAssembly reader: structure, custom sections, and corrupt input."""

from __future__ import annotations

import json
import random

import pytest

from ghost_cli.exceptions import InvalidModuleError
from ghost_cli.vm.wasm_module import (
    HEADER,
    METADATA_SECTION,
    FuncType,
    Import,
    add_custom_section,
    parse_module,
    read_metadata,
)


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def name(s: str) -> bytes:
    raw = s.encode()
    return uleb(len(raw)) + raw


def section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + uleb(len(body)) + body


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


# A hand-made module: two types, a function and a memory import, one function, exports.
TYPES = section(1, vec([b"\x60" + vec([b"\x7f"]) + vec([]), b"\x60" + vec([]) + vec([b"\x7e"])]))
IMPORTS = section(2, vec([
    name("ghost") + name("caller") + b"\x00" + uleb(0),
    name("env") + name("memory") + b"\x02" + b"\x01" + uleb(1) + uleb(2),
]))
FUNCS = section(3, vec([uleb(1)]))
EXPORTS = section(7, vec([name("height") + b"\x00" + uleb(1), name("f0") + b"\x00" + uleb(0)]))
CODE = section(10, vec([uleb(4) + b"\x00\x42\x07\x0b"]))  # i64.const 7
HAND = HEADER + TYPES + IMPORTS + FUNCS + EXPORTS + CODE


def test_hand_made_module() -> None:
    m = parse_module(HAND)
    assert m.types == (FuncType(("i32",), ()), FuncType((), ("i64",)))
    assert m.imports == (
        Import("ghost", "caller", "func", FuncType(("i32",), ())),
        Import("env", "memory", "memory"),
    )
    assert str(m.imports[0]) == "ghost.caller"
    assert [(e.name, e.kind) for e in m.exports] == [("height", "func"), ("f0", "func")]
    assert m.export_type("height") == FuncType((), ("i64",))
    assert m.export_type("f0") == FuncType(("i32",), ())  # re-exported import
    assert m.export_type("missing") is None
    assert m.custom_sections == ()
    assert [s.id for s in m.sections] == [1, 2, 3, 7, 10]


def test_real_module(counter_code) -> None:
    m = parse_module(counter_code)
    assert {e.name for e in m.exports} >= {"memory", "increment", "add", "get"}
    assert all(i.module == "ghost" and i.kind == "func" for i in m.imports)
    assert m.export_type("increment") == FuncType((), ())


def test_add_custom_section_appends_and_replaces() -> None:
    once = add_custom_section(HAND, "note", b"hello")
    assert once.startswith(HAND)
    (c,) = parse_module(once).custom_sections
    assert (c.name, c.payload) == ("note", b"hello")
    twice = add_custom_section(once, "note", b"bye")
    assert [(c.name, c.payload) for c in parse_module(twice).custom_sections] == [("note", b"bye")]
    other = add_custom_section(twice, "other", b"")
    assert [c.name for c in parse_module(other).custom_sections] == ["note", "other"]
    # a large payload needs a multi-byte LEB128 length
    big = add_custom_section(HAND, "big", bytes(300_000))
    assert parse_module(big).custom_sections[0].payload == bytes(300_000)


def test_metadata_roundtrip_and_absence() -> None:
    assert read_metadata(HAND) is None
    data = {"format": 1, "abi": {"functions": []}}
    code = add_custom_section(HAND, METADATA_SECTION, json.dumps(data).encode())
    assert read_metadata(code) == data


@pytest.mark.parametrize(
    "payload, expected",
    [(b"{not json", "not UTF-8 JSON"), (b"[1, 2]", "not a JSON object"), (b"\xff", "UTF-8")],
)
def test_bad_metadata(payload: bytes, expected: str) -> None:
    code = add_custom_section(HAND, METADATA_SECTION, payload)
    with pytest.raises(InvalidModuleError, match=expected):
        read_metadata(code)


def test_two_metadata_sections_are_ambiguous() -> None:
    extra = section(0, name(METADATA_SECTION) + b"{}")
    with pytest.raises(InvalidModuleError, match="2 ghost.metadata sections"):
        read_metadata(HAND + extra + extra)


@pytest.mark.parametrize(
    "code, expected",
    [
        (b"", "shorter than the 8-byte header"),
        (b"\0asm\x01\0", "shorter than the 8-byte header"),
        (b"\x7fELF\x01\0\0\0", "magic"),
        (b"\0asm\x02\0\0\0", "unsupported binary version 02000000"),
        (HEADER + b"\x0e\x00", "unknown section id 14"),
        (HEADER + b"\x01\x05\x00", "runs past the end"),
        (HEADER + b"\x01\xff\xff\xff\xff\xff\x00", "longer than 5 bytes"),
        (HEADER + TYPES + TYPES, "section 1 appears twice"),
        (HEADER + section(1, vec([b"\x5f"])), "unsupported type form 0x5f"),
        (HEADER + section(1, vec([b"\x60\x01\x01\x00"])), "unknown value type 0x01"),
        (HEADER + section(1, vec([]) + b"\x00"), "trailing byte"),
        (HEADER + section(2, vec([name("a") + name("b") + b"\x00\x00"])), "undefined type 0"),
        (HEADER + section(2, vec([name("a") + name("b") + b"\x09"])), "unknown import kind"),
        (HEADER + section(7, vec([name("x") + b"\x07\x00"])), "unknown export kind"),
        (HEADER + section(7, vec([name("x") + b"\x00\x00"] * 2)), "export 'x' appears twice"),
        (HEADER + section(0, b"\x02\xff\xfe"), "name is not valid UTF-8"),
        (HEADER + section(0, b"\x09ab"), "runs past the end"),
    ],
)
def test_corrupt_input_is_one_line(code: bytes, expected: str) -> None:
    with pytest.raises(InvalidModuleError) as info:
        parse_module(code)
    assert expected in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 5


def _only_invalid_module_errors(code: bytes) -> None:
    try:
        parse_module(code)
        read_metadata(code)
    except InvalidModuleError as exc:
        assert "\n" not in exc.message


def test_fuzz_truncations(counter_code) -> None:
    code = counter_code
    for n in range(len(code)):
        _only_invalid_module_errors(code[:n])
    with pytest.raises(InvalidModuleError):
        parse_module(code[:-1])


def test_fuzz_garbage_and_bit_flips(token_code) -> None:
    rng = random.Random(1234)
    code = token_code
    for _ in range(500):
        _only_invalid_module_errors(HEADER + rng.randbytes(rng.randrange(64)))
        _only_invalid_module_errors(rng.randbytes(rng.randrange(64)))
        flipped = bytearray(code)
        for _ in range(rng.randrange(1, 4)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        _only_invalid_module_errors(bytes(flipped))
