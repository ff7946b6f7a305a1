//! The names registry: `NAME.ghost` -> contract address, owned by whoever registered it.
//! Installed by the node at genesis at a well-known address (docs/names.md); changed only
//! by signed transactions, since every write goes through a transaction's caller.
//!
//! A name is one DNS label without the `.ghost` suffix: 1..63 bytes of a-z, 0-9 and '-',
//! not starting or ending with '-'. Uppercase is refused, not folded, so one name has one
//! spelling on chain.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

// Storage: "n:" ++ name -> owner (20 bytes) ++ target (20 bytes).
const max_label = 63;

fn key(name: []const u8) [2 + max_label]u8 {
    var k: [2 + max_label]u8 = @splat(0);
    @memcpy(k[0..2], "n:");
    @memcpy(k[2 .. 2 + name.len], name);
    return k;
}

fn valid(name: []const u8) bool {
    if (name.len == 0 or name.len > max_label) return false;
    if (name[0] == '-' or name[name.len - 1] == '-') return false;
    for (name) |c| {
        const ok = (c >= 'a' and c <= 'z') or (c >= '0' and c <= '9') or c == '-';
        if (!ok) return false;
    }
    return true;
}

const Entry = struct { owner: ghost.Address, target: ghost.Address };

fn load(name: []const u8) ?Entry {
    if (!valid(name)) ghost.revert("InvalidName");
    const k = key(name);
    const raw = ghost.storage.getBytes(k[0 .. 2 + name.len]) orelse return null;
    if (raw.len != 40) ghost.revert("CorruptEntry");
    return .{ .owner = raw[0..20].*, .target = raw[20..40].* };
}

fn store(name: []const u8, e: Entry) void {
    const k = key(name);
    var v: [40]u8 = undefined;
    @memcpy(v[0..20], &e.owner);
    @memcpy(v[20..40], &e.target);
    ghost.storage.setBytes(k[0 .. 2 + name.len], &v);
}

fn owned(name: []const u8) !Entry {
    const e = load(name) orelse return error.NotRegistered;
    const who = ghost.caller();
    if (!@import("std").mem.eql(u8, &e.owner, &who)) return error.NotOwner;
    return e;
}

// Events: topic 1 is the name (a label fits a topic only up to 32 bytes, so the name is
// also the head of the data); data = u32 name length ++ name ++ owner ++ target.
fn record(comptime event: []const u8, name: []const u8, e: Entry) void {
    var data: [4 + max_label + 40]u8 = undefined;
    @import("std").mem.writeInt(u32, data[0..4], @intCast(name.len), .little);
    @memcpy(data[4 .. 4 + name.len], name);
    @memcpy(data[4 + name.len .. 24 + name.len], &e.owner);
    @memcpy(data[24 + name.len .. 44 + name.len], &e.target);
    const t: []const u8 = if (name.len > 32) name[0..32] else name;
    ghost.emit(event, &.{ghost.topic(t), ghost.topic(e.owner)}, data[0 .. 44 + name.len]);
}

/// Claim `name` for the caller, pointing at `target`. Reverts "Taken" if it is registered.
pub fn register(name: ghost.String, target: ghost.Address) !void {
    if (load(name) != null) return error.Taken;
    const e = Entry{ .owner = ghost.caller(), .target = target };
    store(name, e);
    record("Registered", name, e);
}

/// Point `name` at a new `target`; only its owner may.
pub fn update(name: ghost.String, target: ghost.Address) !void {
    var e = try owned(name);
    e.target = target;
    store(name, e);
    record("Updated", name, e);
}

/// Hand `name` to `to`; only its owner may. The target stays.
pub fn transfer(name: ghost.String, to: ghost.Address) !void {
    var e = try owned(name);
    e.owner = to;
    store(name, e);
    record("Transferred", name, e);
}

/// The address `name` points at; reverts "NotRegistered" for a free name.
pub fn resolve(name: ghost.String) !ghost.Address {
    const e = load(name) orelse return error.NotRegistered;
    return e.target;
}

/// The owner of `name`; reverts "NotRegistered" for a free name.
pub fn owner_of(name: ghost.String) !ghost.Address {
    const e = load(name) orelse return error.NotRegistered;
    return e.owner;
}

/// owner (20 bytes) ++ target (20 bytes) of `name` in one read, for the node's resolver;
/// reverts "NotRegistered" for a free name.
pub fn entry(name: ghost.String) ![]const u8 {
    const e = load(name) orelse return error.NotRegistered;
    const k = key(name);
    return ghost.storage.getBytes(k[0 .. 2 + name.len]) orelse e.owner[0..0];
}
