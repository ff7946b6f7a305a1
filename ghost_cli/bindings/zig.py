'''`ghost bindings zig`: a Zig module that encodes call data and decodes results for one
contract's functions.

The host has no cross-contract call (docs/host-abi.md lists every host function; none
calls another contract), so the module makes no call: it is the codec and the types,
for off-chain Zig tools, tests, and a future call host function. It imports only `std`,
declares the contract's structs and enums, and for each function a namespace with its
`Args` struct, `Result` type, `encode` (call data into a buffer) and `decodeResult`.
The codec inside is generic over Zig types, with the encoding of docs/abi.md.'''

from __future__ import annotations

import re

from ..abi import Abi, parse_type
from ..abi.types import (
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    EnumType,
    FixedBytesType,
    IntType,
    OptionalType,
    SliceType,
    StringType,
    StructType,
    TupleType,
)
from ..exceptions import GhostError

#: Quoted as `@"name"`: Zig's keywords (and those of earlier Zig: `async`, `await`,
#: `usingnamespace`), its primitive values and types, and `_`, which Zig reads as a
#: discard (and, in an enum, as the non-exhaustive marker) unless quoted.
_KEYWORDS = set("""addrspace align allowzero and anyframe anytype asm async await break
callconv catch comptime const continue defer else enum errdefer error export extern fn for
if inline linksection noalias noinline nosuspend opaque or orelse packed pub resume return
struct suspend switch test threadlocal try union unreachable usingnamespace var volatile
while type bool void anyerror noreturn usize isize u8 u16 u32 u64 u128 u256 i8 i16 i32 i64
i128 i256 true false null undefined _ std Address String Error Writer Reader encodeValue
decodeValue decodeExact name Args Result encode decodeResult decodeArgs can_fail""".split())


#: Names the module declares or binds itself: a function, struct or enum of the contract
#: so named would clash with one (`@"..."` quoting names the same identifier), so it gets
#: a trailing `_`.
_OWN = frozenset({"std", "Address", "String", "Error", "Writer", "Reader", "encodeValue",
                  "decodeValue", "decodeExact",
                  # each function's namespace, and the parameters and locals of the
                  # module's functions (a Zig parameter may not shadow a declaration)
                  "name", "can_fail", "Args", "Result", "encode", "decodeArgs",
                  "decodeResult", "T", "args", "b", "buf", "bytes", "data", "e", "gpa",
                  "info", "n", "out", "r", "s", "v", "value", "w", "F", "o"})


#: Zig's primitive type names, which a declaration may not shadow unquoted (`u7`, `f32`).
_PRIMITIVE = re.compile(r"^(?:[iu][0-9]+|f(?:16|32|64|80|128)|c_[a-z]+|anyopaque|"
                        r"comptime_int|comptime_float|type)$")


def ident(name: str) -> str:
    return f'@"{name}"' if name in _KEYWORDS or _PRIMITIVE.match(name) else name


def decl_ident(name: str) -> str:
    """A top-level name: a function's namespace or a struct/enum type."""
    return ident(f"{name}_" if name in _OWN else name)


def zig_type(ty: AbiType) -> str:
    if isinstance(ty, BoolType):
        return "bool"
    if isinstance(ty, IntType):
        return ty.name
    if isinstance(ty, AddressType):
        return "Address"
    if isinstance(ty, FixedBytesType):
        return f"[{ty.n}]u8"
    if isinstance(ty, BytesType):
        return "[]const u8"
    if isinstance(ty, StringType):
        return "String"
    if isinstance(ty, ArrayType):
        return f"[{ty.n}]{zig_type(ty.elem)}"
    if isinstance(ty, SliceType):
        return f"[]const {zig_type(ty.elem)}"
    if isinstance(ty, OptionalType):
        return f"?{zig_type(ty.inner)}"
    if isinstance(ty, TupleType):
        return "struct { " + ", ".join(zig_type(t) for t in ty.elems) + " }"
    if isinstance(ty, StructType | EnumType):
        return decl_ident(ty.name)
    raise TypeError(ty)


CODEC = r'''const std = @import("std");

pub const Address = [20]u8;
/// A `string`: UTF-8, checked when decoded; no trailing 0 on the wire.
pub const String = [:0]const u8;
pub const Error = error{ BufferTooSmall, CallDataTooShort, CallDataTooLong, InvalidBool,
    InvalidUtf8, InvalidOptionalTag, InvalidEnumValue, OutOfMemory };

pub const Writer = struct {
    buf: []u8,
    pos: usize = 0,

    fn put(w: *Writer, bytes: []const u8) Error!void {
        if (bytes.len > w.buf.len - w.pos) return error.BufferTooSmall;
        @memcpy(w.buf[w.pos..][0..bytes.len], bytes);
        w.pos += bytes.len;
    }
};

pub const Reader = struct {
    data: []const u8,
    pos: usize = 0,

    fn take(r: *Reader, n: usize) Error![]const u8 {
        if (n > r.data.len - r.pos) return error.CallDataTooShort;
        defer r.pos += n;
        return r.data[r.pos..][0..n];
    }

    /// The fewest bytes any `T` encodes to (a length prefix counts, not its data).
    fn fewest(comptime T: type) usize {
        if (T == String) return 4;
        return switch (@typeInfo(T)) {
            .bool, .optional, .@"enum" => 1,
            .int => |info| info.bits / 8,
            .array => |info| info.len *| Reader.fewest(info.child),
            .pointer => 4,
            .@"struct" => |s| {
                var n: usize = 0;
                inline for (s.field_types) |F| n +|= Reader.fewest(F);
                return n;
            },
            else => @compileError("not an ABI type: " ++ @typeName(T)),
        };
    }
};

/// Append the ABI encoding of `value` (docs/abi.md) to `w`.
pub fn encodeValue(comptime T: type, w: *Writer, value: T) Error!void {
    switch (@typeInfo(T)) {
        .bool => try w.put(&[_]u8{@intFromBool(value)}),
        .int => |info| {
            var b: [@divExact(info.bits, 8)]u8 = undefined;
            std.mem.writeInt(T, &b, value, .little);
            try w.put(&b);
        },
        .array => |info| if (info.child == u8) try w.put(&value) else for (value) |v| {
            try encodeValue(info.child, w, v);
        },
        .pointer => |info| {
            if (value.len > std.math.maxInt(u32)) return error.BufferTooSmall;
            try encodeValue(u32, w, @intCast(value.len));
            if (info.child == u8) try w.put(value) else for (value) |v| {
                try encodeValue(info.child, w, v);
            }
        },
        .optional => |info| if (value) |v| {
            try w.put(&[_]u8{1});
            try encodeValue(info.child, w, v);
        } else try w.put(&[_]u8{0}),
        .@"struct" => |s| inline for (s.field_names, s.field_types) |name, F| {
            try encodeValue(F, w, @field(value, name));
        },
        .@"enum" => try w.put(&[_]u8{@intFromEnum(value)}),
        else => @compileError("not an ABI type: " ++ @typeName(T)),
    }
}

/// Decode one `T` at the reader's position. Byte strings point into the input; strings,
/// and slices of other types, are allocated with `gpa`.
pub fn decodeValue(comptime T: type, gpa: std.mem.Allocator, r: *Reader) Error!T {
    if (T == String) {
        const bytes = try r.take(try decodeValue(u32, gpa, r));
        if (!std.unicode.utf8ValidateSlice(bytes)) return error.InvalidUtf8;
        return try gpa.dupeSentinel(u8, bytes, 0);
    }
    switch (@typeInfo(T)) {
        .bool => return switch ((try r.take(1))[0]) {
            0 => false,
            1 => true,
            else => error.InvalidBool,
        },
        .int => |info| {
            const n = info.bits / 8;
            return std.mem.readInt(T, (try r.take(n))[0..n], .little);
        },
        .array => |info| {
            var out: T = undefined;
            if (info.child == u8) {
                @memcpy(&out, try r.take(info.len));
            } else for (&out) |*o| {
                o.* = try decodeValue(info.child, gpa, r);
            }
            return out;
        },
        .pointer => |info| {
            const n = try decodeValue(u32, gpa, r);
            if (info.child == u8) return r.take(n);
            // a count the rest cannot hold (n x the fewest bytes of one) is refused
            // before anything is allocated, as the SDK does (docs/abi.md, "Refusals")
            if (n > (r.data.len - r.pos) / comptime Reader.fewest(info.child))
                return error.CallDataTooShort;
            const out = try gpa.alloc(info.child, n);
            for (out) |*o| o.* = try decodeValue(info.child, gpa, r);
            return out;
        },
        .optional => |info| return switch ((try r.take(1))[0]) {
            0 => null,
            1 => try decodeValue(info.child, gpa, r),
            else => error.InvalidOptionalTag,
        },
        .@"struct" => |s| {
            var out: T = undefined;
            inline for (s.field_names, s.field_types) |name, F| {
                @field(out, name) = try decodeValue(F, gpa, r);
            }
            return out;
        },
        .@"enum" => |e| {
            const b = (try r.take(1))[0];
            inline for (e.field_names) |name| {
                if (b == @intFromEnum(@field(T, name))) return @field(T, name);
            }
            return error.InvalidEnumValue;
        },
        else => @compileError("not an ABI type: " ++ @typeName(T)),
    }
}

/// The one `T` that `data` holds; bytes left over are refused.
pub fn decodeExact(comptime T: type, gpa: std.mem.Allocator, data: []const u8) Error!T {
    var r = Reader{ .data = data };
    const value = try decodeValue(T, gpa, &r);
    if (r.pos != data.len) return error.CallDataTooLong;
    return value;
}
'''


def _doc(text: str, indent: str = "") -> list[str]:
    return [f"{indent}/// {ln}".rstrip() for ln in text.strip().splitlines()] if text else []


def _function(fn, abi: Abi) -> list[str]:
    args = ", ".join(f"{ident(p.name)}: {zig_type(parse_type(p.type, abi))}"
                     for p in fn.inputs)
    result = zig_type(parse_type(fn.output, abi)) if fn.output else "void"
    dec = ("        return decodeExact(Result, gpa, data);" if fn.output else
           "        _ = gpa;\n        if (data.len != 0) return error.CallDataTooLong;")
    return [*_doc(fn.doc), f"pub const {decl_ident(fn.name)} = struct {{",
            f'    pub const name = "{fn.name}";',
            f"    pub const can_fail = {'true' if fn.can_fail else 'false'};",
            f"    pub const Args = struct {{ {args} }};" if args else
            "    pub const Args = struct {};",
            f"    pub const Result = {result};",
            "    /// The call data (the arguments concatenated) written into `buf`.",
            "    pub fn encode(buf: []u8, args: Args) Error![]u8 {",
            "        var w = Writer{ .buf = buf };",
            "        try encodeValue(Args, &w, args);",
            "        return buf[0..w.pos];", "    }",
            "    pub fn decodeArgs(gpa: std.mem.Allocator, data: []const u8) Error!Args {",
            "        return decodeExact(Args, gpa, data);", "    }",
            "    /// The function's return data as its result type.",
            "    pub fn decodeResult(gpa: std.mem.Allocator, data: []const u8) Error!Result {",
            dec, "    }", "};", ""]


def _check_declarations(contract: str, abi: Abi) -> None:
    """Each struct, enum and function namespace is one declaration of the module: two that
    get the same identifier (a function and a type share a name, or `encode` and
    `encode_` after the renaming) would be a Zig compile error in the user's build."""
    seen: dict[str, str] = {}
    fns = ([abi.constructor] if abi.constructor else []) + list(abi.functions)
    for what, zig in [*((f"{t.kind} {t.name!r}", decl_ident(t.name)) for t in abi.types),
                      *((f"function {f.name!r}", decl_ident(f.name)) for f in fns)]:
        if zig in seen:
            raise GhostError(
                f"cannot generate Zig bindings for {contract!r}: {seen[zig]} and {what} "
                f"both become `{zig}` in Zig; rename one of them in the contract")
        seen[zig] = what


def generate(name: str, abi: Abi, raw=None) -> str:
    _check_declarations(name, abi)
    out = [f"//! Call data and results of the `{name}` contract, generated by `ghost bindings "
           "zig` from its ABI.", "//! Do not edit: regenerate after changing the contract.",
           "//! The host has no cross-contract call: this module encodes and decodes, it "
           "makes no call.", "", CODEC]
    for t in abi.types:
        if t.kind == "enum":
            out.append(f"pub const {decl_ident(t.name)} = enum(u8) {{ " + " ".join(
                f"{ident(n)} = {v}," for n, v in t.variants) + " };")
        else:
            out.append(f"pub const {decl_ident(t.name)} = struct {{ " + " ".join(
                f"{ident(p.name)}: {zig_type(parse_type(p.type, abi))}," for p in t.fields)
                + " };")
    if abi.types:
        out.append("")
    for fn in ([abi.constructor] if abi.constructor else []) + list(abi.functions):
        out += _function(fn, abi)
    return "\n".join(out)
