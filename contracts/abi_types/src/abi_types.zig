//! Every type of the contract ABI in parameters and results (docs/abi.md): each `echo_*`
//! decodes its argument and encodes it back, `make_*` build values in Zig, and the
//! storage functions keep them in ghost.Value/Map/Vec.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

pub const Color = enum(u8) { red = 0, green = 1, blue = 7 };

pub const Pair = struct { a: u64, b: bool };

/// A tuple declared once and used by name: its ABI type is `(i32,i32)`.
pub const Point = struct { i32, i32 };

/// Tuples as struct fields.
pub const Shape = struct { corner: Point, label: struct { u8, [:0]const u8 }, more: ?[2]Point };

pub const Record = struct {
    owner: ghost.Address,
    color: Color,
    pairs: []const Pair,
    memo: ?ghost.String,
    tag: [4]u8,
    grid: [2][]const u16,
};

/// Emitted by `remember`: the id and owner as topics, the rest as ABI-encoded data.
pub const Remembered = struct {
    id: u64,
    owner: ghost.Address,
    color: Color,
    memo: ?ghost.String,
    pub const indexed = .{ "id", "owner" };
};

const records = ghost.Map(u64, Record, "records");
const names = ghost.Map(ghost.String, u32, "names");
const history = ghost.Vec(Pair, "history");
const latest = ghost.Value(?Record, "latest");

pub fn echo_bool(x: bool) bool {
    return x;
}
pub fn echo_u8(x: u8) u8 {
    return x;
}
pub fn echo_u16(x: u16) u16 {
    return x;
}
pub fn echo_u32(x: u32) u32 {
    return x;
}
pub fn echo_u64(x: u64) u64 {
    return x;
}
pub fn echo_u128(x: u128) u128 {
    return x;
}
pub fn echo_u256(x: u256) u256 {
    return x;
}
pub fn echo_i8(x: i8) i8 {
    return x;
}
pub fn echo_i16(x: i16) i16 {
    return x;
}
pub fn echo_i32(x: i32) i32 {
    return x;
}
pub fn echo_i64(x: i64) i64 {
    return x;
}
pub fn echo_i128(x: i128) i128 {
    return x;
}
pub fn echo_i256(x: i256) i256 {
    return x;
}
pub fn echo_address(x: ghost.Address) ghost.Address {
    return x;
}
pub fn echo_bytes1(x: [1]u8) [1]u8 {
    return x;
}
pub fn echo_bytes32(x: [32]u8) [32]u8 {
    return x;
}
pub fn echo_bytes(x: []const u8) []const u8 {
    return x;
}
pub fn echo_string(x: ghost.String) ghost.String {
    return x;
}
pub fn echo_u8_array(x: [33]u8) [33]u8 {
    return x;
}
pub fn echo_u16_array(x: [3]u16) [3]u16 {
    return x;
}
pub fn echo_u64_list(x: []const u64) []const u64 {
    return x;
}
pub fn echo_strings(x: []const ghost.String) []const ghost.String {
    return x;
}
pub fn echo_optional(x: ?u32) ?u32 {
    return x;
}
pub fn echo_tuple(x: struct { u8, ghost.String }) struct { u8, ghost.String } {
    return x;
}
pub fn echo_point(x: Point) Point {
    return x;
}
pub fn echo_points(x: []const struct { u16, ?Point }) []const struct { u16, ?Point } {
    return x;
}
pub fn echo_shape(x: Shape) Shape {
    return x;
}
pub fn echo_pair(x: Pair) Pair {
    return x;
}
pub fn echo_pairs(x: []const Pair) []const Pair {
    return x;
}
pub fn echo_color(x: Color) Color {
    return x;
}
pub fn echo_record(x: Record) Record {
    return x;
}
pub fn echo_optional_record(x: ?Record) ?Record {
    return x;
}
pub fn echo_nested(x: [2][]const u64) [2][]const u64 {
    return x;
}

/// Several arguments of different types; the sum of the list plus `add`, or null when
/// `flag` is false.
pub fn sum(xs: []const u64, add: u8, flag: bool) ?u64 {
    if (!flag) return null;
    var total: u64 = add;
    for (xs) |x| total += x;
    return total;
}

/// A record built here (not decoded): the caller as owner, `n` pairs.
pub fn make_record(n: u8, color: Color) Record {
    const pairs = [_]Pair{ .{ .a = 1, .b = true }, .{ .a = 2, .b = false }, .{ .a = 3, .b = true } };
    const row: []const u16 = &.{ 10, 20 };
    return .{
        .owner = ghost.caller(),
        .color = color,
        .pairs = pairs[0..@min(n, pairs.len)],
        .memo = if (n == 0) null else "made",
        .tag = .{ 'a', 'b', 'c', n },
        .grid = .{ row, &.{} },
    };
}

/// Store `r` under `id`, push its first pair (if any) to the history, keep it as the
/// latest and emit `Remembered`.
pub fn remember(id: u64, r: Record) void {
    records.set(id, r);
    if (r.pairs.len > 0) history.push(r.pairs[0]);
    latest.set(r);
    ghost.emitEvent(Remembered{ .id = id, .owner = r.owner, .color = r.color, .memo = r.memo });
}

/// The record stored under `id`, or null.
pub fn recall(id: u64) ?Record {
    return records.get(id);
}

/// Remove the record stored under `id`; whether there was one.
pub fn forget(id: u64) bool {
    const had = records.has(id);
    records.remove(id);
    return had;
}

/// The last record given to `remember` (null before any, or after `clear_latest`).
pub fn last() ?Record {
    return latest.get();
}

pub fn clear_latest() void {
    latest.clear();
}

/// Count under a string key.
pub fn name_count(name: ghost.String) u32 {
    return names.getOr(name, 0);
}

pub fn bump_name(name: ghost.String) u32 {
    const n = names.getOr(name, 0) + 1;
    names.set(name, n);
    return n;
}

pub fn history_len() u64 {
    return history.len();
}

pub fn history_at(i: u64) ?Pair {
    return history.get(i);
}

pub fn history_pop() ?Pair {
    return history.pop();
}

pub fn history_set(i: u64, p: Pair) void {
    history.set(i, p);
}

/// A helper: its pointer parameter is not an ABI type, so it is not exported.
pub fn helper(p: *const u8) u8 {
    return p.*;
}
