"""ABI v2 in Python: the type grammar, properties of the codec over random nested types and
values, command-line and JSON forms, the ABI JSON document, storage keys, deploy checks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghost_cli.abi import (
    Abi,
    Function,
    Param,
    TypeDecl,
    decode_call,
    decode_exact,
    decode_result,
    decode_value,
    encode_call,
    encode_value,
    format_fields,
    parse_arg,
    parse_args,
    parse_type,
    to_jsonable,
)
from ghost_cli.abi import storage_key as sk
from ghost_cli.abi.strategies import abi_types, strategy_for
from ghost_cli.exceptions import AbiError, ArgumentError, GhostError

PAIR = TypeDecl("struct", "Pair", fields=(Param("a", "u64"), Param("b", "bool")))
COLOR = TypeDecl("enum", "Color", variants=(("red", 0), ("green", 1), ("blue", 7)))
ABI = Abi((Function("put", (Param("p", "Pair[]"), Param("c", "Color?")), "(u8,string)"),),
          version=2, types=(PAIR, COLOR), errors=("NotOwner",))
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


# ---- the grammar ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical, min_size", [
    ("u64", "u64", 8), ("u64[]", "u64[]", 4), ("u64[3]", "u64[3]", 24),
    ("u64[][2]", "u64[][2]", 8), (" ( u8 , string ) ?", "(u8,string)?", 1),
    ("Pair", "Pair", 9), ("Pair?[]", "Pair?[]", 4), ("Color[2]", "Color[2]", 2),
    ("bytes32", "bytes32", 32), ("u8[33]", "u8[33]", 33), ("((bool))", "((bool))", 1),
])
def test_parse_type_reads_the_grammar(text: str, canonical: str, min_size: int) -> None:
    t = parse_type(text, ABI)
    assert t.name == canonical and t.min_size == min_size
    assert parse_type(canonical, ABI) == t


@pytest.mark.parametrize("text, why", [
    ("u7", "unknown type 'u7'"), ("Nope", "unknown type 'Nope'"), ("u8[]", "spelled 'bytes'"),
    ("u8[4]", "spelled 'bytes4'"), ("u8[20]", "spelled 'address'"), ("u64??", "optional of an"),
    ("u64[0]", "array length 0"), ("()", "unexpected ')'"), ("(u8", "expected ',' or ')'"),
    ("u64]", "unexpected"), ("bytes33", "unknown type"), ("", "expected a type"),
    # ASCII only, and array lengths without leading zeros: one spelling per length
    ("u64[04]", "leading zero"), ("u64[\u0664]", "unexpected"), ("u64\u00a0[4]", "unexpected"),
    ("(u8,\u2003bool)", "expected a type"), ("u64\u3000", "unexpected"),
])
def test_parse_type_refuses_what_is_no_abi_type(text: str, why: str) -> None:
    with pytest.raises(ArgumentError, match="invalid ABI type") as info:
        parse_type(text, ABI)
    assert why in info.value.message


def test_declarations_that_cannot_be_encoded_are_refused() -> None:
    selfish = [{"kind": "struct", "name": "A", "fields": [{"name": "a", "type": "A[]"}]}]
    with pytest.raises(ArgumentError, match="contains itself"):
        parse_type("A", selfish)
    with pytest.raises(ArgumentError, match="no fields"):
        parse_type("E", [{"kind": "struct", "name": "E", "fields": []}])
    with pytest.raises(ArgumentError, match="distinct values 0..255"):
        parse_type("C", [{"kind": "enum", "name": "C", "variants": [
            {"name": "a", "value": 1}, {"name": "b", "value": 1}]}])
    # values are JSON integers: nothing is coerced with int()
    for value in (1.5, True, "1", 1.0, None):
        with pytest.raises(ArgumentError, match="each a JSON integer"):
            parse_type("C", [{"kind": "enum", "name": "C", "variants": [
                {"name": "a", "value": value}]}])
    # a decoded struct is a dict and an enum maps names: a name twice would lose one
    with pytest.raises(ArgumentError, match="two fields named 'a'"):
        parse_type("S", [{"kind": "struct", "name": "S", "fields": [
            {"name": "a", "type": "u8"}, {"name": "a", "type": "bool"}]}])
    with pytest.raises(ArgumentError, match="two variants named 'a'"):
        parse_type("C", [{"kind": "enum", "name": "C", "variants": [
            {"name": "a", "value": 0}, {"name": "a", "value": 1}]}])


def test_a_declaration_may_be_named_kind() -> None:
    decls = {"kind": {"kind": "struct", "name": "kind", "fields": [{"name": "a", "type": "u8"}]}}
    assert parse_type("kind[]", decls).name == "kind[]"


# ---- properties over random types and values -----------------------------------------------

@st.composite
def typed_values(draw):
    text, decls = draw(abi_types())
    value = draw(strategy_for(text, decls))
    return text, decls, value


@settings(max_examples=60, deadline=None)
@given(typed_values())
def test_encode_then_decode_is_identity(case) -> None:
    text, decls, value = case
    t = parse_type(text, decls)
    raw = t.encode(value)
    assert len(raw) >= t.min_size
    decoded = decode_exact(t, raw)
    assert t.encode(decoded) == raw
    # the JSON form goes through JSON text and back to the same bytes
    as_json = json.loads(json.dumps(t.to_json(decoded)))
    assert t.encode(t.from_json(as_json)) == raw


@settings(max_examples=40, deadline=None)
@given(typed_values(), st.data())
def test_truncated_or_extended_encodings_are_refused(case, data) -> None:
    text, decls, value = case
    t = parse_type(text, decls)
    raw = t.encode(value)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(AbiError) as info:
        decode_exact(t, raw[:cut])
    assert info.value.reason == "ghost: call data too short"
    with pytest.raises(AbiError) as info:
        decode_exact(t, raw + b"\x00")
    assert info.value.reason == "ghost: call data too long"


@settings(max_examples=60, deadline=None)
@given(abi_types(), st.binary(max_size=64))
def test_random_bytes_decode_or_are_refused_with_a_known_reason(case, raw) -> None:
    text, decls = case
    t = parse_type(text, decls)
    try:
        value = decode_exact(t, raw)
    except AbiError as exc:
        assert exc.reason in {"ghost: call data too short", "ghost: call data too long",
                              "ghost: invalid bool", "ghost: invalid utf-8",
                              "ghost: invalid optional tag", "ghost: invalid enum value"}
    else:
        assert t.encode(value) == raw  # what decodes re-encodes to the same bytes


def test_fixed_arrays_are_read_element_by_element() -> None:
    # the first problem met wins: the bad bool of Pair 0, not the missing Pair 1
    with pytest.raises(AbiError) as info:
        decode_exact("Pair[2]", bytes.fromhex("0100000000000000" "02"), ABI)
    assert info.value.reason == "ghost: invalid bool"


def test_a_huge_count_is_refused_before_building_anything() -> None:
    with pytest.raises(AbiError, match="count 4294967295"):
        decode_value("u64[][]", b"\x01\x00\x00\x00\xff\xff\xff\xff")


# ---- calls, results, the command line and JSON ---------------------------------------------

def test_calls_with_compound_types_resolve_names_in_their_abi() -> None:
    fn = ABI.function("put")
    args = [[{"a": 1, "b": True}], "blue"]
    data = encode_call(fn, args)
    assert data == bytes.fromhex("01000000" "0100000000000000" "01" "01" "07")
    assert decode_call(fn, data) == args
    with pytest.raises(AbiError, match="too long"):
        decode_call(fn, data + b"\x00")
    assert decode_result(fn, bytes.fromhex("05" "02000000" "6869")) == (5, "hi")
    # the same through the JSON document
    again = Abi.from_json(json.loads(json.dumps(ABI.to_json())))
    assert again == ABI and encode_call(again.function("put"), args) == data


def test_command_line_arguments() -> None:
    fn = ABI.function("put")
    assert parse_args(fn, ['[{"a": 1, "b": true}, {"a": "18446744073709551615", "b": false}]',
                           "green"]) == [[{"a": 1, "b": True},
                                          {"a": 18446744073709551615, "b": False}], "green"]
    assert parse_args(fn, ["[]", "null"]) == [[], None]
    assert parse_args(fn, ["[]", '"red"']) == [[], "red"]
    assert parse_args(fn, ["[]", "7"]) == [[], "blue"]  # an enum by its value too
    assert parse_arg("(address,bytes2)", f'["{ADDR}", "0x0102"]') == (
        bytes.fromhex(ADDR[2:]), b"\x01\x02")
    assert parse_arg("bytes4", "0xdeadbeef") == bytes.fromhex("deadbeef")
    assert parse_arg("u8[33]", '"0x' + "01" * 33 + '"') == [1] * 33
    assert parse_arg("u256", "0x10") == 16 and parse_arg("string", "[1]") == "[1]"
    assert parse_arg("i8[]", '[-1, "0x7f", 3.0]') == [-1, 127, 3]
    # a bare word where JSON is expected is the JSON string it spells
    assert parse_arg("address?", ADDR) == bytes.fromhex(ADDR[2:])
    assert parse_arg("string?", "hello") == "hello" and parse_arg("string?", "null") is None
    assert parse_arg("bytes?", "0x01") == b"\x01"


@pytest.mark.parametrize("ty, text, why", [
    ("Pair", "{", "expected JSON for Pair"),
    ("Pair", '{"a": 1}', "lacks field(s) b"),
    ("Pair", '{"a": 1, "b": true, "c": 2}', "has no field(s) c"),
    ("Pair", "[1, true]", "expected a JSON object for Pair"),
    ("u8[]", "[1]", "spelled 'bytes'"),
    ("u16[2][]", "[[1, 65536]]", "65536 does not fit in u16"),
    ("Color", "purple", "'purple' is no variant of Color"),
    ("(u8,u8)", "[1]", "takes 2 element(s), got 1"),
    ("address[]", '["0x12"]', "address"),
    ("bytes2", "0x010203", "bytes2 is 2 bytes, got 3"),
    ("bool[]", "[1]", "expected true or false"),
    # a field named twice is refused, not read as its last value (docs/abi.md)
    ("Pair", '{"a": 1, "a": 2, "b": true}', "names field 'a' twice"),
    # a refused value is shown as the JSON written, not as Python spells it
    ("Pair", "[1, true]", "expected a JSON object for Pair, got [1, true]"),
    ("u64[]", "[true]", "expected an integer for u64, got true"),
    ("u64[]", "[null]", "expected an integer for u64, got null"),
    ("Pair[]", '[{"a": 1, "b": true, "b": false}]', "names field 'b' twice"),
])
def test_bad_command_line_values_are_one_line_usage_errors(ty: str, text: str, why: str) -> None:
    with pytest.raises(ArgumentError) as info:
        parse_arg(ty, text, ABI)
    assert why in info.value.message and "\n" not in info.value.message
    assert info.value.exit_code == 2


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("42", 42), ("-5", -5), ("-0", 0), ("1_000", 1000), ("0x2a", 42), ("0X2A", 42),
    ("0xffff_FFFF", 0xFFFFFFFF), ("-0x10", -16), ("18446744073709551615", 2**64 - 1),
])
def test_integer_text_grammar_accepts(text: str, value: int) -> None:
    """docs/abi.md: the one grammar of integers as text, for command-line words and JSON
    strings alike."""
    ty = "i128" if value < 0 else "u64"
    assert parse_arg(ty, text) == value
    assert parse_type(ty).from_json(text) == value
    assert parse_arg(f"{ty}[]", json.dumps([text])) == [value]


@pytest.mark.parametrize("text", [
    "010", "007", "00", "+5", " 5", "5 ", "0b101", "0o7", "_1", "1_", "1__000", "0x_1",
    "0x", "-", "", "1e3", "1.0", "\u0665", "5\n", "0x1g", "- 5", "--5",
])
def test_integer_text_grammar_refuses(text: str) -> None:
    for parse in (lambda: parse_arg("u64", text), lambda: parse_type("u64").from_json(text)):
        with pytest.raises(ArgumentError, match=r"expected an integer \(u64\)"):
            parse()


def test_nan_and_infinity_are_bare_words_not_numbers() -> None:
    """Python's json reads NaN, Infinity and -Infinity as floats; JSON has no such
    values, so on the command line they are words like any other (docs/abi.md)."""
    nan = Abi((), version=2, types=(TypeDecl("enum", "Odd", variants=(("NaN", 0),
                                                                       ("Infinity", 1))),))
    for word in ("NaN", "Infinity", "-Infinity"):
        assert parse_arg("string?", word) == word
    assert parse_arg("Odd", "NaN", nan) == "NaN" and parse_arg("Odd?", "Infinity", nan) == \
        "Infinity"
    with pytest.raises(ArgumentError, match="expected an integer"):
        parse_arg("u64?", "NaN")
    with pytest.raises(ArgumentError, match="expected JSON"):
        parse_arg("u64[]", "[NaN]")


def test_json_numbers_are_the_integers_written_or_refused() -> None:
    """A JSON number with an exponent or fraction is the integer it denotes: `1e23` is
    10^23 on the command line, not the float 99999999999999991611392; a float from any
    other JSON reader is refused beyond 2^53, where it may not be what was written."""
    assert parse_arg("u256[]", "[1e23, 2.0]") == [10**23, 2]
    assert parse_arg("u64?", "9007199254740993.0") == 2**53 + 1
    assert parse_type("u64").from_json(2.0**53) == 2**53
    with pytest.raises(ArgumentError, match="beyond 2"):
        parse_type("u256").from_json(1e23)
    with pytest.raises(ArgumentError, match="expected an integer"):
        parse_arg("u64?", "1.5")


@pytest.mark.parametrize("ty, text, why", [
    ("u64", "9" * 5000, "5000 digits) fits no ABI integer"),  # int() refuses > 4,300 digits
    ("u64", "0x" + "f" * 5000, "5000 digits) fits no ABI integer"),
    ("u64[]", "[" + "9" * 5000 + "]", "has more than 100 digits"),
    ("u64?", "1e400", "has more than 100 digits"),
    ("u64[]", "[1e81]", "does not fit in u64"),
    ("u64[]", "[18446744073709551615.5]", "no ABI type takes a fraction"),
])
def test_numbers_beyond_any_abi_integer_are_one_line_errors(ty: str, text: str,
                                                             why: str) -> None:
    with pytest.raises(ArgumentError) as info:
        parse_arg(ty, text)
    assert why in info.value.message and "\n" not in info.value.message
    assert len(info.value.message) < 300
    assert parse_arg("u64", "0x" + "0" * 300 + "1") == 1  # leading zeros are no size
    with pytest.raises(ArgumentError, match="an integer of 16609 bits does not fit in u64"):
        parse_type("u64").encode(16 ** 4152)


def test_a_void_result_is_empty() -> None:
    fn = Function("g", (), None)
    assert decode_result(fn, b"") is None
    with pytest.raises(AbiError) as info:
        decode_result(fn, b"\x01\x02")
    assert info.value.reason == "ghost: call data too long"


def test_to_jsonable_and_format_fields() -> None:
    value = {"voter": bytes.fromhex(ADDR[2:]), "pairs": [{"a": 1, "b": True}], "t": (1, b"\x02")}
    assert to_jsonable(value) == {"voter": "0x" + ADDR[2:].lower(),
                                  "pairs": [{"a": 1, "b": True}], "t": [1, "0x02"]}
    assert to_jsonable(bytes.fromhex(ADDR[2:]), "address") == ADDR  # checksummed by type
    assert to_jsonable(("blue", None), "(Color,Pair?)", ABI) == ["blue", None]
    assert format_fields({"n": 1, "s": "x", "p": {"a": 1}, "l": [1, 2]}) == \
        "n=1 s='x' p={\"a\":1} l=[1,2]"
    assert format_fields({"yes": True, "no": False}) == "yes=true no=false"  # as typed


# ---- the ABI document ----------------------------------------------------------------------

def test_version_1_abis_are_read_and_written_unchanged() -> None:
    v1 = {"version": 1, "functions": [{"name": "get", "inputs": [], "output": "u64"}]}
    abi = Abi.from_json(v1)
    assert abi.version == 1 and abi.types == () and abi.to_json() == v1
    assert Abi.from_json({"functions": []}).version == 1


def test_version_2_document() -> None:
    doc = ABI.to_json()
    assert doc == {
        "version": 2,
        "functions": [{"name": "put", "inputs": [{"name": "p", "type": "Pair[]"},
                                                 {"name": "c", "type": "Color?"}],
                       "output": "(u8,string)", "can_fail": False}],
        "constructor": None, "events": [],
        "types": [{"kind": "struct", "name": "Pair", "fields": [{"name": "a", "type": "u64"},
                                                                {"name": "b", "type": "bool"}]},
                  {"kind": "enum", "name": "Color", "variants": [
                      {"name": "red", "value": 0}, {"name": "green", "value": 1},
                      {"name": "blue", "value": 7}]}],
        "errors": ["NotOwner"]}


def test_deploy_checks_read_version_2_and_check_its_types() -> None:
    from ghost_cli.exceptions import InvalidModuleError
    from ghost_cli.vm.deploy_checks import abi_from_metadata

    assert abi_from_metadata({"abi": ABI.to_json()}) == ABI
    marked = ABI.with_mutates({f.name: True for f in ABI.functions})
    assert abi_from_metadata({"abi": marked.to_json()}) == marked
    for bad, why in [
        ({"types": [{"kind": "struct", "name": "Pair", "fields": []}]}, "no fields"),
        ({"types": [{"kind": "set", "name": "Q"}]}, "unknown kind"),
        ({"types": [{"kind": "enum", "name": "u8", "variants": []}]},
         "name of a built-in ABI type"),
        ({"types": [{"kind": "enum", "name": "1x", "variants": []}]}, "no valid name"),
        ({"errors": ["bad name"]}, "error #0 has no valid name"),
        ({"errors": "NotOwner"}, "'errors' is not a list"),
        ({"functions": [{"name": "f", "inputs": [{"name": "x", "type": "Nope"}]}]},
         "unknown type 'Nope'"),
        ({"functions": [{"name": "f", "inputs": [], "mutates": "no"}]},
         "'mutates' is not a bool"),
    ]:
        with pytest.raises(InvalidModuleError) as info:
            abi_from_metadata({"abi": {**ABI.to_json(), **bad}})
        assert why in info.value.message


# ---- storage keys --------------------------------------------------------------------------

def test_storage_keys() -> None:
    assert sk.value_key("owner") == b"owner"
    assert sk.map_key("bal", "address", ADDR) == b"bal\x00" + bytes.fromhex(ADDR[2:])
    assert sk.map_key("votes", "Pair", {"a": 1, "b": True}, ABI) == \
        b"votes\x00" + bytes.fromhex("0100000000000000" "01")
    assert sk.map_key("names", "string", "é") == b"names\x00\x02\x00\x00\x00\xc3\xa9"
    assert sk.vec_len_key("log") == b"log\x00len"
    assert sk.vec_item_key("log", 2) == b"log\x01\x02\x00\x00\x00\x00\x00\x00\x00"
    for bad in ("", "a\x00b", b"a\x01"):
        with pytest.raises(ArgumentError, match="storage name"):
            sk.value_key(bad)


def test_abi_error_is_one_ghost_error() -> None:
    with pytest.raises(AbiError) as info:
        decode_exact("bool", b"\x02")
    err = info.value
    assert isinstance(err, GhostError) and err.code == "bad_arguments"
    assert err.to_json()["details"] == {"reason": "ghost: invalid bool"}
    assert encode_value("Color", "green", ABI) == b"\x01"


def test_typed_events_decode_topics_and_compound_data() -> None:
    from ghost_cli.abi import EventField, EventSpec, decode_event

    abi = Abi((), version=2, types=(PAIR, COLOR), events=(EventSpec("Moved", (
        EventField("who", "address", True), EventField("color", "Color", True),
        EventField("pairs", "Pair[]"), EventField("memo", "string?"))),))
    topics = [b"Moved".ljust(32, b"\0"), bytes.fromhex(ADDR[2:]).ljust(32, b"\0"),
              b"\x07".ljust(32, b"\0")]
    data = encode_value("Pair[]", [{"a": 3, "b": False}], abi) + encode_value("string?", "hé")
    assert decode_event(abi, "Moved", topics, data) == {
        "who": ADDR, "color": "blue", "pairs": [{"a": 3, "b": False}], "memo": "hé"}
    # bytes that do not fit: no fields, the raw event prints instead
    assert decode_event(abi, "Moved", topics, data + b"\x00") is None
    assert decode_event(abi, "Moved", topics[:2], data) is None
    bad_enum = topics[:2] + [b"\x03".ljust(32, b"\0")]
    assert decode_event(abi, "Moved", bad_enum, data) is None
