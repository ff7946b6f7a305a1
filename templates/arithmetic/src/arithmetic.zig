//! Checked integer arithmetic on u64, u128 and u256. Every result that would not fit
//! reverts with a named error instead of wrapping: "Overflow", "Underflow" or
//! "DivisionByZero". Every top-level `pub fn` below is a contract function.
const std = @import("std");
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Storage key of the running total (a u128, little-endian).
const total_key = "total";

const MathError = error{ Overflow, Underflow, DivisionByZero };

fn add(comptime T: type, a: T, b: T) MathError!T {
    const r = @addWithOverflow(a, b);
    if (r[1] != 0) return error.Overflow;
    return r[0];
}

fn sub(comptime T: type, a: T, b: T) MathError!T {
    // Unsigned: the only way to fail is going below zero, so name it that.
    if (b > a) return error.Underflow;
    return a - b;
}

fn mul(comptime T: type, a: T, b: T) MathError!T {
    const r = @mulWithOverflow(a, b);
    if (r[1] != 0) return error.Overflow;
    return r[0];
}

fn div(comptime T: type, a: T, b: T) MathError!T {
    if (b == 0) return error.DivisionByZero;
    return a / b;
}

/// a + b; "Overflow" past 2^64 - 1.
pub fn add_u64(a: u64, b: u64) !u64 {
    return add(u64, a, b);
}

/// a - b; "Underflow" when b > a.
pub fn sub_u64(a: u64, b: u64) !u64 {
    return sub(u64, a, b);
}

/// a * b; "Overflow" past 2^64 - 1.
pub fn mul_u64(a: u64, b: u64) !u64 {
    return mul(u64, a, b);
}

/// a / b rounded down; "DivisionByZero" when b is 0.
pub fn div_u64(a: u64, b: u64) !u64 {
    return div(u64, a, b);
}

/// a + b; "Overflow" past 2^128 - 1.
pub fn add_u128(a: u128, b: u128) !u128 {
    return add(u128, a, b);
}

/// a - b; "Underflow" when b > a.
pub fn sub_u128(a: u128, b: u128) !u128 {
    return sub(u128, a, b);
}

/// a * b; "Overflow" past 2^128 - 1.
pub fn mul_u128(a: u128, b: u128) !u128 {
    return mul(u128, a, b);
}

/// a / b rounded down; "DivisionByZero" when b is 0.
pub fn div_u128(a: u128, b: u128) !u128 {
    return div(u128, a, b);
}

/// a + b; "Overflow" past 2^256 - 1.
pub fn add_u256(a: u256, b: u256) !u256 {
    return add(u256, a, b);
}

/// a - b; "Underflow" when b > a.
pub fn sub_u256(a: u256, b: u256) !u256 {
    return sub(u256, a, b);
}

/// a * b; "Overflow" past 2^256 - 1.
pub fn mul_u256(a: u256, b: u256) !u256 {
    return mul(u256, a, b);
}

/// a / b rounded down; "DivisionByZero" when b is 0.
pub fn div_u256(a: u256, b: u256) !u256 {
    return div(u256, a, b);
}

/// a * b / c rounded down, with the product held at 512 bits so only the final result must
/// fit: "DivisionByZero" when c is 0, "Overflow" when the quotient exceeds 2^256 - 1.
pub fn mul_div_u256(a: u256, b: u256, c: u256) !u256 {
    if (c == 0) return error.DivisionByZero;
    const q = (@as(u512, a) * @as(u512, b)) / @as(u512, c);
    return std.math.cast(u256, q) orelse error.Overflow;
}

/// Add `x` to the stored running total and return the new total; "Overflow" past
/// 2^128 - 1, leaving the total as it was. Emits "Accumulated" (topic 1: the caller;
/// data: the new total, u128 little-endian).
/// event Accumulated(by: ghost.Address indexed, total: u128)
pub fn accumulate(x: u128) !u128 {
    const sum = try add(u128, ghost.storage.get(u128, total_key), x);
    ghost.storage.set(u128, total_key, sum);
    var data: [16]u8 = undefined;
    std.mem.writeInt(u128, &data, sum, .little);
    ghost.emit("Accumulated", &.{ghost.topic(ghost.caller())}, &data);
    return sum;
}

/// The running total (0 before the first `accumulate`).
pub fn total() u128 {
    return ghost.storage.get(u128, total_key);
}
