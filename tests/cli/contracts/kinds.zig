//! Every ABI type through a call and back: each `echo_*` returns its argument, and
//! `record` keeps a struct in storage and emits a typed event.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

pub const Color = enum(u8) { red = 0, green = 1, blue = 7 };

pub const Pair = struct { a: u64, b: ghost.String };

pub const Ballot = struct {
    id: u64,
    owner: ghost.Address,
    title: ghost.String,
    votes: []const u32,
    color: ?Color,
    pairs: []const Pair,
    grid: [2][3]u16,
    tag: [4]u8,
};

/// Emitted by `record`: who recorded which ballot, and its color.
pub const Recorded = struct {
    who: ghost.Address,
    id: u64,
    color: ?Color,
    title: ghost.String,
    pub const indexed = .{ "who", "id" };
};

const last = ghost.Value(Ballot, "last");
const count = ghost.Value(u64, "count");

pub fn echo_bool(v: bool) bool {
    return v;
}
pub fn echo_u8(v: u8) u8 {
    return v;
}
pub fn echo_i32(v: i32) i32 {
    return v;
}
pub fn echo_u128(v: u128) u128 {
    return v;
}
pub fn echo_i256(v: i256) i256 {
    return v;
}
pub fn echo_address(v: ghost.Address) ghost.Address {
    return v;
}
pub fn echo_bytes4(v: [4]u8) [4]u8 {
    return v;
}
pub fn echo_bytes32(v: [32]u8) [32]u8 {
    return v;
}
pub fn echo_bytes(v: []const u8) []const u8 {
    return v;
}
pub fn echo_string(v: ghost.String) ghost.String {
    return v;
}
pub fn echo_array(v: [3]u16) [3]u16 {
    return v;
}
pub fn echo_slice(v: []const u32) []const u32 {
    return v;
}
pub fn echo_optional(v: ?u64) ?u64 {
    return v;
}
pub fn echo_enum(v: Color) Color {
    return v;
}
pub fn echo_pair(v: Pair) Pair {
    return v;
}
pub fn echo_ballot(v: Ballot) Ballot {
    return v;
}

/// Store `b` as the last ballot, count it and emit `Recorded`; returns the new count.
pub fn record(b: Ballot) u64 {
    last.set(b);
    count.set(count.get() + 1);
    ghost.emitEvent(Recorded{ .who = ghost.caller(), .id = b.id, .color = b.color, .title = b.title });
    return count.get();
}

/// The last ballot recorded, if any.
pub fn last_ballot() ?Ballot {
    return last.getOrNull();
}

/// How many ballots were recorded.
pub fn recorded() u64 {
    return count.get();
}
