//! A counter: the smallest useful contract. Every top-level `pub fn` below is a contract
//! function; `ghost build` derives the ABI from these signatures and doc comments.
//! event Incremented(by: ghost.Address indexed)
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Storage key of the current count (a u64, little-endian).
const count_key = "count";

/// Add one to the counter, emit "Incremented" (topic 1: the caller) and return the new value.
pub fn increment() u64 {
    const r = @addWithOverflow(ghost.storage.get(u64, count_key), 1);
    if (r[1] != 0) ghost.revert("Overflow");
    const v = r[0];
    ghost.storage.set(u64, count_key, v);
    ghost.emit("Incremented", &.{ghost.topic(ghost.caller())}, "");
    return v;
}

/// Add `n` to the counter and return the new value; reverts with "Overflow" past 2^64 - 1.
pub fn add(n: u64) !u64 {
    const r = @addWithOverflow(ghost.storage.get(u64, count_key), n);
    if (r[1] != 0) return error.Overflow;
    ghost.storage.set(u64, count_key, r[0]);
    return r[0];
}

/// The current count.
pub fn get() u64 {
    return ghost.storage.get(u64, count_key);
}
