//! The SDK's ABI codec run natively (`zig test`, from tests/toolchain/test_sdk_zig.py):
//! round trips of every type of the ABI table, exact bytes, every refusal, and the shared
//! vectors tests/vectors/abi.json (module `vectors`: `pub const json = @embedFile(...)`).
const std = @import("std");
const ghost = @import("ghost");
const vectors = @import("vectors");
const abi = ghost.abi;

const Color = enum(u8) { red = 0, green = 1, blue = 7 };
const Plain = enum { a, b, c };
const Pair = struct { a: u64, b: ghost.String };
const Nested = struct {
    flags: [3]bool,
    pairs: []const Pair,
    maybe: ?Pair,
    grid: [2][]const u16,
    tag: Color,
    raw: []const u8,
    tuple: struct { i8, ghost.Address },
};

var buffer: [1 << 16]u8 = undefined;

fn roundTrip(comptime T: type, value: T) !void {
    var arena = abi.Arena{ .buf = &buffer };
    const bytes = try abi.encode(T, value, &arena);
    try std.testing.expectEqual(abi.encodedLen(T, value), bytes.len);
    if (comptime abi.fixedSize(T)) |n| try std.testing.expectEqual(n, bytes.len);
    try std.testing.expect(bytes.len >= abi.minSize(T));
    const back = try abi.decode(T, bytes, &arena);
    try std.testing.expectEqualDeep(value, back);
    // every strict prefix is refused, and so is one byte more
    var i: usize = 0;
    while (i < bytes.len) : (i += 1) {
        try std.testing.expectError(error.CallDataTooShort, abi.decode(T, bytes[0..i], &arena));
    }
    const longer = try arena.alloc(u8, bytes.len + 1);
    @memcpy(longer[0..bytes.len], bytes);
    longer[bytes.len] = 0;
    try std.testing.expectError(error.CallDataTooLong, abi.decode(T, longer, &arena));
}

fn expectBytes(comptime T: type, value: T, expected: []const u8) !void {
    var arena = abi.Arena{ .buf = &buffer };
    try std.testing.expectEqualSlices(u8, expected, try abi.encode(T, value, &arena));
}

fn expectRefused(comptime T: type, data: []const u8, err: abi.Error) !void {
    var arena = abi.Arena{ .buf = &buffer };
    try std.testing.expectError(err, abi.decode(T, data, &arena));
}

test "every scalar round-trips at its limits" {
    inline for (.{ u8, u16, u32, u64, u128, u256, i8, i16, i32, i64, i128, i256 }) |T| {
        try roundTrip(T, std.math.minInt(T));
        try roundTrip(T, std.math.maxInt(T));
        try roundTrip(T, 1);
    }
    try roundTrip(bool, true);
    try roundTrip(bool, false);
    try roundTrip(ghost.Address, @as([20]u8, @splat(0xAB)));
    try roundTrip([1]u8, .{7});
    try roundTrip([32]u8, @as([32]u8, @splat(9)));
    try roundTrip([]const u8, "");
    try roundTrip([]const u8, "\x00\xff raw");
    try roundTrip(ghost.String, "");
    try roundTrip(ghost.String, "h\xc3\xa9llo \xf0\x9f\x91\xbb");
    try roundTrip(Color, .blue);
    try roundTrip(Plain, .c);
}

test "compound types round-trip" {
    try roundTrip([4]u64, .{ 1, 2, 3, std.math.maxInt(u64) });
    try roundTrip([40]u8, @as([40]u8, @splat(3)));
    try roundTrip([]const i32, &.{ -1, 0, 1 });
    try roundTrip([]const ghost.String, &.{ "a", "", "ccc" });
    try roundTrip(?u32, null);
    try roundTrip(?u32, 5);
    try roundTrip(?[]const ?bool, &.{ null, true });
    try roundTrip(Pair, .{ .a = 3, .b = "three" });
    try roundTrip(struct { u8, bool, []const u8 }, .{ 1, true, "x" });
    try roundTrip([]const []const u64, &.{ &.{1}, &.{}, &.{ 2, 3 } });
    try roundTrip(Nested, .{
        .flags = .{ true, false, true },
        .pairs = &.{ .{ .a = 1, .b = "one" }, .{ .a = 2, .b = "two" } },
        .maybe = .{ .a = 9, .b = "" },
        .grid = .{ &.{ 1, 2 }, &.{} },
        .tag = .green,
        .raw = "\x01\x02",
        .tuple = .{ -5, @as([20]u8, @splat(1)) },
    });
}

test "exact bytes" {
    try expectBytes(u32, 0x01020304, "\x04\x03\x02\x01");
    try expectBytes(i16, -2, "\xfe\xff");
    try expectBytes(bool, true, "\x01");
    try expectBytes(ghost.String, "hi", "\x02\x00\x00\x00hi");
    try expectBytes([]const u8, "\x00", "\x01\x00\x00\x00\x00");
    try expectBytes([2]u16, .{ 1, 2 }, "\x01\x00\x02\x00");
    try expectBytes([]const u16, &.{ 1, 2 }, "\x02\x00\x00\x00\x01\x00\x02\x00");
    try expectBytes(?u8, null, "\x00");
    try expectBytes(?u8, 5, "\x01\x05");
    try expectBytes(Pair, .{ .a = 1, .b = "x" }, "\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00x");
    try expectBytes(Color, .blue, "\x07");
    try expectBytes(struct { u8, i8 }, .{ 1, -1 }, "\x01\xff");
}

const zeros32 = [_]u8{ 4, 0, 0, 0 } ++ @as([32]u8, @splat(0));

test "refusals" {
    try expectRefused(bool, "\x02", error.InvalidBool);
    try expectRefused(?u8, "\x02\x00", error.InvalidOptionalTag);
    try expectRefused(Color, "\x02", error.InvalidEnumValue);
    try expectRefused(Plain, "\x03", error.InvalidEnumValue);
    try expectRefused(ghost.String, "\x02\x00\x00\x00\xc3\x28", error.InvalidUtf8);
    try expectRefused(ghost.String, "\x03\x00\x00\x00\xed\xa0\x80", error.InvalidUtf8); // surrogate
    try expectRefused(ghost.String, "\x02\x00\x00\x00\xc0\x80", error.InvalidUtf8); // overlong
    try expectRefused(ghost.String, "\x04\x00\x00\x00\xf4\x90\x80\x80", error.InvalidUtf8); // > U+10FFFF
    try expectRefused(u16, "\x01", error.CallDataTooShort);
    try expectRefused(u8, "\x01\x02", error.CallDataTooLong);
    // a count past what remains is refused before allocating (nothing is taken from the arena)
    var arena = abi.Arena{ .buf = buffer[0..16] };
    try std.testing.expectError(error.CallDataTooShort, abi.decode([]const u64, "\xff\xff\xff\xff\x00", &arena));
    try std.testing.expectEqual(@as(usize, 0), arena.used);
    try std.testing.expectError(error.CallDataTooShort, abi.decode([]const u8, "\xff\xff\xff\xff", &arena));
    // a decoded string keeps its sentinel in the arena
    const s = try abi.decode(ghost.String, "\x02\x00\x00\x00ok", &arena);
    try std.testing.expectEqual(@as(u8, 0), s.ptr[2]);
    // running out of arena is its own error
    try std.testing.expectError(error.OutOfMemory, abi.decode([]const u64, &zeros32, &arena));
}

const Tree = struct { v: u8, kids: []const Tree };

const Contract = struct {
    pub fn plain(a: u8, b: ghost.String) ghost.String {
        _ = a;
        return b;
    }
    pub fn fails(x: ?Pair) !void {
        _ = x;
    }
    pub fn helper(p: *u8) void {
        _ = p;
    }
    pub fn generic(comptime n: u32) u32 {
        return n;
    }
    pub fn sized(n: usize) usize {
        return n;
    }
    pub fn anyt(x: anytype) void {
        _ = x;
    }
    pub const Event = struct { a: u8 };
};

test "the export rule" {
    try std.testing.expect(abi.isFunction(@TypeOf(Contract.plain)));
    try std.testing.expect(abi.isFunction(@TypeOf(Contract.fails)));
    try std.testing.expect(!abi.isFunction(@TypeOf(Contract.helper)));
    try std.testing.expect(!abi.isFunction(@TypeOf(Contract.generic)));
    try std.testing.expect(!abi.isFunction(@TypeOf(Contract.sized)));
    try std.testing.expect(!abi.isFunction(@TypeOf(Contract.anyt)));
    try std.testing.expect(!abi.isFunction(Contract.Event));
    try std.testing.expect(!abi.isType([]u8));
    try std.testing.expect(!abi.isType([4:0]u8));
    try std.testing.expect(!abi.isType(u24));
    try std.testing.expect(!abi.isType(enum(u16) { a, b }));
    try std.testing.expect(!abi.isType(packed struct { a: u8 }));
    // every ABI type encodes to at least one byte, and `T??` is no ABI type (docs/abi.md)
    try std.testing.expect(!abi.isType(??u8));
    try std.testing.expect(!abi.isType([]const ??u8));
    try std.testing.expect(!abi.isType([0]u64));
    try std.testing.expect(!abi.isType([0]u8));
    try std.testing.expect(!abi.isType(struct {}));
    try std.testing.expect(!abi.isType(struct { a: struct {} }));
    try std.testing.expect(abi.isType(?[]const ?u8));
    try std.testing.expect(abi.isType([1]u64));
    try std.testing.expect(abi.isType(Nested));
    // a recursive type is no ABI type (and does not recurse forever)
    try std.testing.expect(!abi.isType(Tree));
}

test "topics of the fixed-size ABI types" {
    try std.testing.expectEqual(@as(u8, 7), ghost.topic(Color.blue)[0]);
    const t = ghost.topic([4]u8{ 1, 2, 3, 4 });
    try std.testing.expectEqualSlices(u8, &.{ 1, 2, 3, 4, 0 }, t[0..5]);
    try std.testing.expectEqual(@as(u8, 0xfe), ghost.topic(@as(i16, -2))[0]);
}

test "short names and zero values" {
    try std.testing.expectEqualStrings("Pair", abi.shortName(Pair));
    try std.testing.expectEqualDeep(Pair{ .a = 0, .b = "" }, abi.zero(Pair));
    try std.testing.expectEqual(Color.red, abi.zero(Color));
    try std.testing.expectEqual(@as(?u8, null), abi.zero(?u8));
}

// ---- tests/vectors/abi.json: the Python codec's bytes decode here and encode back alike ----

const VPair = struct { a: u64, b: bool };
const VColor = enum(u8) { red = 0, green = 1, blue = 7 };
const VBallot = struct {
    voter: ghost.Address,
    choice: VColor,
    pairs: []const VPair,
    memo: ?ghost.String,
    tag: [4]u8,
};

/// Every type string of the vectors file and its Zig type.
const vector_types = .{
    .{ "bool", bool },                               .{ "u8", u8 },                                                             .{ "u16", u16 },
    .{ "u32", u32 },                                 .{ "u64", u64 },                                                           .{ "u128", u128 },
    .{ "u256", u256 },                               .{ "i8", i8 },                                                             .{ "i16", i16 },
    .{ "i32", i32 },                                 .{ "i64", i64 },                                                           .{ "i128", i128 },
    .{ "i256", i256 },                               .{ "address", ghost.Address },                                             .{ "bytes1", [1]u8 },
    .{ "bytes4", [4]u8 },                            .{ "bytes32", [32]u8 },                                                    .{ "bytes", []const u8 },
    .{ "string", ghost.String },                     .{ "u8[33]", [33]u8 },                                                     .{ "u16[2]", [2]u16 },
    .{ "u64[]", []const u64 },                       .{ "bool[]", []const bool },                                               .{ "bytes[]", []const []const u8 },
    .{ "string[]", []const ghost.String },           .{ "u8?", ?u8 },                                                           .{ "u8?[]", []const ?u8 },
    .{ "string?", ?ghost.String },                   .{ "address?", ?ghost.Address },                                           .{ "bytes?", ?[]const u8 },
    .{ "u32[]?", ?[]const u32 },                     .{ "u64[][2]", [2][]const u64 },                                           .{ "(u8,u8)", struct { u8, u8 } },
    .{ "(u8,string)", struct { u8, ghost.String } }, .{ "(bool,(i8,u16),bytes2)", struct { bool, struct { i8, u16 }, [2]u8 } }, .{ "Pair", VPair },
    .{ "Pair?", ?VPair },                            .{ "Pair[]", []const VPair },                                              .{ "Color", VColor },
    .{ "Color[]", []const VColor },                  .{ "Ballot", VBallot },
};

const Vector = struct { type: []const u8, hex: []const u8, @"error": ?[]const u8 = null };
const VectorFile = struct { vectors: []const Vector, malformed: []const Vector };

/// Decode `data` as the type named `name`, re-encode it; the error's reason on refusal.
fn decodeNamed(name: []const u8, data: []const u8) !union(enum) { ok: []const u8, refused: []const u8 } {
    inline for (vector_types) |entry| {
        if (std.mem.eql(u8, entry[0], name)) {
            var arena = abi.Arena{ .buf = &buffer };
            const v = abi.decode(entry[1], data, &arena) catch |err| return .{ .refused = abi.reason(err) };
            return .{ .ok = try abi.encode(entry[1], v, &arena) };
        }
    }
    std.debug.print("vector type {s} has no Zig type in vector_types\n", .{name});
    return error.UnknownVectorType;
}

test "the shared vectors" {
    const parsed = try std.json.parseFromSlice(VectorFile, std.testing.allocator, vectors.json, .{ .ignore_unknown_fields = true });
    defer parsed.deinit();
    try std.testing.expect(parsed.value.vectors.len > 0 and parsed.value.malformed.len > 0);
    var raw: [4096]u8 = undefined;
    for (parsed.value.vectors) |v| {
        const data = try std.fmt.hexToBytes(&raw, v.hex);
        switch (try decodeNamed(v.type, data)) {
            .ok => |again| std.testing.expectEqualSlices(u8, data, again) catch |e| {
                std.debug.print("vector {s} {s} re-encodes differently\n", .{ v.type, v.hex });
                return e;
            },
            .refused => |why| {
                std.debug.print("vector {s} {s} refused: {s}\n", .{ v.type, v.hex, why });
                return error.VectorRefused;
            },
        }
    }
    for (parsed.value.malformed) |v| {
        const data = try std.fmt.hexToBytes(&raw, v.hex);
        switch (try decodeNamed(v.type, data)) {
            .ok => {
                std.debug.print("malformed {s} {s} was accepted\n", .{ v.type, v.hex });
                return error.MalformedAccepted;
            },
            .refused => |why| std.testing.expectEqualStrings(v.@"error".?, why) catch |e| {
                std.debug.print("malformed {s} {s}\n", .{ v.type, v.hex });
                return e;
            },
        }
    }
}
