//! A vault that releases funds only against signatures: one owner key (any ghost scheme,
//! ML-DSA by default) or an M-of-N multi-sig of members of mixed schemes. There is no
//! native currency, so balances are bookkeeping: deposits add to the vault, withdrawals
//! move amounts to a recipient's withdrawn total.
//!
//! A withdrawal is authorised by a signature over a domain-separated message, so one
//! signature can never be replayed on another vault, another chain, for another recipient
//! or amount, or under another nonce:
//!
//!     keccak256(tag ‖ vault address ‖ to ‖ amount u64 LE ‖ nonce u64 LE ‖ chain id u64 LE)
//!
//! where tag is "ghost/vault/v1/single" or "ghost/vault/v1/multi" (so a single-key
//! signature is never accepted as a member's multi-sig one). Nonces count up from 0, one
//! per withdrawal, shared by both paths.
const std = @import("std");
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

const owner_pk_key = "owner_pk";
const multisig_key = "multisig";
const nonce_key = "nonce";
const balance_key = "balance";

const single_tag = "ghost/vault/v1/single";
const multi_tag = "ghost/vault/v1/multi";

fn keyFor(comptime prefix: []const u8, who: ghost.Address) [prefix.len + 20]u8 {
    var key: [prefix.len + 20]u8 = undefined;
    @memcpy(key[0..prefix.len], prefix);
    @memcpy(key[prefix.len..], &who);
    return key;
}

/// The 32-byte message a withdrawal's signature(s) cover.
fn withdrawalMessage(comptime tag: []const u8, to: ghost.Address, amount: u64, nonce: u64) [32]u8 {
    var buf: [tag.len + 20 + 20 + 8 + 8 + 8]u8 = undefined;
    @memcpy(buf[0..tag.len], tag);
    var at: usize = tag.len;
    const self = ghost.selfAddress();
    @memcpy(buf[at .. at + 20], &self);
    at += 20;
    @memcpy(buf[at .. at + 20], &to);
    at += 20;
    std.mem.writeInt(u64, buf[at..][0..8], amount, .little);
    std.mem.writeInt(u64, buf[at + 8 ..][0..8], nonce, .little);
    std.mem.writeInt(u64, buf[at + 16 ..][0..8], ghost.chainId(), .little);
    return ghost.crypto.keccak256(&buf);
}

/// The constructor: set the owner's encoded public key (scheme id ‖ raw) and the
/// multi-sig account descriptor (ghost's canonical MultisigAccount bytes; empty for none).
/// It runs once, inside the deploy transaction, so nobody can claim the vault first.
pub fn init(owner_pk: []const u8, multisig: []const u8) !void {
    // scheme id ‖ at least one byte; the scheme itself is checked at every verification.
    if (owner_pk.len < 2) return error.BadKey;
    // threshold u8 ‖ n u8 ‖ members: enough to count signatures against; the host parses
    // the rest canonically on every check.
    if (multisig.len != 0 and (multisig.len < 2 or multisig[0] == 0 or multisig[0] > multisig[1]))
        return error.BadDescriptor;
    ghost.storage.setBytes(owner_pk_key, owner_pk);
    ghost.storage.setBytes(multisig_key, multisig);
}

/// Credit `amount` to the vault (and to the caller's deposited total); emits "Deposited".
/// event Deposited(from: ghost.Address indexed, amount: u64)
pub fn deposit(amount: u64) !void {
    const total = ghost.storage.get(u64, balance_key);
    const new_total = std.math.add(u64, total, amount) catch return error.Overflow;
    ghost.storage.set(u64, balance_key, new_total);
    const from = ghost.caller();
    const key = keyFor("dep:", from);
    ghost.storage.set(u64, &key, ghost.storage.get(u64, &key) +| amount);
    var data: [8]u8 = undefined;
    std.mem.writeInt(u64, &data, amount, .little);
    ghost.emit("Deposited", &.{ghost.topic(from)}, &data);
}

/// Release `amount` to `to`, signed by the owner's key over the withdrawal message with
/// this `nonce`. Reverts with BadSignature, Replayed (a nonce already used), BadNonce (one
/// ahead of the next) or InsufficientFunds; nothing changes on a revert.
pub fn withdraw(to: ghost.Address, amount: u64, nonce: u64, sig: []const u8) !void {
    const pk = ghost.storage.getBytes(owner_pk_key) orelse return error.NotInitialized;
    const msg = withdrawalMessage(single_tag, to, amount, nonce);
    if (!ghost.crypto.verify(pk, &msg, sig)) return error.BadSignature;
    try release(to, amount, nonce);
}

/// Release `amount` to `to` against `sigs`, signatures of at least the threshold's
/// number of distinct members of the multi-sig account set by the constructor, over the withdrawal
/// message tagged "multi". `sigs` is count u8 ‖ count × (member index u8 ‖ length u16 BE ‖
/// encoded signature), members in increasing index order. Reverts with BelowThreshold when
/// fewer signatures than the threshold are given, BadSignature when any fails, and the
/// nonce and funds errors of `withdraw`.
pub fn withdraw_multi(to: ghost.Address, amount: u64, nonce: u64, sigs: []const u8) !void {
    const account = ghost.storage.getBytes(multisig_key) orelse return error.NotInitialized;
    if (account.len == 0) return error.NoMultisig;
    // Counted here so a short list reads as what it is; the host checks each one.
    if (sigs.len < 1 or sigs[0] < account[0]) return error.BelowThreshold;
    const msg = withdrawalMessage(multi_tag, to, amount, nonce);
    if (!ghost.crypto.multisigVerify(account, &msg, sigs)) return error.BadSignature;
    try release(to, amount, nonce);
}

/// event Withdrawn(to: ghost.Address indexed, amount: u64, nonce: u64)
fn release(to: ghost.Address, amount: u64, nonce: u64) !void {
    const next = ghost.storage.get(u64, nonce_key);
    if (nonce < next) return error.Replayed;
    if (nonce > next) return error.BadNonce;
    const total = ghost.storage.get(u64, balance_key);
    if (total < amount) return error.InsufficientFunds;
    ghost.storage.set(u64, nonce_key, next + 1);
    ghost.storage.set(u64, balance_key, total - amount);
    const key = keyFor("out:", to);
    ghost.storage.set(u64, &key, ghost.storage.get(u64, &key) +| amount);
    var data: [16]u8 = undefined;
    std.mem.writeInt(u64, data[0..8], amount, .little);
    std.mem.writeInt(u64, data[8..16], nonce, .little);
    ghost.emit("Withdrawn", &.{ghost.topic(to)}, &data);
}

/// What the vault holds.
pub fn balance() u64 {
    return ghost.storage.get(u64, balance_key);
}

/// The nonce the next withdrawal must carry.
pub fn next_nonce() u64 {
    return ghost.storage.get(u64, nonce_key);
}

/// Everything released to `who` so far.
pub fn withdrawn(who: ghost.Address) u64 {
    const key = keyFor("out:", who);
    return ghost.storage.get(u64, &key);
}

/// Everything `who` has deposited.
pub fn deposited(who: ghost.Address) u64 {
    const key = keyFor("dep:", who);
    return ghost.storage.get(u64, &key);
}

/// The owner's encoded public key, set by the constructor.
pub fn owner_key() []const u8 {
    return ghost.storage.getBytes(owner_pk_key) orelse "";
}

/// The multi-sig account descriptor set by the constructor (empty for none).
pub fn multisig_account() []const u8 {
    return ghost.storage.getBytes(multisig_key) orelse "";
}
