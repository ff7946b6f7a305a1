"""The JSON-RPC envelope and the error table, without a node."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghost_cli import exceptions
from ghost_cli.exceptions import GhostError, ParseError, RequestError
from ghost_cli.rpc import codec
from ghost_cli.rpc.errors import (
    ALL_ERRORS,
    APPLICATION_ERRORS,
    PROTOCOL_ERRORS,
    error_code_for,
    error_object,
    exception_from,
    malformed_error,
)


def _all_error_classes() -> list[type[GhostError]]:
    out, stack = [], [GhostError]
    while stack:
        cls = stack.pop()
        out.append(cls)
        stack.extend(cls.__subclasses__())
    return [c for c in out if c.__module__ == exceptions.__name__]


def test_numbers_and_codes_are_unique_and_in_their_ranges():
    numbers = [e.number for e in ALL_ERRORS]
    codes = [e.code for e in ALL_ERRORS]
    assert len(set(numbers)) == len(numbers) and len(set(codes)) == len(codes)
    assert {e.number for e in PROTOCOL_ERRORS} == {-32700, -32600, -32601, -32602, -32603}
    assert all(-32099 <= e.number <= -32000 for e in APPLICATION_ERRORS)


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__name__)
def test_every_ghost_error_has_a_number_and_round_trips(cls):
    exc = cls("reason") if cls is exceptions.RevertError else cls("boom")
    row = error_code_for(exc)
    assert row.number in {e.number for e in ALL_ERRORS}
    obj = json.loads(json.dumps(error_object(exc)))
    assert obj["data"]["code"] == exc.code and obj["code"] == row.number
    assert malformed_error(obj) is None  # what a client takes as well formed
    back = exception_from(obj)
    # A class that refines its parent without a code of its own (the client's "not sent"
    # and "answer lost" kinds of node_unavailable) travels as the class owning the code.
    owner = cls
    while owner is not exceptions.GhostError and owner.__base__.code == owner.code:
        owner = owner.__base__
    if owner is exceptions.NodeUnavailableError:  # a node reports it when nothing ran
        owner = exceptions.RequestNotSentError
    assert type(back) is owner and back.code == exc.code and back.message == exc.message


def test_protocol_errors_map_to_reserved_numbers():
    assert error_code_for(ParseError("x")).number == -32700
    assert error_code_for(RequestError("x")).number == -32600
    assert error_code_for(exceptions.MethodNotFoundError("x")).number == -32601
    assert error_code_for(exceptions.InvalidParamsError("x")).number == -32602


def test_execution_errors_carry_gas_and_details():
    obj = error_object(exceptions.RevertError("Overflow", gas_used=1234))
    assert obj == {"code": -32021, "message": "reverted: Overflow",
                   "data": {"code": "reverted", "reason": "Overflow", "gas_used": 1234}}
    back = exception_from(obj)
    assert isinstance(back, exceptions.RevertError) and back.reason == "Overflow"
    assert back.gas_used == 1234


def test_a_newer_nodes_unknown_code_is_kept():
    back = exception_from({"code": -32099, "message": "m", "data": {"code": "brand_new"}})
    assert type(back) is GhostError and back.code == "brand_new"


@pytest.mark.parametrize("obj", [
    {"code": -32013, "message": "x", "data": {"message": "m"}},  # a constructor's own name
    {"code": -32042, "message": "x", "data": {"code": "bad_arguments", "reason": 5,
                                              "detail": "d"}},
    {"code": [1]},  # unhashable
    {"code": -32021, "data": {"gas_used": "lots", "reason": ["x"]}},
    {"code": -32022, "data": {"gas_used": -5}},
    {"data": {"code": {"a": 1}}},
    {"code": True, "message": None},
    [], None, "error",
])
def test_any_error_object_a_peer_sends_becomes_a_ghost_error(obj):
    back = exception_from(obj)
    assert isinstance(back, GhostError) and isinstance(back.message, str)
    assert getattr(back, "gas_used", 0) >= 0 and isinstance(back.details, dict)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["code", "message", "data", "gas_used",
                                                       "reason", "detail", "tx_hash"]),
                                      inner, max_size=4),
                    max_leaves=12))
@settings(max_examples=300, deadline=None)
def test_exception_from_is_total(obj):
    assert isinstance(exception_from(obj), GhostError)


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[1,", b'{"a": NaN}', b"[" * 100_000])
def test_not_json_is_a_parse_error(body):
    with pytest.raises(ParseError):
        codec.decode(body)


@pytest.mark.parametrize("body, said", [
    (b'{"jsonrpc":"2.0","id":' + b"9" * 5000 + b',"method":"m"}',
     "a number of more than 4300 digits"),
    (b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"h":-' + b"9" * 4301 + b"}}",
     "a number of more than 4300 digits"),
    (b"[" * 100_000 + b"]" * 100_000, "nest too deeply"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nest too deeply"),
])
def test_what_the_parser_will_not_read_is_said_in_the_nodes_words(body, said):
    """Valid JSON the node still refuses (an integer past the interpreter's digit limit,
    nesting past its recursion limit) is a parse error saying which, with no advice about
    the interpreter's settings meant for the operator."""
    with pytest.raises(ParseError) as info:
        codec.decode(body)
    assert said in info.value.message and "sys." not in info.value.message
    assert "recursion" not in info.value.message


def test_an_integer_at_the_digit_limit_still_parses():
    doc = codec.parse_json(b'{"a":[-' + b"9" * 4300 + b",1.5]}")  # a float: the 2nd parse
    assert doc["a"][0] == -int("9" * 4300)


@pytest.mark.parametrize("body", [
    b'{"jsonrpc":"2.0","id":1,"method":"ghost_health","method":"ghost_sendTransaction"}',
    b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ghost_health"}',
    b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"tx":{"tx":"00","tx":"01"}}}',
    b'[{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","id":2,"method":"m","id":3}]',
    b'{"jsonrpc":"2.0","id":1.5,"method":"m","params":{"a":1,"a":1}}',  # floats: 2nd parse
])
def test_a_member_named_twice_is_a_parse_error(body):
    """orjson and the standard library keep the last of a repeated name, other parsers the
    first: a proxy could read one method or transaction and the node run the other."""
    with pytest.raises(ParseError, match=r"names member '(method|id|tx|a)' twice"):
        codec.decode(body)


def test_names_that_repeat_only_in_other_objects_or_inside_strings_are_fine():
    body = b'[{"jsonrpc":"2.0","id":1,"method":"m:n","params":{"m":{"m":":"}}},' \
           b'{"jsonrpc":"2.0","id":2,"method":"m"}]'
    first, second = codec.decode(body).entries
    assert first == codec.Request("m:n", {"m": {"m": ":"}}, 1)
    assert second == codec.Request("m", {}, 2)


def test_empty_batch_is_an_invalid_request():
    with pytest.raises(RequestError) as info:
        codec.decode(b"[]")
    assert type(info.value) is RequestError


@pytest.mark.parametrize("doc, problem", [
    (1, "JSON object"),
    ({"jsonrpc": "1.0", "method": "m", "id": 1}, '"jsonrpc"'),
    ({"jsonrpc": "2.0", "id": 1}, '"method"'),
    ({"jsonrpc": "2.0", "method": 5, "id": 1}, '"method"'),
    ({"jsonrpc": "2.0", "method": "m", "id": {}}, "id must"),
    ({"jsonrpc": "2.0", "method": "m", "id": True}, "id must"),
    ({"jsonrpc": "2.0", "method": "m", "params": "x", "id": 1}, '"params"'),
])
def test_invalid_entries(doc, problem):
    [entry] = codec.decode(json.dumps(doc).encode()).entries
    assert isinstance(entry, codec.BadEntry) and problem in entry.error.message


def test_positional_params_are_refused_but_an_empty_array_is_no_params():
    [bad] = codec.decode(b'{"jsonrpc":"2.0","method":"m","params":[1],"id":1}').entries
    # a request of a known method (metrics and logs name it) that answers the error unrun
    assert bad.method == "m" and bad.id == 1 and bad.error.code == "invalid_params"
    [ok] = codec.decode(b'{"jsonrpc":"2.0","method":"m","params":[],"id":1}').entries
    assert ok == codec.Request("m", {}, 1)


def test_notifications_have_no_id_and_get_no_response():
    [n] = codec.decode(b'{"jsonrpc":"2.0","method":"m"}').entries
    assert n.is_notification
    assert codec.encode([], is_batch=True) == b""


def test_docs_list_every_error_code():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rpc.md").read_text()
    for e in ALL_ERRORS:
        assert f"| {e.number} | `{e.code}` | {e.meaning} |" in doc, e.code


def test_a_node_that_says_it_is_unavailable_ran_nothing():
    """-32053 (the node is stopping; nothing ran): for a client, a request not sent."""
    from ghost_cli.exceptions import RequestNotSentError

    exc = exception_from({"code": -32053, "message": "the node is stopping",
                          "data": {"code": "node_unavailable"}})
    assert isinstance(exc, RequestNotSentError) and exc.code == "node_unavailable"
