//! A fungible token: a fixed supply minted to the deployer, and transfers between
//! accounts. Every top-level `pub fn` below is a contract function, except `init`, the
//! constructor (`ghost deploy token --args 1000`).
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

const token_name = "{{name}}";

// Storage layout: "owner" -> 20-byte address, "supply" -> u64, "bal:" ++ address -> u64.
const owner_key = "owner";
const supply_key = "supply";

fn balanceKey(who: ghost.Address) [24]u8 {
    var key: [24]u8 = undefined;
    @memcpy(key[0..4], "bal:");
    @memcpy(key[4..], &who);
    return key;
}

fn balance(who: ghost.Address) u64 {
    const key = balanceKey(who);
    return ghost.storage.get(u64, &key);
}

fn setBalance(who: ghost.Address, amount: u64) void {
    const key = balanceKey(who);
    ghost.storage.set(u64, &key, amount);
}

/// event Transfer(from: ghost.Address indexed, to: ghost.Address indexed, amount: u64)
fn emitTransfer(from: ghost.Address, to: ghost.Address, amount: u64) void {
    var data: [8]u8 = undefined;
    @import("std").mem.writeInt(u64, &data, amount, .little);
    ghost.emit("Transfer", &.{ ghost.topic(from), ghost.topic(to) }, &data);
}

/// The constructor: mint `supply` tokens to the deployer, who becomes the owner. It runs
/// once, inside the deploy transaction; it cannot be called afterwards.
pub fn init(supply: u64) !void {
    const owner_addr = ghost.caller();
    ghost.storage.setBytes(owner_key, &owner_addr);
    ghost.storage.set(u64, supply_key, supply);
    setBalance(owner_addr, supply);
    const zero: ghost.Address = @splat(0);
    emitTransfer(zero, owner_addr, supply);
}

/// Move `amount` tokens from the caller to `to` and emit "Transfer" (topics: from, to;
/// data: the amount as u64). Reverts with "InsufficientBalance" when the caller has less.
pub fn transfer(to: ghost.Address, amount: u64) !void {
    const from = ghost.caller();
    const from_balance = balance(from);
    if (from_balance < amount) return error.InsufficientBalance;
    setBalance(from, from_balance - amount);
    // Read `to` after writing `from`, so a transfer to oneself leaves the balance as it was.
    setBalance(to, balance(to) + amount);
    emitTransfer(from, to, amount);
}

/// The balance of `who`.
pub fn balance_of(who: ghost.Address) u64 {
    return balance(who);
}

/// The account that deployed the token.
pub fn owner() ghost.Address {
    const stored = ghost.storage.getBytes(owner_key) orelse return @splat(0);
    return stored[0..20].*;
}

/// The token's name.
pub fn name() ghost.String {
    return token_name;
}

/// Tokens minted by `init`.
pub fn total_supply() u64 {
    return ghost.storage.get(u64, supply_key);
}
