//! Many storage keys in one call: each key is 8 bytes, the little-endian u64 `start + i`.
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Set keys start .. start + n to 1; returns n.
pub fn fill(start: u64, n: u64) u64 {
    var i: u64 = 0;
    while (i < n) : (i += 1) {
        const key: [8]u8 = @bitCast(start + i);
        ghost.storage.set(u64, &key, 1);
    }
    return n;
}

/// Delete keys start .. start + n.
pub fn clear(start: u64, n: u64) void {
    var i: u64 = 0;
    while (i < n) : (i += 1) {
        const key: [8]u8 = @bitCast(start + i);
        ghost.storage.remove(&key);
    }
}
