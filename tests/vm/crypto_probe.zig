//! Exercises every crypto host function through the SDK (tests/vm/test_host_crypto.py).
const std = @import("std");
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

var out: [4096]u8 = undefined;

fn give(bytes: []const u8) []const u8 {
    @memcpy(out[0..bytes.len], bytes);
    return out[0..bytes.len];
}

pub fn sha256(data: []const u8) []const u8 {
    return give(&ghost.crypto.sha256(data));
}

pub fn keccak256(data: []const u8) []const u8 {
    return give(&ghost.crypto.keccak256(data));
}

pub fn blake2b256(data: []const u8) []const u8 {
    return give(&ghost.crypto.blake2b256(data));
}

/// The same SHA-256, compiled into the contract from Zig's std (the bench's baseline).
pub fn sha256InContract(data: []const u8) []const u8 {
    var h: [32]u8 = undefined;
    std.crypto.hash.sha2.Sha256.hash(data, &h, .{});
    return give(&h);
}

pub fn keccak256InContract(data: []const u8) []const u8 {
    var h: [32]u8 = undefined;
    std.crypto.hash.sha3.Keccak256.hash(data, &h, .{});
    return give(&h);
}

pub fn blake2b256InContract(data: []const u8) []const u8 {
    var h: [32]u8 = undefined;
    std.crypto.hash.blake2.Blake2b256.hash(data, &h, .{});
    return give(&h);
}

pub fn verify(pk: []const u8, msg: []const u8, sig: []const u8) bool {
    return ghost.crypto.verify(pk, msg, sig);
}

pub fn multisigVerify(desc: []const u8, msg: []const u8, sigs: []const u8) bool {
    return ghost.crypto.multisigVerify(desc, msg, sigs);
}

pub fn blsAggregateVerify(pks: []const u8, pops: []const u8, msg: []const u8, agg: []const u8) bool {
    return ghost.crypto.blsAggregateVerify(pks, pops, msg, agg);
}

pub fn kemEncapsulate(pk: []const u8, seed: []const u8) ![]const u8 {
    if (seed.len != 32) return error.BadSeed;
    const e = try ghost.crypto.kemEncapsulate(pk, seed[0..32].*);
    @memcpy(out[0..e.ciphertext.len], &e.ciphertext);
    @memcpy(out[e.ciphertext.len .. e.ciphertext.len + 32], &e.shared_secret);
    return out[0 .. e.ciphertext.len + 32];
}

pub fn kemDecapsulate(sk: []const u8, ct: []const u8) ![]const u8 {
    return give(&(try ghost.crypto.kemDecapsulate(sk, ct)));
}

pub fn keygenSeeded(scheme_id: u8, seed: []const u8) ![]const u8 {
    if (seed.len != 32) return error.BadSeed;
    return try ghost.crypto.keygenSeeded(scheme_id, seed[0..32].*, &out);
}

pub fn merkleVerify(root: []const u8, address: ghost.Address, key: []const u8, value: []const u8, proof: []const u8) bool {
    if (root.len != 32) return false;
    return ghost.crypto.merkleVerify(root[0..32].*, address, key, value, proof);
}

pub fn merkleVerifyAbsent(root: []const u8, address: ghost.Address, key: []const u8, proof: []const u8) bool {
    if (root.len != 32) return false;
    return ghost.crypto.merkleVerify(root[0..32].*, address, key, null, proof);
}

/// A raw host call whose input runs past the end of memory: HostMemoryError.
pub fn outOfBounds(len: u32) bool {
    var h: [32]u8 = undefined;
    ghost.host.hash_sha256(@ptrFromInt(0x7fff_0000), len, &h);
    return h[0] == 0;
}

/// A raw sig_verify with a huge message length: the message limit traps.
pub fn tooLong() bool {
    const b = [1]u8{0};
    return ghost.host.sig_verify(&b, 1, &b, 0x7fff_ffff, &b, 1) == 1;
}
