//! A key/value registry with ownership: whoever first sets a key owns it; only the owner
//! may change, transfer or remove it. Every top-level `pub fn` below is a contract function.
const std = @import("std");
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Longest key accepted. Storage keys are at most 1 KiB; this keeps the prefixed key well
/// inside that and the stack buffer below small.
const max_key_len = 256;

// Storage layout: "v:" ++ key -> the value, "o:" ++ key -> the owner's 20-byte address.
// A key is present exactly when its owner entry is, so an empty value is still a value.
const Slot = struct {
    buf: [2 + max_key_len]u8 = undefined,
    len: usize = 0,

    fn of(prefix: *const [2]u8, key: []const u8) !Slot {
        if (key.len == 0) return error.EmptyKey;
        if (key.len > max_key_len) return error.KeyTooLong;
        var s = Slot{ .len = 2 + key.len };
        @memcpy(s.buf[0..2], prefix);
        @memcpy(s.buf[2..s.len], key);
        return s;
    }

    fn bytes(self: *const Slot) []const u8 {
        return self.buf[0..self.len];
    }
};

/// The owner of `key`, or error.NotFound when nobody has set it.
fn ownerOf(key: []const u8) !ghost.Address {
    const slot = try Slot.of("o:", key);
    const stored = ghost.storage.getBytes(slot.bytes()) orelse return error.NotFound;
    return stored[0..20].*;
}

/// Emit event `name` with `topics` and the key as its data, encoded as the ABI's `string`
/// (u32 length, then the bytes) so the `/// event` declarations below decode it.
fn emitKeyEvent(comptime name: []const u8, topics: []const [32]u8, key: ghost.String) void {
    var data: [4 + max_key_len]u8 = undefined;
    const n = ghost.abi.encodeInto(ghost.String, key, &data);
    ghost.emit(name, topics, data[0..n]);
}

/// Fail with error.NotOwner unless the caller owns `key` (error.NotFound when unset).
fn requireOwner(key: []const u8) !ghost.Address {
    const current = try ownerOf(key);
    const me = ghost.caller();
    if (!std.mem.eql(u8, &current, &me)) return error.NotOwner;
    return me;
}

/// Store `value` under `key`. The first caller to set a key owns it; the owner may set it
/// again, anyone else gets "NotOwner". Emits "Set" (topics: the owner, keccak256 of the key,
/// so logs can be filtered by key whatever its length; data: the key).
/// Keys are 1..256 bytes ("EmptyKey", "KeyTooLong").
/// event Set(owner: ghost.Address indexed, key_hash: bytes32 indexed, key: ghost.String)
pub fn set(key: ghost.String, value: []const u8) !void {
    const owner_slot = try Slot.of("o:", key);
    const me = ghost.caller();
    if (ghost.storage.getBytes(owner_slot.bytes())) |stored| {
        if (!std.mem.eql(u8, stored[0..20], &me)) return error.NotOwner;
    } else {
        ghost.storage.setBytes(owner_slot.bytes(), &me);
    }
    const value_slot = try Slot.of("v:", key);
    ghost.storage.setBytes(value_slot.bytes(), value);
    emitKeyEvent("Set", &.{ ghost.topic(me), ghost.crypto.keccak256(key) }, key);
}

/// The value stored under `key`; "NotFound" when the key is unset.
pub fn get(key: ghost.String) ![]const u8 {
    _ = try ownerOf(key);
    const slot = try Slot.of("v:", key);
    return ghost.storage.getBytes(slot.bytes()) orelse error.NotFound;
}

/// The account that owns `key`; "NotFound" when the key is unset.
pub fn owner_of(key: ghost.String) !ghost.Address {
    return ownerOf(key);
}

/// Give `key` to `to`. Only the owner may ("NotOwner"); the zero address is refused
/// ("ZeroAddress") since nobody could ever use the key again. Emits "Transferred"
/// (topics: old owner, new owner, keccak256 of the key; data: the key).
/// event Transferred(from: ghost.Address indexed, to: ghost.Address indexed, key_hash: bytes32 indexed, key: ghost.String)
pub fn transfer(key: ghost.String, to: ghost.Address) !void {
    const me = try requireOwner(key);
    const zero: ghost.Address = @splat(0);
    if (std.mem.eql(u8, &to, &zero)) return error.ZeroAddress;
    const slot = try Slot.of("o:", key);
    ghost.storage.setBytes(slot.bytes(), &to);
    emitKeyEvent("Transferred", &.{ ghost.topic(me), ghost.topic(to), ghost.crypto.keccak256(key) }, key);
}

/// Delete `key` and its value; only the owner may ("NotOwner"). The key is then free for
/// anyone to set. Emits "Removed" (topics: the owner, keccak256 of the key; data: the key).
/// event Removed(owner: ghost.Address indexed, key_hash: bytes32 indexed, key: ghost.String)
pub fn remove(key: ghost.String) !void {
    const me = try requireOwner(key);
    const owner_slot = try Slot.of("o:", key);
    const value_slot = try Slot.of("v:", key);
    ghost.storage.remove(owner_slot.bytes());
    ghost.storage.remove(value_slot.bytes());
    emitKeyEvent("Removed", &.{ ghost.topic(me), ghost.crypto.keccak256(key) }, key);
}

/// Whether `key` is set.
pub fn exists(key: ghost.String) !bool {
    const slot = try Slot.of("o:", key);
    return ghost.storage.has(slot.bytes());
}
