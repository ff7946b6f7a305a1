import pytest

from ghost_cli.abi import (
    Abi,
    Function,
    Param,
    decode_result,
    decode_value,
    encode_call,
    encode_value,
    parse_address,
    parse_args,
)
from ghost_cli.exceptions import ArgumentError, NotFoundError

ADD = Function("add", (Param("n", "u64"),), "u64", can_fail=True)
MIXED = Function(
    "mixed",
    (Param("a", "i32"), Param("b", "bool"), Param("c", "bytes"), Param("d", "string"),
     Param("e", "address")),
    "string",
)


@pytest.mark.parametrize(("ty", "value", "raw"), [
    ("u8", 255, b"\xff"),
    ("u64", 1, b"\x01" + b"\x00" * 7),
    ("i32", -2, b"\xfe\xff\xff\xff"),
    ("u128", 2**100, (2**100).to_bytes(16, "little")),
    ("bool", True, b"\x01"),
    ("bytes", b"\xab", b"\x01\x00\x00\x00\xab"),
    ("string", "hé", b"\x03\x00\x00\x00h\xc3\xa9"),
    ("address", b"\x11" * 20, b"\x11" * 20),
])
def test_values_round_trip(ty, value, raw):
    assert encode_value(ty, value) == raw
    assert decode_value(ty, raw) == (value, len(raw))


def test_call_data_is_arguments_concatenated():
    data = encode_call(MIXED, [-1, False, b"\x01\x02", "x", b"\x22" * 20])
    assert data == (b"\xff" * 4 + b"\x00" + b"\x02\x00\x00\x00\x01\x02" + b"\x01\x00\x00\x00x"
                    + b"\x22" * 20)


@pytest.mark.parametrize(("args", "match"), [
    ([], "takes 1 argument"),
    ([1, 2], "takes 1 argument"),
    ([-1], "does not fit in u64"),
    ([2**64], "does not fit in u64"),
    (["1"], "expected an integer"),
    ([True], "expected an integer"),
])
def test_bad_arguments_are_refused_before_running(args, match):
    with pytest.raises(ArgumentError, match=match):
        encode_call(ADD, args)


def test_command_line_words_parse_by_abi_type():
    values = parse_args(MIXED, ["-0x10", "true", "0xbeef", "hello", "0x" + "ab" * 20])
    assert values == [-16, True, b"\xbe\xef", "hello", b"\xab" * 20]
    assert parse_args(ADD, ["1_000"]) == [1000]


@pytest.mark.parametrize(("words", "match"), [
    (["x"], "expected an integer"),
    (["1", "2"], "takes 1 argument"),
])
def test_bad_command_line_words(words, match):
    with pytest.raises(ArgumentError, match=match):
        parse_args(ADD, words)


def test_bad_address_and_bytes():
    with pytest.raises(ArgumentError, match="not an address"):
        parse_address("0x1234")
    with pytest.raises(ArgumentError, match="hex bytes"):
        parse_args(Function("f", (Param("b", "bytes"),), None), ["0xzz"])


def test_results_decode_and_reject_trailing_bytes():
    assert decode_result(ADD, (7).to_bytes(8, "little")) == 7
    assert decode_result(Function("f", (), None), b"") is None
    with pytest.raises(ArgumentError, match="trailing"):
        decode_result(ADD, b"\x00" * 9)
    with pytest.raises(ArgumentError, match="too short"):
        decode_result(ADD, b"\x00" * 3)


def test_abi_json_round_trip_and_lookup():
    abi = Abi((ADD, MIXED))
    assert Abi.from_json(abi.to_json()) == abi
    assert abi.function("add").signature == "add(u64)"
    with pytest.raises(NotFoundError, match="functions: add, mixed"):
        abi.function("nope")


# ---- events -------------------------------------------------------------------------------


def test_decode_event_reads_topics_and_data_by_the_abi():
    from ghost_cli.abi import Abi, decode_event, encode_value, format_address

    abi = Abi.from_json({"version": 1, "functions": [], "events": [
        {"name": "Moved", "fields": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "tag", "type": "string", "indexed": True},
            {"name": "ok", "type": "bool", "indexed": True},
            {"name": "amount", "type": "u64"}, {"name": "memo", "type": "bytes"}]},
        {"name": "Bare", "fields": []}]})
    who = bytes(range(1, 21))
    topics = (b"Moved".ljust(32, b"\0"), who.ljust(32, b"\0"), b"hi".ljust(32, b"\0"),
              b"\1".ljust(32, b"\0"))
    data = encode_value("u64", 5) + encode_value("bytes", b"\xff")
    assert decode_event(abi, "Moved", topics, data) == {
        "from": format_address(who), "tag": "hi", "ok": True, "amount": 5, "memo": "0xff"}
    # bytes that do not fit the declaration, undeclared fields or events: not decoded
    assert decode_event(abi, "Moved", topics, data + b"\0") is None
    assert decode_event(abi, "Moved", topics[:3], data) is None
    assert decode_event(abi, "Bare", topics[:1], b"") is None
    assert decode_event(abi, "Other", topics[:1], b"") is None
    assert decode_event(None, "Moved", topics, data) is None
    assert Abi.from_json(abi.to_json()) == abi
