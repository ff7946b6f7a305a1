"""The ABI a deploy records (vm/deploy_checks.py, docs/abi.md "ABI JSON"): every name
follows the name rule and is unique in its scope, no struct or enum takes a built-in
type's name, type strings are canonical, enum values are JSON integers."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from ghost_cli.exceptions import InvalidModuleError
from ghost_cli.vm.deploy_checks import abi_from_metadata

BASE: dict[str, Any] = {
    "version": 2,
    "functions": [{"name": "get", "inputs": [{"name": "id", "type": "u64"}], "output": "Pair",
                   "can_fail": False}],
    "constructor": {"name": "init", "inputs": [{"name": "owner", "type": "address"}],
                    "output": None, "can_fail": False},
    "events": [{"name": "Moved", "fields": [{"name": "who", "type": "address", "indexed": True},
                                            {"name": "to", "type": "Color"}]}],
    "types": [{"kind": "struct", "name": "Pair", "fields": [{"name": "a", "type": "u64[4]"},
                                                            {"name": "b", "type": "bool"}]},
              {"kind": "enum", "name": "Color", "variants": [{"name": "red", "value": 0},
                                                             {"name": "blue", "value": 7}]}],
    "errors": ["NotOwner"],
}
Edit = Callable[[dict[str, Any]], object]


def _refusal(edit: Edit) -> str:
    abi = copy.deepcopy(BASE)
    edit(abi)
    with pytest.raises(InvalidModuleError) as info:
        abi_from_metadata({"abi": abi})
    assert "\n" not in info.value.message and info.value.exit_code == 5
    return info.value.message


def _fn(abi: dict[str, Any]) -> dict[str, Any]:
    return abi["functions"][0]


def _pair(abi: dict[str, Any]) -> dict[str, Any]:
    return abi["types"][0]


def _color(abi: dict[str, Any]) -> dict[str, Any]:
    return abi["types"][1]


def test_the_base_abi_deploys_and_128_characters_is_the_longest_name() -> None:
    assert abi_from_metadata({"abi": BASE}).function("get").output == "Pair"
    abi = copy.deepcopy(BASE)
    _fn(abi)["name"] = "f" * 128
    _fn(abi)["inputs"][0]["name"] = "i" * 128
    abi_from_metadata({"abi": abi})


BAD_NAMES: list[tuple[str, Edit, str]] = [
    ("function", lambda a: _fn(a).update(name="f" * 129), "function #0 has no valid name"),
    ("function ending in a newline", lambda a: _fn(a).update(name="get\n"),
     "function #0 has no valid name"),
    ("constructor", lambda a: a["constructor"].update(name="in it"),
     "the constructor has no valid name"),
    ("input", lambda a: _fn(a)["inputs"][0].update(name="1 bad-name"),
     "function 'get': input #0 has no valid name"),
    ("empty input", lambda a: _fn(a)["inputs"][0].update(name=""), "input #0 has no valid"),
    ("constructor input", lambda a: a["constructor"]["inputs"][0].update(name="ö"),
     "function 'init': input #0 has no valid name"),
    ("struct field", lambda a: _pair(a)["fields"][0].update(name="a-b"),
     "type 'Pair': field #0 has no valid name"),
    ("long struct field", lambda a: _pair(a)["fields"][0].update(name="a" * 129),
     "type 'Pair': field #0 has no valid name"),
    ("enum variant", lambda a: _color(a)["variants"][0].update(name=""),
     "type 'Color': variant #0 has no valid name"),
    ("enum variant not a string", lambda a: _color(a)["variants"][0].update(name=3),
     "type 'Color': variant #0 has no valid name"),
    ("event", lambda a: a["events"][0].update(name="Mo ved"), "event #0 has no valid name"),
    ("event field", lambda a: a["events"][0]["fields"][0].update(name="!!"),
     "event 'Moved': field #0 has no valid name"),
    ("error", lambda a: a["errors"].append("E" * 129), "error #1 has no valid name"),
    ("type", lambda a: _pair(a).update(name="Pa-ir"), "type #0 has no valid name"),
]


@pytest.mark.parametrize("edit, why", [(e, w) for _, e, w in BAD_NAMES],
                         ids=[n for n, _, _ in BAD_NAMES])
def test_every_name_follows_the_name_rule(edit: Edit, why: str) -> None:
    message = _refusal(edit)
    assert why in message and "[A-Za-z_][A-Za-z0-9_]*, at most 128 characters" in message


TWICE: list[tuple[str, Edit, str]] = [
    ("inputs", lambda a: _fn(a)["inputs"].append({"name": "id", "type": "u8"}),
     "function 'get': two inputs are named 'id'"),
    ("struct fields", lambda a: _pair(a)["fields"][1].update(name="a"),
     "type 'Pair': two fields are named 'a'"),
    ("enum variants", lambda a: _color(a)["variants"].append({"name": "red", "value": 1}),
     "type 'Color': two variants are named 'red'"),
    ("events", lambda a: a["events"].append({"name": "Moved", "fields": []}),
     "the ABI: two events are named 'Moved'"),
    ("event fields", lambda a: a["events"][0]["fields"].append({"name": "to", "type": "u8"}),
     "event 'Moved': two fields are named 'to'"),
    ("errors", lambda a: a["errors"].append("NotOwner"), "error 'NotOwner' is listed twice"),
    ("functions", lambda a: a["functions"].append(_fn(a)), "function 'get' appears twice"),
    ("types", lambda a: a["types"].append(_pair(a)), "type 'Pair' is declared twice"),
]


@pytest.mark.parametrize("edit, why", [(e, w) for _, e, w in TWICE],
                         ids=[n for n, _, _ in TWICE])
def test_names_are_unique_in_their_scope(edit: Edit, why: str) -> None:
    assert why in _refusal(edit)


@pytest.mark.parametrize("name", ["bytes4", "address", "string", "bytes", "bool", "u64",
                                  "i256", "bytes32", "bytes20"])
def test_no_type_takes_a_built_in_type_name(name: str) -> None:
    """`bytes4` in a type string is the built-in: a struct so named could never be used,
    and the codec would read its values as the scalar."""
    def edit(a: dict[str, Any]) -> None:
        a["types"].append({"kind": "struct", "name": name, "fields": [{"name": "x",
                                                                      "type": "u64"}]})
    assert f"type '{name}' has the name of a built-in ABI type" in _refusal(edit)


@pytest.mark.parametrize("text, canonical", [
    ("u64 [ 4 ]", "u64[4]"), ("( u8 , bool )", "(u8,bool)"), ("Color ?", "Color?"),
    (" u64", "u64"), ("u64\t[]", "u64[]"),
])
def test_type_strings_are_canonical(text: str, canonical: str) -> None:
    """What the node records is what every reader parses: one spelling per type."""
    for edit, where in [
        (lambda a: _fn(a)["inputs"][0].update(type=text), "function 'get'"),
        (lambda a: _fn(a).update(output=text), "function 'get'"),
        (lambda a: _pair(a)["fields"][0].update(type=text), "type 'Pair': field 'a'"),
        (lambda a: a["events"][0]["fields"][1].update(type=text), "event 'Moved'"),
    ]:
        message = _refusal(edit)
        assert f"{where} spells a type {text!r}, not canonically" in message
        assert repr(canonical) in message


@pytest.mark.parametrize("text, why", [
    ("u64[04]", "leading zero"), ("u64[\u0664]", "unexpected"), ("u64\u00a0[4]", "unexpected"),
    ("(u8,\u2003bool)", "expected a type"),
])
def test_type_strings_are_ascii_without_leading_zeros(text: str, why: str) -> None:
    message = _refusal(lambda a: _fn(a)["inputs"][0].update(type=text))
    assert "function 'get' uses unknown type" in message and why in message


@pytest.mark.parametrize("value", [1.5, True, False, "1", 1.0, None, [1]])
def test_enum_values_are_json_integers(value: object) -> None:
    message = _refusal(lambda a: _color(a)["variants"][1].update(value=value))
    assert "type 'Color'" in message and "each a JSON integer" in message


@pytest.mark.parametrize("version", [2.0, True, "2"])
def test_the_version_is_a_json_integer(version: object) -> None:
    assert "is not supported" in _refusal(lambda a: a.update(version=version))


def test_version_1_names_follow_the_rule_too() -> None:
    v1 = {"functions": [{"name": "get", "inputs": [{"name": "a b", "type": "u64"}],
                         "output": "u64"}]}
    with pytest.raises(InvalidModuleError, match="input #0 has no valid name"):
        abi_from_metadata({"abi": v1})


def test_many_types_using_each_other_are_checked_quickly() -> None:
    """One parse cache serves the whole check: 256 types of 32 fields, each field a type
    declared before it, with 256 functions of 32 inputs using the last."""
    import time

    types = [{"kind": "enum", "name": "T0", "variants": [{"name": "a", "value": 0}]}]
    for i in range(1, 256):
        types.append({"kind": "struct", "name": f"T{i}", "fields": [
            {"name": f"f{k}", "type": f"T{max(i - 1 - k, 0)}[]"} for k in range(32)]})
    inputs = [{"name": f"x{k}", "type": f"(T255,T{254 - k})?"} for k in range(32)]
    abi = {"version": 2, "functions": [{"name": f"f{i}", "inputs": inputs, "output": "T255"}
                                       for i in range(256)], "types": types}
    started = time.perf_counter()
    abi_from_metadata({"abi": abi})
    assert time.perf_counter() - started < 5
