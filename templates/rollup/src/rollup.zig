//! A rollup's settlement contract: a committee of sequencers (BLS12-381 keys, each with a
//! proof of possession) signs each batch's state root; a batch is accepted when the
//! aggregate of at least `threshold` members' signatures checks against their keys.
//! Anyone can then prove a storage value of the rollup's state against an accepted root
//! with a ghost state-tree proof (the bytes of ghost_cli.crypto.proof.Proof.to_bytes).
//!
//! The committee signs, per batch,
//!
//!     keccak256("ghost/rollup/v1" ‖ contract address ‖ chain id u64 LE ‖ index u64 LE ‖ root)
//!
//! so a batch signature cannot be replayed on another rollup, chain or index. Proofs of
//! possession are passed to the host on every check, which is what stops a rogue key
//! (pk_rogue = x·g1 − pk_victim) from forging a victim's part of an aggregate.
const std = @import("std");
const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

const pk_len = 48; // compressed G1 (raw, without the scheme id)
const pop_len = 96; // compressed G2
const max_members = 64; // one bit of the signers bitmap each

const keys_key = "committee";
const pops_key = "pops";
const threshold_key = "threshold";
const count_key = "batches";
const domain = "ghost/rollup/v1";

fn batchKey(index: u64) [14]u8 {
    var key: [14]u8 = undefined;
    @memcpy(key[0..6], "batch:");
    std.mem.writeInt(u64, key[6..14], index, .little);
    return key;
}

fn batchMessage(index: u64, root: []const u8) [32]u8 {
    var buf: [domain.len + 20 + 8 + 8 + 32]u8 = undefined;
    @memcpy(buf[0..domain.len], domain);
    const self = ghost.selfAddress();
    @memcpy(buf[domain.len..][0..20], &self);
    std.mem.writeInt(u64, buf[domain.len + 20 ..][0..8], ghost.chainId(), .little);
    std.mem.writeInt(u64, buf[domain.len + 28 ..][0..8], index, .little);
    @memcpy(buf[domain.len + 36 ..][0..32], root);
    return ghost.crypto.keccak256(&buf);
}

/// Register the committee: `public_keys` is n × 48-byte BLS public keys, `pops` their
/// n × 96-byte proofs of possession in the same order, and how many must sign
/// a batch (`signers_needed`, 1..n, n ≤ 64). The constructor: it runs once, inside the
/// deploy transaction, so nobody can install another committee first.
pub fn init(public_keys: []const u8, pops: []const u8, signers_needed: u64) !void {
    if (public_keys.len == 0 or public_keys.len % pk_len != 0) return error.BadCommittee;
    const n = public_keys.len / pk_len;
    if (n > max_members or pops.len != n * pop_len) return error.BadCommittee;
    if (signers_needed == 0 or signers_needed > n) return error.BadThreshold;
    ghost.storage.setBytes(keys_key, public_keys);
    ghost.storage.setBytes(pops_key, pops);
    ghost.storage.set(u64, threshold_key, signers_needed);
}

/// Accept batch `index` (the next one: batches are posted in order from 0) with
/// `state_root` (32 bytes), signed by the members whose bits are set in `signers_bitmap`
/// (bit i: member i), `agg_sig` their aggregate signature. Emits "BatchPosted" (topic:
/// the index; data: the root). Reverts with BadIndex, BadRoot, UnknownSigner,
/// BelowThreshold or BadAggregate.
/// event BatchPosted(index: u64 indexed, root: bytes32)
pub fn post_batch(index: u64, state_root: []const u8, signers_bitmap: u64, agg_sig: []const u8) !void {
    const keys = ghost.storage.getBytes(keys_key) orelse return error.NotInitialized;
    if (index != ghost.storage.get(u64, count_key)) return error.BadIndex;
    if (state_root.len != 32) return error.BadRoot;
    const n = keys.len / pk_len;
    if (n < max_members and signers_bitmap >> @intCast(n) != 0) return error.UnknownSigner;
    if (@popCount(signers_bitmap) < ghost.storage.get(u64, threshold_key)) return error.BelowThreshold;

    // Gather the signers' keys and proofs, in member order, for the host.
    const pops = ghost.storage.getBytes(pops_key) orelse return error.NotInitialized;
    var pk_buf: [max_members * pk_len]u8 = undefined;
    var pop_buf: [max_members * pop_len]u8 = undefined;
    var k: usize = 0;
    for (0..n) |i| {
        if ((signers_bitmap >> @intCast(i)) & 1 == 0) continue;
        @memcpy(pk_buf[k * pk_len ..][0..pk_len], keys[i * pk_len ..][0..pk_len]);
        @memcpy(pop_buf[k * pop_len ..][0..pop_len], pops[i * pop_len ..][0..pop_len]);
        k += 1;
    }
    const msg = batchMessage(index, state_root);
    if (!ghost.crypto.blsAggregateVerify(pk_buf[0 .. k * pk_len], pop_buf[0 .. k * pop_len], &msg, agg_sig))
        return error.BadAggregate;

    const key = batchKey(index);
    ghost.storage.setBytes(&key, state_root);
    ghost.storage.set(u64, count_key, index + 1);
    ghost.emit("BatchPosted", &.{ghost.topic(index)}, state_root);
}

/// Prove that, in the state whose root batch `index` committed, storage `key` of contract
/// `address` holds `value`; `proof` is a ghost state-tree proof in its byte form. True,
/// or a revert: UnknownBatch (not posted) or BadProof (does not verify).
pub fn prove(index: u64, address: ghost.Address, key: []const u8, value: []const u8, proof: []const u8) !bool {
    const bk = batchKey(index);
    const root = ghost.storage.getBytes(&bk) orelse return error.UnknownBatch;
    if (!ghost.crypto.merkleVerify(root[0..32].*, address, key, value, proof)) return error.BadProof;
    return true;
}

/// The state root batch `index` committed (empty when not posted).
pub fn batch_root(index: u64) []const u8 {
    const bk = batchKey(index);
    return ghost.storage.getBytes(&bk) orelse "";
}

/// How many batches have been posted (the next batch's index).
pub fn batch_count() u64 {
    return ghost.storage.get(u64, count_key);
}

/// Signatures a batch needs.
pub fn threshold() u64 {
    return ghost.storage.get(u64, threshold_key);
}

/// Members of the committee.
pub fn committee_size() u64 {
    const keys = ghost.storage.getBytes(keys_key) orelse return 0;
    return keys.len / pk_len;
}
