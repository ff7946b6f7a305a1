"""Names in generated bindings (docs/bindings.md): Python class names by the documented
CamelCase rule, two ABI names that would make one Python name refused at generation, and
Zig identifiers Zig reads specially (`_`, keywords) quoted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from ghost_cli.abi import Abi, encode_call, parse_type
from ghost_cli.bindings import python as gen_python
from ghost_cli.bindings import zig as gen_zig
from ghost_cli.exceptions import GhostError


def _abi(*, functions: Any = (), types: Any = (), events: Any = (),
         constructor: Any = None) -> dict[str, Any]:
    return {"version": 2, "functions": list(functions) or [
        {"name": "f", "inputs": [], "output": None, "can_fail": False}],
        "constructor": constructor, "events": list(events), "types": list(types),
        "errors": []}


def _struct(name: str, *fields: str) -> dict[str, Any]:
    return {"kind": "struct", "name": name,
            "fields": [{"name": f, "type": "u8"} for f in fields or ("a",)]}


def _fn(name: str, *inputs: str) -> dict[str, Any]:
    return {"name": name, "inputs": [{"name": i, "type": "u8"} for i in inputs],
            "output": None, "can_fail": False}


def _import(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, cls", [
    ("my_token", "MyToken"), ("myPair", "MyPair"), ("ERC20", "ERC20"), ("a__b_c", "ABC"),
    ("my-token", "MyToken"), ("2x", "C2x"), ("_private", "Private"),
])
def test_class_names_follow_the_documented_camel_case(name: str, cls: str) -> None:
    assert gen_python.class_name(name) == cls


def test_the_renaming_rules_make_distinct_classes(tmp_path: Path) -> None:
    """A struct named like an imported name gets `_`, an event class colliding with a
    struct's gets `_`, a contract class colliding with a type's gets `Contract`."""
    raw = _abi(types=[_struct("TransferEvent"), _struct("Any"), _struct("Token")],
               events=[{"name": "Transfer", "fields": [{"name": "n", "type": "u8"}]}],
               functions=[{"name": "f", "inputs": [{"name": "a", "type": "TransferEvent"},
                                                   {"name": "b", "type": "Any"},
                                                   {"name": "c", "type": "Token"}],
                           "output": None, "can_fail": False}])
    mod = _import(tmp_path, "renamed_client",
                  gen_python.generate("token", Abi.from_json(raw), raw))
    assert mod._CLASSES == {"TransferEvent": mod.TransferEvent, "Any": mod.Any_,
                            "Token": mod.Token}
    assert mod._EVENTS == {"Transfer": mod.TransferEvent_}
    assert mod.TokenContract.__name__ == "TokenContract"


COLLISIONS: list[tuple[str, dict[str, Any], str]] = [
    ("two structs", _abi(types=[_struct("my_pair"), _struct("myPair")]),
     "struct 'my_pair' and struct 'myPair' both become `MyPair`"),
    ("a struct and an enum", _abi(types=[_struct("a_b"), {
        "kind": "enum", "name": "AB", "variants": [{"name": "x", "value": 0}]}]),
     "struct 'a_b' and enum 'AB' both become `AB`"),
    ("a struct and an imported name", _abi(types=[_struct("Any"), _struct("Any_")]),
     "struct 'Any' and struct 'Any_' both become `Any_`"),
    ("two events", _abi(events=[{"name": "my_evt", "fields": [{"name": "n", "type": "u8"}]},
                                {"name": "MyEvt", "fields": [{"name": "n", "type": "u8"}]}]),
     "event 'my_evt' and event 'MyEvt' both become `MyEvtEvent`"),
    ("the contract and a type", _abi(types=[_struct("Token"), _struct("TokenContract")]),
     "struct 'TokenContract' and the contract 'token' both become `TokenContract`"),
    ("two methods", _abi(functions=[_fn("address"), _fn("address_")]),
     "function 'address' and function 'address_' both become `address_`"),
    ("two arguments", _abi(functions=[_fn("f", "self", "self_")]),
     "argument 'self' and argument 'self_' of 'f' both become `self_`"),
    ("two constructor arguments", _abi(constructor=_fn("init", "code", "code_")),
     "argument 'code' and argument 'code_' of the constructor both become `code_`"),
    ("two struct fields", _abi(types=[_struct("P", "from", "from_")]),
     "struct member 'from' and struct member 'from_' of 'P' both become `from_`"),
    ("two enum variants", _abi(types=[{"kind": "enum", "name": "K", "variants": [
        {"name": "match", "value": 0}, {"name": "match_", "value": 1}]}]),
     "enum member 'match' and enum member 'match_' of 'K' both become `match_`"),
    ("two event fields", _abi(events=[{"name": "E", "fields": [
        {"name": "class", "type": "u8"}, {"name": "class_", "type": "u8"}]}]),
     "field 'class' and field 'class_' of event 'E' both become `class_`"),
]


@pytest.mark.parametrize("raw, why", [(r, w) for _, r, w in COLLISIONS],
                         ids=[n for n, _, _ in COLLISIONS])
def test_a_python_name_collision_is_an_error_not_an_overwrite(raw, why) -> None:
    with pytest.raises(GhostError) as info:
        gen_python.generate("token", Abi.from_json(raw), raw)
    message = info.value.message
    assert message.startswith("cannot generate Python bindings for 'token': ")
    assert why in message and message.endswith("rename one of them in the contract")
    assert info.value.exit_code == 1 and "\n" not in message


UNDERSCORE = _abi(
    functions=[{"name": "_", "inputs": [{"name": "_", "type": "E"},
                                        {"name": "async", "type": "S"}],
                "output": "S", "can_fail": False}],
    types=[{"kind": "enum", "name": "E", "variants": [{"name": "_", "value": 0},
                                                     {"name": "await", "value": 3}]},
           {"kind": "struct", "name": "S", "fields": [{"name": "_", "type": "u8"},
                                                      {"name": "usingnamespace",
                                                       "type": "E"}]}])

ZIG_CHECK = r'''const std = @import("std");
const u = @import("u");

test "`_` and old keywords as names" {
    var buf: [16]u8 = undefined;
    const s = u.S{ .@"_" = 5, .@"usingnamespace" = .@"await" };
    const data = try u.@"_".encode(&buf, .{ .@"_" = .@"_", .@"async" = s });
    try std.testing.expectEqualSlices(u8, &.{ EXPECTED }, data);
    const back = try u.@"_".decodeArgs(std.testing.allocator, data);
    try std.testing.expectEqual(u.E.@"_", back.@"_");
    try std.testing.expectEqual(@as(u8, 5), back.@"async".@"_");
    try std.testing.expectError(error.InvalidEnumValue,
        u.@"_".decodeResult(std.testing.allocator, &.{ 5, 1 }));
}
'''


def test_zig_quotes_underscore_and_old_keywords(tmp_path: Path) -> None:
    """`_` unquoted is a discard, and in an enum the non-exhaustive marker: the module
    writes `@"_"` (and `@"async"`, ...), and it compiles and encodes as the codec does."""
    from ghost_cli.toolchain.zig import run_zig

    abi = Abi.from_json(UNDERSCORE)
    source = gen_zig.generate("u", abi, UNDERSCORE)
    assert 'pub const E = enum(u8) { @"_" = 0, @"await" = 3, };' in source
    assert 'pub const S = struct { @"_": u8, @"usingnamespace": E, };' in source
    assert 'pub const @"_" = struct {' in source
    expected = encode_call(abi.function("_"), ["_", {"_": 5, "usingnamespace": "await"}])
    (tmp_path / "u.zig").write_text(source)
    (tmp_path / "check.zig").write_text(
        ZIG_CHECK.replace("EXPECTED", ", ".join(str(b) for b in expected)))
    run = run_zig(["test", "--color", "off", "--dep", "u", "-Mroot=check.zig", "-Mu=u.zig"],
                  cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout


@pytest.mark.parametrize("raw, why", [
    (_abi(functions=[_fn("Color")], types=[{"kind": "enum", "name": "Color",
                                            "variants": [{"name": "a", "value": 0}]}]),
     "enum 'Color' and function 'Color' both become `Color`"),
    (_abi(functions=[_fn("encode"), _fn("encode_")]),
     "function 'encode' and function 'encode_' both become `encode_`"),
    (_abi(types=[_struct("Args")], functions=[_fn("Args_")]),
     "struct 'Args' and function 'Args_' both become `Args_`"),
], ids=["function and type", "two functions", "type and function after renaming"])
def test_a_zig_declaration_collision_is_an_error(raw, why) -> None:
    """Two declarations with one identifier would not compile: refused at generation."""
    with pytest.raises(GhostError) as info:
        gen_zig.generate("token", Abi.from_json(raw), raw)
    message = info.value.message
    assert message.startswith("cannot generate Zig bindings for 'token': ")
    assert why in message and message.endswith("rename one of them in the contract")
    assert info.value.exit_code == 1 and "\n" not in message


SLICE_CHECK = r'''const std = @import("std");
const u = @import("u");

test "functions named like the codec's helpers; a slice count checked by fewest bytes" {
    var buf: [16]u8 = undefined;
    const data = try u.fewest.encode(&buf, .{ .v = &.{.{ .a = 1, .b = true }} });
    try std.testing.expectEqualSlices(u8, &.{ 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, data);
    // count 2, one pair with a bad bool and nothing after: too short, before the bool
    try std.testing.expectError(error.CallDataTooShort, u.take.decodeResult(
        std.testing.allocator, &.{ 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 }));
    try std.testing.expectEqual(@as(u8, 7), try u.put.decodeResult(std.testing.allocator, &.{7}));
}
'''


def test_zig_slice_counts_and_helper_names(tmp_path: Path) -> None:
    """The module's codec helpers (`fewest`, `take`, `put`) do not clash with functions of
    those names, and a slice's count is refused when count x fewest bytes of one element
    exceeds the input (docs/abi.md, "Refusals"), as the SDK does."""
    from ghost_cli.toolchain.zig import run_zig

    pair = {"kind": "struct", "name": "Pair", "fields": [{"name": "a", "type": "u64"},
                                                         {"name": "b", "type": "bool"}]}
    raw = _abi(types=[pair], functions=[
        {"name": "fewest", "inputs": [{"name": "v", "type": "Pair[]"}], "output": None,
         "can_fail": False},
        {"name": "take", "inputs": [], "output": "Pair[]", "can_fail": False},
        {"name": "put", "inputs": [], "output": "u8", "can_fail": False}])
    (tmp_path / "u.zig").write_text(gen_zig.generate("u", Abi.from_json(raw), raw))
    (tmp_path / "check.zig").write_text(SLICE_CHECK)
    run = run_zig(["test", "--color", "off", "--dep", "u", "-Mroot=check.zig", "-Mu=u.zig"],
                  cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout


AWKWARD = _abi(
    functions=[{"name": "f", "inputs": [{"name": "__a", "type": "E"}, {"name": "v", "type": "S"}],
                "output": "S", "can_fail": False, "doc": 'Returns "ok"'}],
    constructor={"name": "init", "inputs": [{"name": "_deploy", "type": "u8"}],
                 "output": None, "can_fail": False},
    types=[{"kind": "enum", "name": "E", "variants": [
        {"name": n, "value": i} for i, n in enumerate(
            ["_sunder_", "mro", "__y", "__z__", "_missing_", "name", "value", "__"])]},
           {"kind": "struct", "name": "S", "fields": [{"name": "__x", "type": "u8"},
                                                      {"name": "__w__", "type": "E"}]}])


def test_names_python_treats_specially_in_a_class_are_renamed(tmp_path: Path) -> None:
    """Enum reserves `_x_` and `mro` and takes no member named `__x` or `__x__`, and a class
    body mangles `__x`: such names are renamed (`_sunder__`, `mro_`, `v__y`), so the module
    imports with every variant a member and every field round-trips under its ABI name. A
    one-line doc ending in a quote stays a docstring; `_deploy` is the module's helper."""
    import dataclasses
    import inspect

    from ghost_cli.bindings.runtime import from_wire, to_wire

    abi = Abi.from_json(AWKWARD)
    mod = _import(tmp_path, "awkward_client", gen_python.generate("awk", abi, AWKWARD))
    assert {m.name: m.value for m in mod.E} == {
        "_sunder__": "_sunder_", "mro_": "mro", "v__y": "__y", "v__z__": "__z__",
        "_missing__": "_missing_", "name": "name", "value": "value", "__": "__"}
    assert [f.name for f in dataclasses.fields(mod.S)] == ["v__x", "v__w__"]
    s = mod.S(v__x=5, v__w__=mod.E.v__y)
    assert to_wire(s) == {"__x": 5, "__w__": "__y"}
    ty = parse_type("S", abi)
    assert from_wire(ty, to_wire(s), mod._CLASSES) == s
    assert list(inspect.signature(mod.Awk.f).parameters)[:3] == ["self", "v__a", "v"]
    assert mod.Awk.f.__doc__ == 'Returns "ok"'
    assert list(inspect.signature(mod.Awk.deploy).parameters)[:2] == ["target", "_deploy_"]


@pytest.mark.parametrize("doc", ['Calls */ and """ and \'\'\' ünïcödé ✓ 𝕏 \\ end\\', '"""',
                                 '""""', 'say "hi"', 'two\n"""\nlines""'])
def test_a_doc_with_quotes_is_the_method_docstring_as_written(tmp_path: Path, doc: str) -> None:
    """A `///` comment holding three double quotes, quotes at its end or backslashes: the
    generated method's docstring is that doc, not one with the quotes turned to `'''`."""
    import inspect

    raw = _abi(functions=[{"name": "f", "inputs": [], "output": "u8", "can_fail": False,
                           "doc": doc}])
    mod = _import(tmp_path, "quotes_client", gen_python.generate("q", Abi.from_json(raw), raw))
    assert inspect.cleandoc(mod.Q.f.__doc__) == doc


def test_a_constructor_with_many_arguments_keeps_deploy_within_100_columns(
        tmp_path: Path) -> None:
    """`deploy` takes the constructor's arguments: when they make its signature or its call
    longer than 100 columns, it takes one parameter a line, as a long method does."""
    import inspect

    names = ["owner", "name", "symbol", "decimals", "supply", "cap", "fee", "treasury"]
    raw = _abi(constructor={"name": "init", "can_fail": False, "output": None,
                            "inputs": [{"name": n, "type": "u64"} for n in names]})
    source = gen_python.generate("token", Abi.from_json(raw), raw)
    assert max(len(line) for line in source.splitlines()) <= 100
    mod = _import(tmp_path, "many_client", source)
    assert list(inspect.signature(mod.Token.deploy).parameters) == [
        "target", *names, "code", "signer", "gas_limit"]
