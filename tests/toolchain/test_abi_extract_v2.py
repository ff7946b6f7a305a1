"""ABI v2 read from Zig source: compound types, declared structs and enums, imports, the
export rule, typed events and error names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghost_cli.abi import EventField, EventSpec, Param, TypeDecl, parse_type
from ghost_cli.exceptions import CompileError
from ghost_cli.toolchain.abi_extract import extract_abi, extract_abi_from_text

HEAD = 'const ghost = @import("ghost");\ncomptime { ghost.exportContract(@This()); }\n'

DECLS = """
pub const Pair = struct { a: u64, b: bool };
const Color = enum(u8) { red, green = 5, blue };
const Plain = enum { x, y };
const Wide = enum(u16) { x };
const Open = enum(u8) { x, _ };
const Small = enum(u4) { a, b };
const Bits = packed struct { a: u8, b: u8 };
const Holder = extern struct {
    pair: Pair,
    colors: []const Color,
    memo: ?ghost.String = null,
    pub const zero: u8 = 0;
    pub fn total(self: Holder) u64 { return self.pair.a; }
    const Inner = struct { n: u8 };
};
const Ptr = struct { p: *u8 };
const Empty = struct {};
const Id = [32]u8;
pub const Point = struct { i32, i32 };
const Labelled = struct { u8, [:0]const u8, };
const Shape = struct { corner: Point, label: struct { u8, [:0]const u8 }, more: ?[2]Point };
"""


@pytest.mark.parametrize("zig, abi", [
    ("?u64", "u64?"),
    ("[]const u64", "u64[]"),
    ("[4]u64", "u64[4]"),
    ("[4][]const u64", "u64[][4]"),
    ("[]const ?u8", "u8?[]"),
    ("?[]const u8", "bytes?"),
    ("[1]u8", "bytes1"),
    ("[32]u8", "bytes32"),
    ("Id", "bytes32"),
    ("[20]u8", "address"),
    ("[33]u8", "u8[33]"),
    ("[:0]const u8", "string"),
    ("ghost.String", "string"),
    ("[]const ghost.String", "string[]"),
    ("struct { u64, bool }", "(u64,bool)"),
    ("struct { u8, struct { i8, ghost.Address } }", "(u8,(i8,address))"),
    # tuples by name, with a sentinel string, and inside slices, optionals and arrays
    ("Point", "(i32,i32)"),
    ("Labelled", "(u8,string)"),
    ("struct { u8, [:0]const u8 }", "(u8,string)"),
    ("struct { u16 }", "(u16)"),
    ("[]const struct { u16, ?Point }", "(u16,(i32,i32)?)[]"),
    ("?[3]Point", "(i32,i32)[3]?"),
    ("Shape", "Shape"),
    ("Pair", "Pair"),
    ("[]const Pair", "Pair[]"),
    ("?Pair", "Pair?"),
    ("Color", "Color"),
    ("Plain", "Plain"),
    ("Small", "Small"),
    ("Holder", "Holder"),
])
def test_compound_type_forms(zig: str, abi: str) -> None:
    (f,) = extract_abi_from_text(HEAD + DECLS + f"pub fn f(x: {zig}) {zig} {{ return x; }}\n",
                                 "src/c.zig").functions
    assert f.inputs == (Param("x", abi),) and f.output == abi


@pytest.mark.parametrize("zig", ["Wide", "Open", "Bits", "Ptr", "Empty", "??u8", "[]u64",
                                 "*const Pair",
                                 "[*]u8", "struct { a: u8 }", "[0]u64",
                                 "struct { u8, struct { a: u8 } }", "struct {}", "Holder.Inner",
                                 "[]const u8 align(1)", "f32"])
def test_non_abi_forms_make_a_helper(zig: str) -> None:
    abi = extract_abi_from_text(HEAD + DECLS + f"pub fn h(x: {zig}) void {{ _ = x; }}\n"
                                "pub fn g() u8 { return 1; }\n", "src/c.zig")
    assert [f.name for f in abi.functions] == ["g"]


def test_declared_types_are_recorded_once_in_order_of_use() -> None:
    abi = extract_abi_from_text(HEAD + DECLS + """
pub fn get(h: Holder) Pair { return h.pair; }
pub fn paint(c: Color, p: Plain) void { _ = c; _ = p; }
pub fn again(h: []const Holder) u8 { _ = h; return 0; }
""", "src/c.zig")
    # a type comes after the types it uses
    assert abi.types == (
        TypeDecl("struct", "Pair", fields=(Param("a", "u64"), Param("b", "bool"))),
        TypeDecl("enum", "Color", variants=(("red", 0), ("green", 5), ("blue", 6))),
        TypeDecl("struct", "Holder", fields=(Param("pair", "Pair"), Param("colors", "Color[]"),
                                             Param("memo", "string?"))),
        TypeDecl("enum", "Plain", variants=(("x", 0), ("y", 1))),
    )
    # the types are enough to encode: the Abi resolves its own names
    holder = parse_type("Holder", abi)
    value = {"pair": {"a": 1, "b": True}, "colors": ["blue"], "memo": None}
    assert holder.decode(holder.encode(value)) == (value, 9 + 4 + 1 + 1)


def test_imported_file_types(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "types.zig").write_text(
        'const ghost = @import("ghost");\n'
        "pub const Vote = struct { who: ghost.Address, yes: bool, kind: Kind };\n"
        "pub const Kind = enum(u8) { a = 1, b };\n")
    (tmp_path / "src" / "c.zig").write_text(
        HEAD + 'const t = @import("types.zig");\n'
        "pub fn vote(v: t.Vote) t.Kind { return v.kind; }\n")
    abi = extract_abi(tmp_path / "src" / "c.zig", tmp_path)
    (f,) = abi.functions
    assert f.inputs == (Param("v", "Vote"),) and f.output == "Kind"
    assert [t.name for t in abi.types] == ["Kind", "Vote"]
    assert abi.type_decl("Kind").variants == (("a", 1), ("b", 2))


def test_export_functions_lists_exactly() -> None:
    src = """const ghost = @import("ghost");
comptime { ghost.exportFunctions(@This(), .{ "get", "put" }); }
pub fn get() u64 { return 1; }
pub fn put(v: u64) void { _ = v; }
pub fn other() u8 { return 2; }
pub fn helper(p: *u64) void { _ = p; }
"""
    abi = extract_abi_from_text(src, "src/c.zig")
    assert [f.name for f in abi.functions] == ["get", "put"]
    with pytest.raises(CompileError, match=r"^src/c.zig:2: exportFunctions lists 'gone', but "
                                           r"the file has no top-level `pub fn gone`"):
        extract_abi_from_text(src.replace('"put"', '"put", "gone"'), "src/c.zig")
    with pytest.raises(CompileError, match=r"^src/c.zig:6: exportFunctions lists 'helper'"):
        extract_abi_from_text(src.replace('"put"', '"helper"'), "src/c.zig")


def test_helpers_with_pointers_allocators_and_anytype_are_not_exported() -> None:
    abi = extract_abi_from_text(HEAD + """
const std = @import("std");
pub fn add(a: u64, b: u64) u64 { return sum(&.{ a, b }); }
pub fn sum(xs: []const u64) u64 { var t: u64 = 0; for (xs) |x| t += x; return t; }
pub fn bump(p: *u64) void { p.* += 1; }
pub fn alloc(a: std.mem.Allocator, n: usize) ![]u8 { return a.alloc(u8, n); }
pub fn show(v: anytype) void { _ = v; }
pub fn kind(comptime T: type) u8 { _ = T; return 0; }
pub fn ptr() *u64 { return undefined; }
""", "src/c.zig")
    assert [f.name for f in abi.functions] == ["add", "sum"]


def test_typed_events_from_emit_event() -> None:
    abi = extract_abi_from_text(HEAD + """
pub const Transfer = struct {
    from: ghost.Address,
    to: ghost.Address,
    amount: u64,
    pub const indexed = .{ "from", "to" };
};
const Note = struct { text: ghost.String, tags: []const u32, pair: struct { u8, bool } };
const Kind = enum(u8) { a, b };
const Marked = struct { kind: Kind, n: u8, pub const indexed = .{"kind"}; };
pub fn send(to: ghost.Address) void {
    ghost.emitEvent(Transfer{ .from = ghost.caller(), .to = to, .amount = 5 });
    ghost.emitEvent(Note{ .text = "hi", .tags = &.{}, .pair = .{ 1, true } });
    ghost.emitEvent(Transfer{ .from = to, .to = to, .amount = 6 });
    ghost.emitEvent(Marked{ .kind = .a, .n = 1 });
    // ghost.emitEvent(Ghost{ }) in a comment is no event
}
""", "src/c.zig")
    assert abi.events == (
        EventSpec("Transfer", (EventField("from", "address", True),
                               EventField("to", "address", True),
                               EventField("amount", "u64"))),
        EventSpec("Note", (EventField("text", "string"), EventField("tags", "u32[]"),
                           EventField("pair", "(u8,bool)"))),
        EventSpec("Marked", (EventField("kind", "Kind", True), EventField("n", "u8"))),
    )
    # the field types are declared; the events' own structs are not types of the ABI
    assert [t.name for t in abi.types] == ["Kind"]


def test_typed_events_emitted_from_a_variable() -> None:
    abi = extract_abi_from_text(HEAD + """
const Moved = struct { by: ghost.Address, n: u64, pub const indexed = .{"by"}; };
const Kept = struct { n: u8 };
const Other = struct { n: u16 };
pub fn relay(e: Moved) void {
    ghost.emitEvent(e);
}
pub fn keep(n: u8) void {
    const e = Kept{ .n = n };
    ghost.emitEvent(e);
    const o: Other = .{ .n = 1 };
    ghost.emitEvent(o);
    ghost.emitEvent(make());
    ghost.emitEvent(unknown);
}
fn make() Other { return .{ .n = 2 }; }
const Unsent = struct { n: u32 };
pub fn take(e: Unsent) void { _ = e; }
pub fn each(xs: []const u8) void {
    for (xs) |e| ghost.emitEvent(e);  // a capture: not `take`'s parameter
}
""", "src/c.zig")
    assert abi.events == (
        EventSpec("Moved", (EventField("by", "address", True), EventField("n", "u64"))),
        EventSpec("Kept", (EventField("n", "u8"),)),
        EventSpec("Other", (EventField("n", "u16"),)),
    )


@pytest.mark.parametrize("decl, line, why", [
    ('const E = struct { a: u8, pub const indexed = .{ "b" }; };', 3,
     "names 'b', which is no field"),
    ('const E = struct { a: u8, b: u8, c: u8, d: u8, '
     'pub const indexed = .{ "a", "b", "c", "d" }; };', 3, "more than 3 indexed"),
    ('const E = struct { a: []const u64, pub const indexed = .{ "a" }; };', 3,
     "indexed field 'a' is a u64[]"),
    ("const E = struct { p: *u8 };", 4, "an event is a struct declared in this file"),
])
def test_bad_typed_events_name_the_line(decl: str, line: int, why: str) -> None:
    with pytest.raises(CompileError) as err:
        extract_abi_from_text(HEAD + decl + "\npub fn f() void { ghost.emitEvent(E{}); }\n",
                              "src/c.zig")
    assert err.value.message.startswith(f"src/c.zig:{line}: ") and why in err.value.message


def test_error_names_are_recorded() -> None:
    abi = extract_abi_from_text(HEAD + """
const Err = error{ NotOwner, Overflow };
pub fn f(x: u64) Err!u64 { if (x == 0) return error.NotOwner; return x; }
pub fn g() error{Empty}!void { return error.Empty; }
pub fn h() !void { return error.Late; }
""", "src/c.zig")
    assert abi.errors == ("NotOwner", "Overflow", "Empty", "Late")
    assert abi.to_json()["errors"] == ["NotOwner", "Overflow", "Empty", "Late"]


def test_a_tuple_in_a_struct_field_is_the_tuple_type() -> None:
    abi = extract_abi_from_text(HEAD + DECLS + "pub fn f(s: Shape) void { _ = s; }\n",
                                "src/c.zig")
    assert abi.types == (TypeDecl("struct", "Shape", fields=(
        Param("corner", "(i32,i32)"), Param("label", "(u8,string)"),
        Param("more", "(i32,i32)[2]?"))),)
    assert parse_type("Shape", abi).encode(
        {"corner": (1, -1), "label": (2, "é"), "more": None}) == (
        (1).to_bytes(4, "little") + (2**32 - 1).to_bytes(4, "little") + b"\x02"
        + (2).to_bytes(4, "little") + "é".encode() + b"\x00")


@pytest.mark.parametrize("name", ["bytes4", "address", "string", "bytes"])
def test_a_type_named_like_a_built_in_is_refused_at_its_declaration(name: str) -> None:
    """The ABI writes types by name and `bytes4` is the built-in: a struct so named would
    be encoded as the scalar (docs/abi.md, "ABI JSON")."""
    src = HEAD + f"pub const {name} = struct {{ x: u64 }};\n" \
        f"pub fn f(v: {name}) u8 {{ _ = v; return 1; }}\n"
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(src, "c.zig")
    assert info.value.message.startswith(f"c.zig:3: the struct '{name}' has the name of a "
                                         "built-in ABI type")
    assert "\n" not in info.value.message


def test_a_built_in_name_the_abi_does_not_use_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "t.zig").write_text("pub const string = enum(u8) { a };\n"
                                    "pub const Vote = struct { who: string };\n")
    src = HEAD + 'const t = @import("t.zig");\npub const address = struct { x: u8 };\n' \
        "pub fn helper(a: *address) void { _ = a; }\npub fn get() u8 { return 1; }\n"
    assert [f.name for f in extract_abi_from_text(src, "c.zig", tmp_path).functions] == ["get"]
    # reached through an imported file: the error names that file's line
    with pytest.raises(CompileError, match=r"t\.zig:1: the enum 'string' has the name"):
        extract_abi_from_text(src + "pub fn vote(v: t.Vote) void { _ = v; }\n", "c.zig",
                              tmp_path)


def test_quoted_enum_variants_are_recorded_by_their_names() -> None:
    """`@"red"` is the identifier `red`, and `@"_"` a variant named `_` (unquoted, `_`
    marks a non-exhaustive enum)."""
    src = HEAD + 'const K = enum(u8) { @"red", @"_", @"type" = 7 };\n' \
        "pub fn f(k: K) K { return k; }\n"
    (decl,) = extract_abi_from_text(src, "c.zig").types
    assert decl.variants == (("red", 0), ("_", 1), ("type", 7))


@pytest.mark.parametrize("body, why", [
    ("pub fn f(a: u8, a: u8) void {}", "function 'f': two inputs are named 'a'"),
    ('pub fn f() void { ghost.emit("not a name", &.{}, ""); }',
     "event #0 has no valid name"),
    ('/// event E(a: u8, a: bool)\npub fn f() void { ghost.emit("E", &.{}, ""); }',
     "event 'E': two fields are named 'a'"),
    ('const K = enum(u8) { @"a b" };\npub fn f(k: K) void { _ = k; }',
     "type 'K': variant #0 has no valid name"),
])
def test_an_abi_a_deploy_would_refuse_is_a_build_error(body: str, why: str) -> None:
    """`ghost build` runs the deploy's ABI check on what it read: what it writes deploys."""
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(HEAD + body + "\n", "c.zig")
    message = info.value.message
    assert message.startswith("c.zig: a deploy would refuse this contract's ABI: ")
    assert why in message and "\n" not in message


@pytest.mark.parametrize("field", ["a: u64\u00a0[4]", "a\u00a0: u8", "\u00e4: u8",
                                   "a: u64[\u0664]"])
def test_event_doc_lines_take_ascii_only(field: str) -> None:
    """A doc comment is never compiled: its type text is held to the ABI's ASCII grammar
    here (a non-breaking space or an Arabic digit is no space or digit)."""
    src = HEAD + f'/// event E({field})\npub fn f() void {{ ghost.emit("E", &.{{}}, ""); }}\n'
    with pytest.raises(CompileError, match="cannot read field"):
        extract_abi_from_text(src, "c.zig")


@pytest.mark.parametrize("body, line, why", [
    ("pub fn f(" + "a" * 129 + ": u8) void {}",
     3, "parameter '" + "a" * 129 + "' of function 'f' is no valid ABI name"),
    ('pub fn @"a b"() u8 { return 1; }',
     3, "function 'a b' is exported, but its name is no valid ABI name"),
    ('pub fn f(@"x y": u8) u8 { return @"x y"; }',
     3, "parameter 'x y' of function 'f' is no valid ABI name"),
    ('const S = struct { @"a,b": u8 };\npub fn f(s: S) u8 { return s.@"a,b"; }',
     3, "field @\"a,b\" of struct 'S' is no valid ABI name"),
    ('const @"T 1" = enum { a };\npub fn f(t: []const @"T 1") void { _ = t; }',
     3, "the enum @\"T 1\" is no valid ABI name"),
])
def test_a_quoted_identifier_that_is_no_abi_name_is_named(body: str, line: int,
                                                          why: str) -> None:
    """`@"..."` may spell any name; one the ABI cannot hold is a one-line error at its
    line, never a function silently missing from the ABI."""
    with pytest.raises(CompileError) as info:
        extract_abi_from_text(HEAD + body + "\n", "c.zig")
    assert info.value.message.startswith(f"c.zig:{line}: {why}")
    assert "\n" not in info.value.message


def test_quoted_identifiers_that_are_no_abi_name_in_helpers_are_no_error() -> None:
    """Only what the ABI holds must be an ABI name: a helper or an unused struct may use
    any spelling, and `@"x"` and `x` are one identifier."""
    src = HEAD + ('const Odd = struct { @"a b": u8 };\n'
                  'pub fn @"odd name"(p: *u8) void { _ = p; }\n'
                  'pub const @"P" = struct { @"const": u8, @"fn": bool };\n'
                  'pub fn g(p: P, q: []const @"P") P { _ = q; return p; }\n')
    abi = extract_abi_from_text(src, "c.zig")
    assert [f.name for f in abi.functions] == ["g"]
    assert [(p.name, p.type) for p in abi.function("g").inputs] == [("p", "P"), ("q", "P[]")]
    assert [f.name for f in abi.types[0].fields] == ["const", "fn"]
