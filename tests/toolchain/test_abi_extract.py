"""The ABI read from Zig source: types, aliases, error unions, docs, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghost_cli.abi import Function, Param
from ghost_cli.exceptions import CompileError, NotFoundError
from ghost_cli.toolchain.abi_extract import extract_abi, extract_abi_from_text

HEAD = 'const ghost = @import("ghost");\ncomptime { ghost.exportContract(@This()); }\n'


def fn(src: str) -> Function:
    (only,) = extract_abi_from_text(HEAD + src, "src/c.zig").functions
    return only


@pytest.mark.parametrize(
    "zig, abi",
    [
        *[(f"{s}{w}", f"{s}{w}") for s in "ui" for w in (8, 16, 32, 64, 128, 256)],
        ("bool", "bool"),
        ("[]const u8", "bytes"),
        ("[] const  u8", "bytes"),
        ("ghost.String", "string"),
        ("ghost.Address", "address"),
        ("[20]u8", "address"),
    ],
)
def test_type_mapping(zig: str, abi: str) -> None:
    f = fn(f"pub fn f(x: {zig}) {zig} {{ return x; }}\n")
    assert f.inputs == (Param("x", abi),)
    assert f.output == abi
    assert not f.can_fail


def test_void_error_unions_and_docs() -> None:
    abi = extract_abi_from_text(
        HEAD
        + """
const Err = error{Nope};
/// Does a thing.
///   Indented second line.
pub fn a() void {}
pub fn b() !void {}
/// Not a doc: a blank line follows.

pub fn c(n: u64) !u64 { return n; }
pub fn d() error{ A, B }!bool { return true; }
pub fn e() Err!ghost.String { return "x"; }
pub fn f() anyerror!u8 { return 1; }
""",
        "src/c.zig",
    )
    by = {f.name: f for f in abi.functions}
    assert [f.name for f in abi.functions] == ["a", "b", "c", "d", "e", "f"]
    assert (by["a"].output, by["a"].can_fail, by["a"].doc) == (
        None, False, "Does a thing.\n  Indented second line.")
    assert (by["b"].output, by["b"].can_fail) == (None, True)
    assert by["c"].doc == ""
    assert (by["c"].output, by["c"].can_fail) == ("u64", True)
    assert (by["d"].output, by["d"].can_fail) == ("bool", True)
    assert (by["e"].output, by["e"].can_fail) == ("string", True)
    assert (by["f"].output, by["f"].can_fail) == ("u8", True)


def test_only_top_level_pub_fns_and_tricky_text() -> None:
    abi = extract_abi_from_text(
        HEAD
        + r"""
const Inner = struct {
    pub fn hidden(x: f64) f64 { return x; }
};
fn private(x: f32) void { _ = x; }
// pub fn commented(x: u8) void {}
const s = "pub fn in_string(x: u8) void {";
const c = '{';
const m =
    \\pub fn in_multiline() void {
;
pub fn multi(
    to: ghost.Address, // the recipient {
    amount: u256,
) error{ Insufficient, Other }!void {
    const brace = "}}";
    _ = brace; _ = to; _ = amount;
}
pub fn last() u8 { return 1; }
""",
        "src/c.zig",
    )
    assert [f.name for f in abi.functions] == ["multi", "last"]
    assert abi.functions[0].inputs == (Param("to", "address"), Param("amount", "u256"))


def test_aliases_and_renamed_sdk_import() -> None:
    src = """const g = @import("ghost");
comptime { g.exportContract(@This()); }
const Addr = g.Address;
pub const Amount = u128;
const Text = g.String;
const Again = Amount;
pub fn f(a: Addr, b: Again, c: Text) Amount { _ = a; _ = c; return b; }
"""
    (f,) = extract_abi_from_text(src, "src/c.zig").functions
    assert [p.type for p in f.inputs] == ["address", "u128", "string"]
    assert f.output == "u128"


LISTED = 'const ghost = @import("ghost");\ncomptime { ghost.exportFunctions(@This(), .{"f"}); }\n'


@pytest.mark.parametrize(
    "src, line, expected",
    [
        ("pub fn f(x: f64) void {}\n", 3, "parameter 'x' has type 'f64', which is no ABI type"),
        ("\n\npub fn f(\n  a: u8,\n  b: usize,\n) void {}\n", 7, "type 'usize'"),
        ("pub fn f() f32 { return 1; }\n", 3, "its return type 'f32' is no ABI type"),
        ("pub fn f() !??u8 { return 1; }\n", 3, "return type '!??u8'"),
        ("pub fn f(x: u7) void {}\n", 3, "type 'u7'"),
        ("pub fn f(x: void) void {}\n", 3, "type 'void'"),
        ("pub fn f(x: anytype) void {}\n", 3, "type 'anytype'"),
        ("pub fn f(x: other.Address) void {}\n", 3, "type 'other.Address'"),
        ("pub fn f(x: *u64) void {}\n", 3, "type '*u64'"),
        ("pub fn f(x: []u8) void {}\n", 3, "type '[]u8'"),
        ("pub fn f(a: std.mem.Allocator) void {}\n", 3, "type 'std.mem.Allocator'"),
        ("pub fn f(comptime T: type) void {}\n", 3, "parameter 'T' is comptime"),
    ],
)
def test_a_pub_fn_of_other_types_is_a_helper_unless_listed(src: str, line: int,
                                                          expected: str) -> None:
    # exportContract: a helper, neither exported nor an error
    assert extract_abi_from_text(HEAD + src, "src/c.zig").functions == ()
    # exportFunctions naming it: an error at its file:line
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(LISTED + src, "src/c.zig")
    assert info.value.message.startswith(f"src/c.zig:{line}: exportFunctions lists 'f', but ")
    assert expected in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize("src, expected", [
    ("pub fn memory() void {}\n", "cannot be named 'memory'"),
    ("pub fn __start() void {}\n", "cannot be named '__start'"),
])
def test_reserved_names_are_refused(src: str, expected: str) -> None:
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(HEAD + src, "src/c.zig")
    assert info.value.message.startswith("src/c.zig:3: ") and expected in info.value.message


def test_unreadable_signatures_are_marked_for_the_compiler() -> None:
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(HEAD + "pub fn f(x: u8\n", "src/c.zig")
    assert info.value.details["reason"] == "unreadable"


def test_extract_from_file_names_it_relative_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "c.zig"
    path.write_text(LISTED + "pub fn f(x: f16) void {}\n")
    with pytest.raises(CompileError, match=r"^src/c.zig:3: exportFunctions lists 'f', but "
                                           r"parameter 'x' has type 'f16'"):
        extract_abi(path, tmp_path)
    with pytest.raises(CompileError, match="cannot read contract source"):
        extract_abi(tmp_path / "missing.zig", tmp_path)


def test_template_abis(built_counter, built_token) -> None:
    counter = built_counter.result.abi
    assert [f.signature for f in counter.functions] == ["increment()", "add(u64)", "get()"]
    assert counter.function("add").can_fail and counter.function("add").output == "u64"
    assert counter.function("increment").doc.startswith("Add one to the counter")
    token_abi = built_token.result.abi
    token = {f.name: f for f in token_abi.functions}
    # `init` is the constructor: recorded apart, with its parameter types, not callable.
    assert "init" not in token
    ctor = token_abi.constructor
    assert ctor.name == "init" and ctor.inputs == (Param("supply", "u64"),) and ctor.can_fail
    assert token_abi.to_json()["constructor"]["inputs"] == [{"name": "supply", "type": "u64"}]
    with pytest.raises(NotFoundError, match="constructor"):
        token_abi.function("init")
    assert token["transfer"].inputs == (Param("to", "address"), Param("amount", "u64"))
    assert token["transfer"].output is None and token["transfer"].can_fail
    assert token["balance_of"].output == "u64"
    assert token["name"].output == "string"
    assert token["owner"].output == "address"
    assert token["total_supply"].output == "u64"


# ---- events -------------------------------------------------------------------------------


def test_events_are_named_by_their_emit_calls_and_typed_by_event_doc_lines() -> None:
    from ghost_cli.abi import EventField, EventSpec

    abi = extract_abi_from_text(HEAD + '''
/// event Moved(from: ghost.Address indexed, amount: u64, memo: []const u8)
fn moved(from: ghost.Address, amount: u64) void {
    ghost.emit("Moved", &.{ghost.topic(from)}, &amount);
}
/// Does it. // ghost.emit("InAComment", ...) is not an event
/// event Noted(n: u32 indexed)
pub fn f() void {
    ghost.emit("Bare", &.{}, "");
    const s = "ghost.emit(\\"InAString\\"";
    _ = s;
    ghost.emit("Bare", &.{}, "");
}
''', "src/c.zig")
    assert abi.events == (
        EventSpec("Moved", (EventField("from", "address", True), EventField("amount", "u64"),
                            EventField("memo", "bytes"))),
        EventSpec("Bare"),
        EventSpec("Noted", (EventField("n", "u32", True),)),
    )
    assert abi.functions[0].doc == 'Does it. // ghost.emit("InAComment", ...) is not an event'
    assert "events" in abi.to_json()


def test_event_doc_lines_take_the_abi_spelling_of_types_too() -> None:
    """`address`, `string`, `bytes`, `Pair[]`, `(u8,string)?` as well as the Zig names;
    a tuple's commas do not split the fields."""
    from ghost_cli.abi import EventField

    line = ("/// event Named(who: address indexed, ps: Pair[], s: string?, raw: bytes, "
            "t: (u8, string)?, z: struct { u8, bool })")
    abi = extract_abi_from_text(HEAD + "pub const Pair = struct { a: u64, b: bool };\n" + line
                                + '''
pub fn f(w: ghost.Address) void {
    ghost.emit("Named", &.{ghost.topic(w)}, "");
}
''', "src/c.zig")
    (event,) = abi.events
    assert event.fields == (EventField("who", "address", True), EventField("ps", "Pair[]"),
                            EventField("s", "string?"), EventField("raw", "bytes"),
                            EventField("t", "(u8,string)?"), EventField("z", "(u8,bool)"))
    assert [t.name for t in abi.types] == ["Pair"]


def test_no_events_gives_an_empty_list_in_abi_json_version_2() -> None:
    abi = extract_abi_from_text(HEAD + "pub fn f() void {}\n", "src/c.zig")
    assert abi.events == () and abi.to_json() == {
        "version": 2, "functions": [{"name": "f", "inputs": [], "output": None,
                                     "can_fail": False}],
        "constructor": None, "events": [], "types": [], "errors": []}


@pytest.mark.parametrize("decl, why", [
    ("event E(x: f64)", "cannot read field 'x: f64'"),
    ("event E(x)", "cannot read field 'x'"),
    ("event E(x: Nope[])", "cannot read field 'x: Nope[]'"),
    ("event E(a: u8 indexed, b: u8 indexed, c: u8 indexed, d: u8 indexed)", "more than 3"),
])
def test_bad_event_declarations_name_the_line(decl: str, why: str) -> None:
    with pytest.raises(CompileError) as err:
        extract_abi_from_text(HEAD + f"/// {decl}\npub fn f() void {{}}\n", "src/c.zig")
    assert err.value.message.startswith("src/c.zig:3: ") and why in err.value.message


def test_init_is_the_constructor_and_returns_nothing() -> None:
    abi = extract_abi_from_text(
        'const ghost = @import("ghost");\n'
        "pub fn init(owner: ghost.Address, n: u32) !void {}\n"
        "pub fn get() u32 { return 1; }\n", "c.zig")
    assert [f.name for f in abi.functions] == ["get"]
    assert abi.constructor.signature == "init(address,u32)"
    assert abi.entry("init") is abi.constructor
    with pytest.raises(CompileError, match=r"c\.zig:1: the constructor 'init' returns 'u32'"):
        extract_abi_from_text("pub fn init() u32 { return 1; }\n", "c.zig")
