//! ghost contract SDK: typed wrappers over the host ABI v1 imports (module "ghost"), the
//! ABI v2 codec, typed storage and typed events.
//!
//! A contract is one Zig file that imports this module and exports itself:
//!
//!     const ghost = @import("ghost");
//!     comptime { ghost.exportContract(@This()); }
//!
//!     const count = ghost.Value(u64, "count");
//!
//!     /// Doc comments become the function's documentation in the ABI.
//!     pub fn get() u64 { return count.get(); }
//!
//! Every top-level `pub fn` whose parameters and result are ABI types (`abi.isType`:
//! integers u8..u256 and i8..i256, bool, Address, [N]u8, []const u8, String, arrays,
//! slices, optionals, tuples, structs and enums of those) becomes a contract function;
//! any other `pub fn` is a helper. `exportFunctions(@This(), .{ "a", "b" })` exports an
//! explicit list instead. Arguments and results use the ghost ABI encoding (docs/abi.md).
//! A function declared `!T` that returns an error reverts with the error's name.
//!
//! ABI v2 breaking change: `String` is `[:0]const u8` (was `[]const u8`); literals coerce,
//! text built at run time needs its sentinel (see `String`).
//!
//! The host functions below must match ghost_cli/vm/host_table.py exactly; `ghost build`
//! rejects a module whose imports differ from that table.
const std = @import("std");

/// A 20-byte account or contract address.
pub const Address = [20]u8;

/// UTF-8 text, the ABI type `string`: a 0-terminated slice, so a distinct Zig type from
/// `[]const u8` (the ABI type `bytes`). String literals coerce to it; text built at run
/// time needs its sentinel (`buf[0..n :0]` after writing `buf[n] = 0`). Call data that is
/// not valid UTF-8 is refused ("ghost: invalid utf-8"). Before ABI v2 `String` was
/// `[]const u8`: a function returning a run-time `[]const u8` as `String` must now add
/// the sentinel or return `[]const u8` (bytes).
pub const String = [:0]const u8;

/// Raw host imports (host ABI v1). Pointers are offsets into this module's linear memory;
/// wasm i32 is u32/i32 here and i64 is u64.
pub const host = struct {
    /// Copy up to out_cap bytes of the value under key to out; the value's full length, or -1 when absent.
    pub extern "ghost" fn storage_read(key: [*]const u8, key_len: u32, out: [*]u8, out_cap: u32) i32;
    /// Store val under key, replacing any earlier value.
    pub extern "ghost" fn storage_write(key: [*]const u8, key_len: u32, val: [*]const u8, val_len: u32) void;
    /// Remove key; removing an absent key is not an error.
    pub extern "ghost" fn storage_delete(key: [*]const u8, key_len: u32) void;
    /// 1 when key is present, else 0.
    pub extern "ghost" fn storage_has(key: [*]const u8, key_len: u32) i32;
    /// Length of the call data.
    pub extern "ghost" fn input_size() u32;
    /// Copy len bytes of call data starting at offset to out.
    pub extern "ghost" fn input_copy(out: [*]u8, offset: u32, len: u32) void;
    /// Set the call's return data (the last call wins).
    pub extern "ghost" fn set_return(data: [*]const u8, len: u32) void;
    /// Abort the call with a UTF-8 reason, undoing its state changes and events.
    pub extern "ghost" fn revert(msg: [*]const u8, len: u32) noreturn;
    /// Emit an event: topic_count 32-byte topics (at most 4) and data.
    pub extern "ghost" fn emit_event(topics: [*]const u8, topic_count: u32, data: [*]const u8, data_len: u32) void;
    /// Write the 20-byte address of the account that made this call.
    pub extern "ghost" fn caller(out: [*]u8) void;
    /// Write the contract's own 20-byte address.
    pub extern "ghost" fn self_address(out: [*]u8) void;
    /// Height of the block this call executes in.
    pub extern "ghost" fn block_height() u64;
    /// Timestamp of that block, Unix seconds.
    pub extern "ghost" fn block_time() u64;
    /// The chain id of the network.
    pub extern "ghost" fn chain_id() u64;
    /// Gas remaining for this call.
    pub extern "ghost" fn gas_left() u64;
    /// Record a debug message in the receipt's logs.
    pub extern "ghost" fn debug_log(msg: [*]const u8, len: u32) void;
    /// Write the 32-byte SHA-256 of data to out.
    pub extern "ghost" fn hash_sha256(data: [*]const u8, len: u32, out: [*]u8) void;
    /// Write the 32-byte Keccak-256 of data to out.
    pub extern "ghost" fn hash_keccak256(data: [*]const u8, len: u32, out: [*]u8) void;
    /// Write the 32-byte BLAKE2b-256 of data to out.
    pub extern "ghost" fn hash_blake2b256(data: [*]const u8, len: u32, out: [*]u8) void;
    /// 1 when sig (scheme id ‖ raw) signs msg under pk (scheme id ‖ raw), else 0.
    pub extern "ghost" fn sig_verify(pk: [*]const u8, pk_len: u32, msg: [*]const u8, msg_len: u32, sig: [*]const u8, sig_len: u32) i32;
    /// 1 when at least threshold distinct members of the descriptor signed msg, else 0.
    pub extern "ghost" fn multisig_verify(desc: [*]const u8, desc_len: u32, msg: [*]const u8, msg_len: u32, sigs: [*]const u8, sigs_len: u32) i32;
    /// 1 when agg aggregates every key's BLS signature on msg and every proof of possession holds.
    pub extern "ghost" fn bls_aggregate_verify(pks: [*]const u8, pks_len: u32, pops: [*]const u8, pops_len: u32, msg: [*]const u8, msg_len: u32, agg: [*]const u8, agg_len: u32) i32;
    /// ML-KEM-768 encapsulation, deterministic in the 32-byte seed; 1, or 0 when malformed.
    pub extern "ghost" fn kem_encapsulate(pk: [*]const u8, pk_len: u32, seed: [*]const u8, seed_len: u32, ct_out: [*]u8, ss_out: [*]u8) i32;
    /// ML-KEM-768 decapsulation; 1, or 0 when malformed.
    pub extern "ghost" fn kem_decapsulate(sk: [*]const u8, sk_len: u32, ct: [*]const u8, ct_len: u32, ss_out: [*]u8) i32;
    /// The encoded public key of a 32-byte seed: its full length, or -1 when not possible.
    pub extern "ghost" fn keygen_seeded(scheme_id: u32, seed: [*]const u8, seed_len: u32, pk_out: [*]u8, pk_cap: u32) i32;
    /// 1 when the state proof holds under root (value_len 0xFFFFFFFF: proves absence), else 0.
    pub extern "ghost" fn merkle_verify(root: [*]const u8, address: [*]const u8, key: [*]const u8, key_len: u32, value: [*]const u8, value_len: u32, proof: [*]const u8, proof_len: u32) i32;
    /// Record the message of a panic; the caller traps right after (see `panic` below).
    pub extern "ghost" fn panic(msg: [*]const u8, len: u32) void;
};

// Scratch memory for call data, variable-length storage values and encoded results. The
// host runs each call in a fresh instance, so it is never freed, only bounded.
// 64 KiB: room for the call data of a slh-dsa-sha2-128f signature check (17 KiB signature).
var scratch: [64 * 1024]u8 = undefined;
fn alloc(n: usize) []u8 {
    return allocOf(u8, n);
}

/// Abort the call with a reason; every state change and event of the call is undone.
pub fn revert(msg: []const u8) noreturn {
    host.revert(msg.ptr, @intCast(msg.len));
}

/// Record a debug message in the receipt's logs; never affects state.
pub fn log(msg: []const u8) void {
    host.debug_log(msg.ptr, @intCast(msg.len));
}

/// The account that made this call.
pub fn caller() Address {
    var a: Address = undefined;
    host.caller(&a);
    return a;
}

/// This contract's own address.
pub fn selfAddress() Address {
    var a: Address = undefined;
    host.self_address(&a);
    return a;
}

/// Height of the block this call executes in.
pub fn blockHeight() u64 {
    return host.block_height();
}

/// Timestamp of that block, Unix seconds.
pub fn blockTime() u64 {
    return host.block_time();
}

/// The chain id of the network.
pub fn chainId() u64 {
    return host.chain_id();
}

/// Gas remaining for this call.
pub fn gasLeft() u64 {
    return host.gas_left();
}

/// Hashes, signature checks, ML-KEM and state proofs, computed by the host (much cheaper
/// in gas than the same code compiled into the contract; see docs/host-abi.md).
/// Encodings: docs/host-abi.md. Verifiers never trap on malformed input: they say false.
pub const crypto = struct {
    /// Signature scheme ids: the first byte of every encoded key and signature.
    pub const scheme = struct {
        pub const ml_dsa_44: u8 = 1;
        pub const ml_dsa_65: u8 = 2;
        pub const ml_dsa_87: u8 = 3;
        pub const slh_dsa_sha2_128s: u8 = 4;
        pub const slh_dsa_sha2_128f: u8 = 5;
        pub const ed25519: u8 = 16;
        pub const schnorr_secp256k1: u8 = 17;
        pub const bls12_381: u8 = 18;
    };
    pub const kem_public_key_len = 1184;
    pub const kem_secret_key_len = 64;
    pub const kem_ciphertext_len = 1088;

    pub fn sha256(data: []const u8) [32]u8 {
        var out: [32]u8 = undefined;
        host.hash_sha256(data.ptr, @intCast(data.len), &out);
        return out;
    }
    /// Ethereum's Keccak-256 (not SHA3-256).
    pub fn keccak256(data: []const u8) [32]u8 {
        var out: [32]u8 = undefined;
        host.hash_keccak256(data.ptr, @intCast(data.len), &out);
        return out;
    }
    pub fn blake2b256(data: []const u8) [32]u8 {
        var out: [32]u8 = undefined;
        host.hash_blake2b256(data.ptr, @intCast(data.len), &out);
        return out;
    }
    /// Whether `sig` signs `msg` under `pk`; both encoded as scheme id ‖ raw, any scheme.
    pub fn verify(pk: []const u8, msg: []const u8, sig: []const u8) bool {
        return host.sig_verify(pk.ptr, @intCast(pk.len), msg.ptr, @intCast(msg.len), sig.ptr, @intCast(sig.len)) == 1;
    }
    /// Whether at least threshold distinct members of the multi-sig descriptor `desc`
    /// (MultisigAccount canonical bytes) signed `msg`. `sigs`: count u8, then per signature
    /// member index u8 ‖ length u16 big-endian ‖ encoded signature.
    pub fn multisigVerify(desc: []const u8, msg: []const u8, sigs: []const u8) bool {
        return host.multisig_verify(desc.ptr, @intCast(desc.len), msg.ptr, @intCast(msg.len), sigs.ptr, @intCast(sigs.len)) == 1;
    }
    /// BLS12-381, one message: `pks` n × 48-byte keys, `pops` their n × 96-byte proofs of
    /// possession, `agg` the 96-byte aggregate signature. Rogue-key safe.
    pub fn blsAggregateVerify(pks: []const u8, pops: []const u8, msg: []const u8, agg: []const u8) bool {
        return host.bls_aggregate_verify(pks.ptr, @intCast(pks.len), pops.ptr, @intCast(pops.len), msg.ptr, @intCast(msg.len), agg.ptr, @intCast(agg.len)) == 1;
    }
    pub const Encapsulation = struct {
        ciphertext: [kem_ciphertext_len]u8,
        shared_secret: [32]u8,
    };
    /// ML-KEM-768 to `pk`, deterministic: the same seed gives the same ciphertext.
    pub fn kemEncapsulate(pk: []const u8, seed: [32]u8) error{MalformedKemKey}!Encapsulation {
        var e: Encapsulation = undefined;
        if (host.kem_encapsulate(pk.ptr, @intCast(pk.len), &seed, 32, &e.ciphertext, &e.shared_secret) != 1)
            return error.MalformedKemKey;
        return e;
    }
    /// The ML-KEM-768 shared secret of `ct` under `sk` (the 64-byte seed d ‖ z).
    pub fn kemDecapsulate(sk: []const u8, ct: []const u8) error{MalformedKemInput}![32]u8 {
        var ss: [32]u8 = undefined;
        if (host.kem_decapsulate(sk.ptr, @intCast(sk.len), ct.ptr, @intCast(ct.len), &ss) != 1)
            return error.MalformedKemInput;
        return ss;
    }
    /// The encoded public key a 32-byte seed gives under `scheme_id`, written to `out`.
    pub fn keygenSeeded(scheme_id: u8, seed: [32]u8, out: []u8) error{ NoSeededKeygen, BufferTooSmall }![]u8 {
        const n = host.keygen_seeded(scheme_id, &seed, 32, out.ptr, @intCast(out.len));
        if (n < 0) return error.NoSeededKeygen;
        if (@as(usize, @intCast(n)) > out.len) return error.BufferTooSmall;
        return out[0..@intCast(n)];
    }
    /// Whether `proof` (ghost's state-proof bytes) shows that storage `key` of `address`
    /// holds `value` under `root`; `value` null proves the key absent.
    pub fn merkleVerify(root: [32]u8, address: Address, key: []const u8, value: ?[]const u8, proof: []const u8) bool {
        const v: []const u8 = value orelse key[0..0];
        const v_len: u32 = if (value == null) 0xFFFF_FFFF else @intCast(v.len);
        return host.merkle_verify(&root, &address, key.ptr, @intCast(key.len), v.ptr, v_len, proof.ptr, @intCast(proof.len)) == 1;
    }
};

/// Storage of byte strings and fixed-width integers under byte-string keys.
pub const storage = struct {
    /// Whether a value is stored under `key`.
    pub fn has(key: []const u8) bool {
        return host.storage_has(key.ptr, @intCast(key.len)) != 0;
    }
    /// Remove `key`; removing an absent key is not an error.
    pub fn remove(key: []const u8) void {
        host.storage_delete(key.ptr, @intCast(key.len));
    }
    /// Store `value` under `key`, replacing any earlier value.
    pub fn setBytes(key: []const u8, value: []const u8) void {
        host.storage_write(key.ptr, @intCast(key.len), value.ptr, @intCast(value.len));
    }
    /// The stored bytes, or null when the key is absent.
    pub fn getBytes(key: []const u8) ?[]const u8 {
        const n = host.storage_read(key.ptr, @intCast(key.len), &scratch, 0);
        if (n < 0) return null;
        const buf = alloc(@intCast(n));
        _ = host.storage_read(key.ptr, @intCast(key.len), buf.ptr, @intCast(buf.len));
        return buf;
    }
    /// Store an integer little-endian at its width.
    pub fn set(comptime T: type, key: []const u8, value: T) void {
        var buf: [@sizeOf(T)]u8 = undefined;
        std.mem.writeInt(T, &buf, value, .little);
        setBytes(key, &buf);
    }
    /// The stored integer, or 0 when absent.
    pub fn get(comptime T: type, key: []const u8) T {
        var buf: [@sizeOf(T)]u8 = undefined;
        const n = host.storage_read(key.ptr, @intCast(key.len), &buf, buf.len);
        if (n < 0) return 0;
        if (n != buf.len) revert("ghost: stored value has the wrong width");
        return std.mem.readInt(T, &buf, .little);
    }
};

/// Emit an event: topic 0 is the event name (at most 32 bytes), zero-padded.
pub fn emit(comptime name: []const u8, topics: []const [32]u8, data: []const u8) void {
    if (name.len > 32) @compileError("ghost: event name longer than 32 bytes: " ++ name);
    if (topics.len > 3) revert("ghost: at most 3 topics besides the name");
    var all: [4][32]u8 = undefined;
    all[0] = @splat(0);
    @memcpy(all[0][0..name.len], name);
    for (topics, 0..) |t, i| all[i + 1] = t;
    host.emit_event(@ptrCast(&all), @intCast(topics.len + 1), data.ptr, @intCast(data.len));
}

/// A topic from an address, bool, integer (up to 256 bits), ABI enum (its byte), `[N]u8`
/// (N <= 32) or byte string or `String` (up to 32 bytes), left-aligned and zero-padded;
/// integers little-endian.
pub fn topic(value: anytype) [32]u8 {
    var t: [32]u8 = @splat(0);
    const V = @TypeOf(value);
    if (V == Address) {
        @memcpy(t[0..20], &value);
    } else if (V == bool) {
        t[0] = @intFromBool(value);
    } else if (V == comptime_int) {
        std.mem.writeInt(u256, &t, value, .little);
    } else if (V == []const u8 or V == []u8 or V == String) {
        if (value.len > 32) revert("ghost: a byte-string topic is at most 32 bytes");
        @memcpy(t[0..value.len], value);
    } else switch (@typeInfo(V)) {
        .int => |info| {
            if (info.bits > 256 or info.bits % 8 != 0)
                @compileError("ghost: topic integers are 8..256 bits in whole bytes: " ++ @typeName(V));
            std.mem.writeInt(V, t[0 .. info.bits / 8], value, .little);
        },
        .array => |a| {
            if (a.child != u8 or a.len > 32) @compileError("ghost: unsupported topic type " ++ @typeName(V));
            @memcpy(t[0..a.len], &value);
        },
        .@"enum" => {
            if (comptime !abi.isType(V)) @compileError("ghost: unsupported topic type " ++ @typeName(V));
            t[0] = @backingInt(value);
        },
        else => @compileError("ghost: unsupported topic type " ++ @typeName(V)),
    }
    return t;
}

// ---- the ABI codec (docs/abi.md): little-endian, no padding, no alignment ----

/// The ghost ABI codec, generic over Zig types at compile time. Contracts rarely call it:
/// exported functions, `Value`/`Map`/`Vec` and `emitEvent` use it. It never touches the
/// host, so it also runs natively (`zig test`).
///
/// | ABI type | Zig type |
/// |---|---|
/// | `bool` | `bool` (one byte, 0 or 1) |
/// | `u8`..`u256`, `i8`..`i256` | the same (widths 8, 16, 32, 64, 128, 256), little-endian |
/// | `address` | `Address` (`[20]u8`) |
/// | `bytesN` | `[N]u8`, N = 1..32 (N bytes) |
/// | `bytes` | `[]const u8` (u32 length, then the bytes) |
/// | `string` | `String` = `[:0]const u8` (u32 length, then UTF-8; no 0 on the wire) |
/// | `T[N]` | `[N]T` (N elements) |
/// | `T[]` | `[]const T` (u32 count, then the elements) |
/// | `T?` | `?T` (tag byte 0 = null, 1 = a value follows) |
/// | `(T1,T2)` | tuple `struct { T1, T2 }` (elements in order) |
/// | struct | `struct { a: T1, b: T2 }` (fields in declaration order) |
/// | enum | `enum(u8)` or a plain `enum` of at most 256 fields (one byte: the value) |
pub const abi = struct {
    /// Every way call data (or a stored value) can be refused; `reason` gives the revert text.
    pub const Error = error{
        CallDataTooShort,
        CallDataTooLong,
        InvalidBool,
        InvalidUtf8,
        InvalidOptionalTag,
        InvalidEnumValue,
        OutOfMemory,
    };

    /// The revert reason of a decoding error (the same words as the Python decoder's).
    pub fn reason(err: Error) []const u8 {
        return switch (err) {
            error.CallDataTooShort => "ghost: call data too short",
            error.CallDataTooLong => "ghost: call data too long",
            error.InvalidBool => "ghost: invalid bool",
            error.InvalidUtf8 => "ghost: invalid utf-8",
            error.InvalidOptionalTag => "ghost: invalid optional tag",
            error.InvalidEnumValue => "ghost: invalid enum value",
            error.OutOfMemory => "ghost: scratch memory exhausted",
        };
    }

    /// Whether values of `T` can cross the ABI (a parameter, result, stored value or event
    /// field). Integers must be spelled at an ABI width (`usize` is not one).
    pub fn isType(comptime T: type) bool {
        return comptime isTypeAt(T, 0);
    }

    /// A type nested deeper than this is no ABI type: it keeps a recursive type (a struct
    /// holding a slice of itself) a helper's type instead of recursing forever.
    const max_depth = 32;

    fn isTypeAt(comptime T: type, comptime depth: usize) bool {
        if (depth > max_depth) return false;
        if (T == bool or T == String or T == []const u8) return true;
        return switch (@typeInfo(T)) {
            .int => |i| switch (i.bits) {
                8, 16, 32, 64, 128, 256 => T == @Int(i.signedness, i.bits),
                else => false,
            },
            // every ABI type encodes to at least one byte: no `[0]T`, no empty struct or
            // tuple; and an optional of an optional (`??T`) is no ABI type (docs/abi.md)
            .array => |a| a.len >= 1 and T == [a.len]a.child and isTypeAt(a.child, depth + 1),
            .pointer => |p| p.size == .slice and T == []const p.child and isTypeAt(p.child, depth + 1),
            .optional => |o| @typeInfo(o.child) != .optional and isTypeAt(o.child, depth + 1),
            .@"struct" => |s| blk: {
                if (s.layout == .@"packed" or s.field_types.len == 0) break :blk false;
                inline for (s.field_types, s.field_attrs) |F, attrs| {
                    if (attrs.@"comptime" or !isTypeAt(F, depth + 1)) break :blk false;
                }
                break :blk true;
            },
            .@"enum" => |e| e.mode == .exhaustive and e.field_names.len <= 256 and
                @typeInfo(e.tag_type).int.signedness == .unsigned and
                @typeInfo(e.tag_type).int.bits <= 8,
            else => false,
        };
    }

    /// Whether a function can be a contract function: not generic, every parameter an ABI
    /// type, the result void or an ABI type, optionally in an error union.
    pub fn isFunction(comptime F: type) bool {
        const info = switch (@typeInfo(F)) {
            .@"fn" => |f| f,
            else => return false,
        };
        if (info.is_generic or info.attrs.varargs) return false;
        inline for (info.param_types) |P| {
            if (P == null or !isType(P.?)) return false;
        }
        const R = info.return_type orelse return false;
        const V = switch (@typeInfo(R)) {
            .error_union => |eu| eu.payload,
            else => R,
        };
        return V == void or isType(V);
    }

    fn check(comptime T: type) void {
        if (!isType(T)) @compileError("ghost: " ++ @typeName(T) ++ " is not an ABI type (docs/abi.md)");
    }

    /// The fewest bytes any value of `T` encodes to (a length prefix counts, not its data).
    pub fn minSize(comptime T: type) usize {
        if (T == bool) return 1;
        if (T == String) return 4;
        return switch (@typeInfo(T)) {
            .int => |i| i.bits / 8,
            .array => |a| a.len * minSize(a.child),
            .pointer => 4,
            .optional, .@"enum" => 1,
            .@"struct" => |s| blk: {
                var n: usize = 0;
                inline for (s.field_types) |F| n += minSize(F);
                break :blk n;
            },
            else => unreachable,
        };
    }

    /// The size every value of `T` encodes to, or null when it varies (a slice, string or
    /// optional inside).
    pub fn fixedSize(comptime T: type) ?usize {
        if (T == bool) return 1;
        if (T == String) return null;
        return switch (@typeInfo(T)) {
            .int => |i| i.bits / 8,
            .array => |a| if (fixedSize(a.child)) |n| a.len * n else null,
            .pointer, .optional => null,
            .@"enum" => 1,
            .@"struct" => |s| blk: {
                var n: usize = 0;
                inline for (s.field_types) |F| n += fixedSize(F) orelse break :blk null;
                break :blk n;
            },
            else => unreachable,
        };
    }

    /// A bump allocator over a fixed buffer: decoded slices and strings live here. Nothing
    /// is freed (the host runs every call in a fresh instance).
    pub const Arena = struct {
        buf: []u8,
        used: usize = 0,

        pub fn alloc(self: *Arena, comptime T: type, n: usize) Error![]T {
            const base = @intFromPtr(self.buf.ptr);
            const start = std.mem.alignForward(usize, base + self.used, @alignOf(T)) - base;
            const bytes = std.math.mul(usize, n, @sizeOf(T)) catch return error.OutOfMemory;
            if (start > self.buf.len or bytes > self.buf.len - start) return error.OutOfMemory;
            self.used = start + bytes;
            const out: [*]T = @ptrCast(@alignCast(self.buf.ptr + start));
            return out[0..n];
        }
    };

    /// Reads ABI values from `data`; `[]const u8` results point into `data`, other slices
    /// and strings are copied to `arena`.
    pub const Decoder = struct {
        data: []const u8,
        pos: usize = 0,
        arena: *Arena,

        fn take(self: *Decoder, n: usize) Error![]const u8 {
            if (n > self.data.len - self.pos) return error.CallDataTooShort;
            const s = self.data[self.pos .. self.pos + n];
            self.pos += n;
            return s;
        }

        fn length(self: *Decoder) Error!usize {
            return std.mem.readInt(u32, (try self.take(4))[0..4], .little);
        }

        /// The next value of type `T`.
        pub fn decode(self: *Decoder, comptime T: type) Error!T {
            comptime check(T);
            if (T == bool) return switch ((try self.take(1))[0]) {
                0 => false,
                1 => true,
                else => error.InvalidBool,
            };
            if (T == String) {
                const text = try self.take(try self.length());
                if (!validUtf8(text)) return error.InvalidUtf8;
                const out = try self.arena.alloc(u8, text.len + 1);
                @memcpy(out[0..text.len], text);
                out[text.len] = 0;
                return out[0..text.len :0];
            }
            switch (@typeInfo(T)) {
                .int => return std.mem.readInt(T, (try self.take(@sizeOf(T)))[0..@sizeOf(T)], .little),
                .array => |a| {
                    if (a.child == u8) return (try self.take(a.len))[0..a.len].*;
                    var out: T = undefined;
                    for (&out) |*e| e.* = try self.decode(a.child);
                    return out;
                },
                .pointer => |p| {
                    const n = try self.length();
                    if (p.child == u8) return self.take(n);
                    // refuse a count the rest of the input cannot hold before allocating
                    const min = comptime minSize(p.child);
                    if (min > 0 and n > (self.data.len - self.pos) / min) return error.CallDataTooShort;
                    const out = try self.arena.alloc(p.child, n);
                    for (out) |*e| e.* = try self.decode(p.child);
                    return out;
                },
                .optional => |o| return switch ((try self.take(1))[0]) {
                    0 => null,
                    1 => try self.decode(o.child),
                    else => error.InvalidOptionalTag,
                },
                .@"struct" => |s| {
                    var out: T = undefined;
                    inline for (s.field_names, s.field_types) |name, F| {
                        @field(out, name) = try self.decode(F);
                    }
                    return out;
                },
                .@"enum" => |e| {
                    const b = (try self.take(1))[0];
                    inline for (e.field_names) |name| {
                        if (b == @backingInt(@field(T, name))) return @field(T, name);
                    }
                    return error.InvalidEnumValue;
                },
                else => unreachable,
            }
        }

        /// Refuse input left over after the last value.
        pub fn finish(self: *const Decoder) Error!void {
            if (self.pos != self.data.len) return error.CallDataTooLong;
        }
    };

    /// Decode exactly one value of `T` from `data` (extra bytes are refused).
    pub fn decode(comptime T: type, data: []const u8, arena: *Arena) Error!T {
        var d = Decoder{ .data = data, .arena = arena };
        const v = try d.decode(T);
        try d.finish();
        return v;
    }

    /// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or values past
    /// U+10FFFF), as Python's decoder requires.
    pub fn validUtf8(s: []const u8) bool {
        var i: usize = 0;
        while (i < s.len) {
            const c = s[i];
            if (c < 0x80) {
                i += 1;
                continue;
            }
            var n: usize = undefined;
            var lo: u8 = 0x80;
            var hi: u8 = 0xBF;
            if (c >= 0xC2 and c <= 0xDF) {
                n = 1;
            } else if (c >= 0xE0 and c <= 0xEF) {
                n = 2;
                if (c == 0xE0) lo = 0xA0;
                if (c == 0xED) hi = 0x9F;
            } else if (c >= 0xF0 and c <= 0xF4) {
                n = 3;
                if (c == 0xF0) lo = 0x90;
                if (c == 0xF4) hi = 0x8F;
            } else return false;
            if (s.len - i <= n) return false;
            if (s[i + 1] < lo or s[i + 1] > hi) return false;
            var k: usize = 2;
            while (k <= n) : (k += 1) {
                if (s[i + k] < 0x80 or s[i + k] > 0xBF) return false;
            }
            i += n + 1;
        }
        return true;
    }

    /// The number of bytes `value` encodes to.
    pub fn encodedLen(comptime T: type, value: T) usize {
        comptime check(T);
        if (comptime fixedSize(T)) |n| return n;
        if (T == String or T == []const u8) return 4 + value.len;
        switch (@typeInfo(T)) {
            .array => |a| {
                var n: usize = 0;
                for (value) |e| n += encodedLen(a.child, e);
                return n;
            },
            .pointer => |p| {
                var n: usize = 4;
                for (value) |e| n += encodedLen(p.child, e);
                return n;
            },
            .optional => |o| return if (value) |v| 1 + encodedLen(o.child, v) else 1,
            .@"struct" => |s| {
                var n: usize = 0;
                inline for (s.field_names, s.field_types) |name, F| n += encodedLen(F, @field(value, name));
                return n;
            },
            else => unreachable,
        }
    }

    /// Write the encoding of `value` at the start of `out`, which has room for
    /// `encodedLen(T, value)` bytes; returns that length.
    pub fn encodeInto(comptime T: type, value: T, out: []u8) usize {
        comptime check(T);
        if (T == bool) {
            out[0] = @intFromBool(value);
            return 1;
        }
        if (T == String or T == []const u8) {
            std.mem.writeInt(u32, out[0..4], @intCast(value.len), .little);
            @memcpy(out[4 .. 4 + value.len], value);
            return 4 + value.len;
        }
        switch (@typeInfo(T)) {
            .int => {
                std.mem.writeInt(T, out[0..@sizeOf(T)], value, .little);
                return @sizeOf(T);
            },
            .array => |a| {
                if (a.child == u8) {
                    @memcpy(out[0..a.len], &value);
                    return a.len;
                }
                var n: usize = 0;
                for (value) |e| n += encodeInto(a.child, e, out[n..]);
                return n;
            },
            .pointer => |p| {
                std.mem.writeInt(u32, out[0..4], @intCast(value.len), .little);
                var n: usize = 4;
                for (value) |e| n += encodeInto(p.child, e, out[n..]);
                return n;
            },
            .optional => |o| {
                if (value) |v| {
                    out[0] = 1;
                    return 1 + encodeInto(o.child, v, out[1..]);
                }
                out[0] = 0;
                return 1;
            },
            .@"struct" => |s| {
                var n: usize = 0;
                inline for (s.field_names, s.field_types) |name, F| n += encodeInto(F, @field(value, name), out[n..]);
                return n;
            },
            .@"enum" => {
                out[0] = @intCast(@backingInt(value));
                return 1;
            },
            else => unreachable,
        }
    }

    /// The encoding of `value`, in memory from `arena`.
    pub fn encode(comptime T: type, value: T, arena: *Arena) Error![]u8 {
        const out = try arena.alloc(u8, encodedLen(T, value));
        _ = encodeInto(T, value, out);
        return out;
    }

    /// The zero value of `T`: 0, false, empty, null, the first enum field, fields zeroed.
    pub fn zero(comptime T: type) T {
        comptime check(T);
        if (T == bool) return false;
        if (T == String) return "";
        switch (@typeInfo(T)) {
            .int => return 0,
            .array => |a| {
                var out: T = undefined;
                for (&out) |*e| e.* = zero(a.child);
                return out;
            },
            .pointer => return &.{},
            .optional => return null,
            .@"struct" => |s| {
                var out: T = undefined;
                inline for (s.field_names, s.field_types) |name, F| @field(out, name) = zero(F);
                return out;
            },
            .@"enum" => |e| return @field(T, e.field_names[0]),
            else => unreachable,
        }
    }

    /// The short name of a struct or enum as the ABI JSON lists it (`contract.Ballot` -> `Ballot`).
    pub fn shortName(comptime T: type) []const u8 {
        const full = @typeName(T);
        const dot = std.mem.lastIndexOfScalar(u8, full, '.') orelse return full;
        return full[dot + 1 ..];
    }
};

// The arena of every call: call data, decoded values, storage reads and encoded results.
var call_arena = abi.Arena{ .buf = &scratch };

fn allocOf(comptime T: type, n: usize) []T {
    return call_arena.alloc(T, n) catch |err| revert(abi.reason(err));
}

fn returnValue(comptime T: type, value: T) void {
    if (T == void) return;
    const out = abi.encode(T, value, &call_arena) catch |err| revert(abi.reason(err));
    host.set_return(out.ptr, @intCast(out.len));
}

fn dispatch(comptime f: anytype) void {
    const F = @TypeOf(f);
    const info = @typeInfo(F).@"fn";
    const size = host.input_size();
    const input = alloc(size);
    // A call without call data (most calls of a function with no parameters) has
    // nothing to copy: one host call fewer, and its gas, on every such call.
    if (size != 0) host.input_copy(input.ptr, 0, size);
    var decoder = abi.Decoder{ .data = input, .arena = &call_arena };
    var args: std.meta.ArgsTuple(F) = undefined;
    inline for (info.param_types, 0..) |P, i| {
        args[i] = decoder.decode(P.?) catch |err| revert(abi.reason(err));
    }
    decoder.finish() catch |err| revert(abi.reason(err));
    const R = info.return_type.?;
    const result = @call(.auto, f, args);
    switch (@typeInfo(R)) {
        .error_union => |eu| {
            const v = result catch |err| revert(@errorName(err));
            returnValue(eu.payload, v);
        },
        else => returnValue(R, result),
    }
}

fn exportOne(comptime T: type, comptime name: []const u8) void {
    const f = @field(T, name);
    const Wrapper = struct {
        fn entry() callconv(.c) void {
            dispatch(f);
        }
    };
    @export(&Wrapper.entry, .{ .name = name });
}

/// Export every top-level `pub fn` of the contract struct `T` whose parameters and result
/// are ABI types (`abi.isType`) as a contract function. Any other `pub fn` (a pointer,
/// allocator, `anytype` or `comptime` parameter) is a helper: not exported, not in the ABI.
/// Each export takes no wasm arguments: it reads its call data from the host, decodes the
/// arguments, calls the function and hands the encoded result back with `set_return`.
pub fn exportContract(comptime T: type) void {
    inline for (@typeInfo(T).@"struct".decl_names) |name| {
        if (comptime abi.isFunction(@TypeOf(@field(T, name)))) exportOne(T, name);
    }
}

/// Export exactly the named functions of `T`, e.g. `ghost.exportFunctions(@This(),
/// .{ "get", "increment" })`; a name that is missing or not an ABI function is a compile
/// error naming it.
pub fn exportFunctions(comptime T: type, comptime names: anytype) void {
    inline for (names) |name| {
        if (!@hasDecl(T, name))
            @compileError("ghost.exportFunctions: the contract has no pub fn " ++ name);
        if (!abi.isFunction(@TypeOf(@field(T, name))))
            @compileError("ghost.exportFunctions: " ++ name ++
                " is not a contract function (its parameters and result must be ABI types)");
        exportOne(T, name);
    }
}

// ---- typed storage: ABI-encoded values under derived keys (docs/abi.md "Storage layout") ----

/// A storage name is not empty and holds no byte 0x00 or 0x01 (they separate the parts of
/// derived keys, so no two storage objects share a key).
fn checkName(comptime name: []const u8) void {
    if (name.len == 0) @compileError("ghost: a storage name is not empty");
    for (name) |c| {
        if (c == 0 or c == 1) @compileError("ghost: a storage name holds no byte 0x00 or 0x01: " ++ name);
    }
}

fn storeValue(comptime T: type, key: []const u8, value: T) void {
    if (comptime abi.fixedSize(T)) |n| {
        var buf: [n]u8 = undefined;
        _ = abi.encodeInto(T, value, &buf);
        return storage.setBytes(key, &buf);
    }
    const out = abi.encode(T, value, &call_arena) catch |err| revert(abi.reason(err));
    storage.setBytes(key, out);
}

fn loadValue(comptime T: type, key: []const u8) ?T {
    if (comptime abi.fixedSize(T)) |n| {
        var buf: [n]u8 = undefined;
        const got = host.storage_read(key.ptr, @intCast(key.len), &buf, n);
        if (got < 0) return null;
        if (got != n) revert("ghost: stored value has the wrong size");
        return abi.decode(T, &buf, &call_arena) catch |err| revert(abi.reason(err));
    }
    const bytes = storage.getBytes(key) orelse return null;
    return abi.decode(T, bytes, &call_arena) catch |err| revert(abi.reason(err));
}

/// One stored value of ABI type `T` under the key `name`, ABI-encoded:
///
///     const total = ghost.Value(u64, "total");
///     total.set(total.get() + 1);
pub fn Value(comptime T: type, comptime name: []const u8) type {
    comptime abi.check(T);
    comptime checkName(name);
    return struct {
        pub const key = name;
        /// The stored value, or `abi.zero(T)` (0, false, empty, null...) when unset.
        pub fn get() T {
            return getOrNull() orelse abi.zero(T);
        }
        /// The stored value, or null when unset.
        pub fn getOrNull() ?T {
            return loadValue(T, key);
        }
        pub fn set(value: T) void {
            storeValue(T, key, value);
        }
        /// Remove the value (`get` then gives the zero value).
        pub fn clear() void {
            storage.remove(key);
        }
    };
}

/// A map from ABI type `K` to ABI type `V`: entry k is stored under
/// `name ++ 0x00 ++ ABI(k)`, its value ABI-encoded.
///
///     const balances = ghost.Map(ghost.Address, u64, "balances");
///     balances.set(who, balances.getOr(who, 0) + 5);
pub fn Map(comptime K: type, comptime V: type, comptime name: []const u8) type {
    comptime abi.check(K);
    comptime abi.check(V);
    comptime checkName(name);
    return struct {
        pub const prefix = name ++ "\x00";

        fn keyOf(k: K, buf: []u8) []const u8 {
            @memcpy(buf[0..prefix.len], prefix);
            const n = abi.encodeInto(K, k, buf[prefix.len..]);
            return buf[0 .. prefix.len + n];
        }

        const fixed = abi.fixedSize(K);

        fn keyBuf(k: K) []u8 {
            return allocOf(u8, prefix.len + abi.encodedLen(K, k));
        }

        /// The value under `k`, or null when there is none.
        pub fn get(k: K) ?V {
            if (fixed) |n| {
                var buf: [prefix.len + n]u8 = undefined;
                return loadValue(V, keyOf(k, &buf));
            }
            return loadValue(V, keyOf(k, keyBuf(k)));
        }
        /// The value under `k`, or `default` when there is none.
        pub fn getOr(k: K, default: V) V {
            return get(k) orelse default;
        }
        pub fn set(k: K, value: V) void {
            if (fixed) |n| {
                var buf: [prefix.len + n]u8 = undefined;
                return storeValue(V, keyOf(k, &buf), value);
            }
            storeValue(V, keyOf(k, keyBuf(k)), value);
        }
        /// Remove the entry of `k`; removing an absent one is not an error.
        pub fn remove(k: K) void {
            if (fixed) |n| {
                var buf: [prefix.len + n]u8 = undefined;
                return storage.remove(keyOf(k, &buf));
            }
            storage.remove(keyOf(k, keyBuf(k)));
        }
        pub fn has(k: K) bool {
            if (fixed) |n| {
                var buf: [prefix.len + n]u8 = undefined;
                return storage.has(keyOf(k, &buf));
            }
            return storage.has(keyOf(k, keyBuf(k)));
        }
    };
}

/// A list of ABI type `T`: its length (u64) under `name ++ 0x00 ++ "len"`, element i under
/// `name ++ 0x01 ++ ABI(u64 i)`, each ABI-encoded.
///
///     const proposals = ghost.Vec(Proposal, "proposals");
///     proposals.push(p);
pub fn Vec(comptime T: type, comptime name: []const u8) type {
    comptime abi.check(T);
    comptime checkName(name);
    return struct {
        pub const len_key = name ++ "\x00len";
        pub const item_prefix = name ++ "\x01";

        fn itemKey(i: u64) [item_prefix.len + 8]u8 {
            var key: [item_prefix.len + 8]u8 = undefined;
            @memcpy(key[0..item_prefix.len], item_prefix);
            std.mem.writeInt(u64, key[item_prefix.len..], i, .little);
            return key;
        }
        fn setLen(n: u64) void {
            storeValue(u64, len_key, n);
        }

        /// The number of elements (0 for a list never written).
        pub fn len() u64 {
            return loadValue(u64, len_key) orelse 0;
        }
        /// Element `i`, or null past the end.
        pub fn get(i: u64) ?T {
            if (i >= len()) return null;
            const key = itemKey(i);
            return loadValue(T, &key);
        }
        /// Append `value`.
        pub fn push(value: T) void {
            const n = len();
            const key = itemKey(n);
            storeValue(T, &key, value);
            setLen(n + 1);
        }
        /// Remove and return the last element, or null when empty.
        pub fn pop() ?T {
            const n = len();
            if (n == 0) return null;
            const key = itemKey(n - 1);
            const v = loadValue(T, &key);
            storage.remove(&key);
            setLen(n - 1);
            return v;
        }
        /// Replace element `i`; past the end reverts with "ghost: index out of bounds".
        pub fn set(i: u64, value: T) void {
            if (i >= len()) revert("ghost: index out of bounds");
            const key = itemKey(i);
            storeValue(T, &key, value);
        }
    };
}

// ---- typed events ----

/// Emit a struct value as an event: topic 0 is the struct's name (`Transfer`), the fields
/// named in its `pub const indexed = .{ "from", "to" }` (at most 3, each a type `topic`
/// takes) are topics 1..3 in declaration order, and the other fields, ABI-encoded in
/// declaration order, are the data.
///
///     pub const Transfer = struct {
///         from: ghost.Address, to: ghost.Address, amount: u64,
///         pub const indexed = .{ "from", "to" };
///     };
///     ghost.emitEvent(Transfer{ .from = a, .to = b, .amount = 5 });
pub fn emitEvent(value: anytype) void {
    const E = @TypeOf(value);
    const info = @typeInfo(E).@"struct";
    const indexed = if (@hasDecl(E, "indexed")) E.indexed else .{};
    comptime {
        if (indexed.len > 3) @compileError("ghost.emitEvent: at most 3 indexed fields in " ++ @typeName(E));
        for (indexed) |f| {
            if (!@hasField(E, f)) @compileError("ghost.emitEvent: " ++ @typeName(E) ++ " has no field " ++ f);
        }
    }
    const Data = comptime blk: {
        var types: []const type = &.{};
        for (info.field_names, info.field_types) |fname, F| {
            if (!isIndexed(indexed, fname)) types = types ++ .{F};
        }
        break :blk @Tuple(types);
    };
    var topics: [3][32]u8 = undefined;
    var t: usize = 0;
    var data: Data = undefined;
    comptime var d: usize = 0;
    inline for (info.field_names) |fname| {
        if (comptime isIndexed(indexed, fname)) {
            topics[t] = topic(@field(value, fname));
            t += 1;
        } else {
            data[d] = @field(value, fname);
            d += 1;
        }
    }
    // an event whose fields are all indexed (or that has none) has empty data
    const bytes: []const u8 = if (comptime d == 0) "" else abi.encode(Data, data, &call_arena) catch |err| revert(abi.reason(err));
    emit(comptime abi.shortName(E), topics[0..t], bytes);
}

fn isIndexed(comptime indexed: anytype, comptime field: []const u8) bool {
    inline for (indexed) |f| {
        if (comptime std.mem.eql(u8, f, field)) return true;
    }
    return false;
}

// ---- panics: Zig's safety checks and @panic hand their message to the host, then trap ----

/// The panic handler of every contract (`ghost build` makes it the root's `panic`): a failed
/// safety check or `@panic` stops the call; the host reports the message, and the trap's
/// backtrace gives the function and Zig source line (docs/debugging.md).
pub const panic = struct {
    pub fn call(msg: []const u8, _: ?usize) noreturn {
        @branchHint(.cold);
        host.panic(msg.ptr, @intCast(msg.len));
        @trap();
    }
    pub fn sentinelMismatch(expected: anytype, found: @TypeOf(expected)) noreturn {
        _ = found;
        call("sentinel mismatch", null);
    }
    pub fn unwrapError(err: anyerror) noreturn {
        panicPair("attempt to unwrap error: ", @errorName(err));
    }
    pub fn outOfBounds(index: usize, len: usize) noreturn {
        var buf: [96]u8 = undefined;
        var w = Text{ .buf = &buf };
        w.put("index out of bounds: index ");
        w.num(index);
        w.put(", len ");
        w.num(len);
        call(w.text(), null);
    }
    pub fn startGreaterThanEnd(start: usize, end: usize) noreturn {
        var buf: [96]u8 = undefined;
        var w = Text{ .buf = &buf };
        w.put("start index ");
        w.num(start);
        w.put(" is larger than end index ");
        w.num(end);
        call(w.text(), null);
    }
    pub fn inactiveUnionField(active: anytype, accessed: @TypeOf(active)) noreturn {
        _ = accessed;
        call("access of inactive union field", null);
    }
    pub fn sliceCastLenRemainder(src_len: usize) noreturn {
        _ = src_len;
        call("slice length does not divide exactly into destination elements", null);
    }
    pub fn reachedUnreachable() noreturn {
        call("reached unreachable code", null);
    }
    pub fn unwrapNull() noreturn {
        call("attempt to use null value", null);
    }
    pub fn castToNull() noreturn {
        call("cast causes pointer to be null", null);
    }
    pub fn incorrectAlignment() noreturn {
        call("incorrect alignment", null);
    }
    pub fn invalidErrorCode() noreturn {
        call("invalid error code", null);
    }
    pub fn unexpectedErrorCode(err: anyerror) noreturn {
        panicPair("unexpected error code: ", @errorName(err));
    }
    pub fn integerOutOfBounds() noreturn {
        call("integer does not fit in destination type", null);
    }
    pub fn integerOverflow() noreturn {
        call("integer overflow", null);
    }
    pub fn shlOverflow() noreturn {
        call("left shift overflowed bits", null);
    }
    pub fn shrOverflow() noreturn {
        call("right shift overflowed bits", null);
    }
    pub fn divideByZero() noreturn {
        call("division by zero", null);
    }
    pub fn exactDivisionRemainder() noreturn {
        call("exact division produced remainder", null);
    }
    pub fn integerPartOutOfBounds() noreturn {
        call("integer part of floating point value out of bounds", null);
    }
    pub fn corruptSwitch() noreturn {
        call("switch on corrupt value", null);
    }
    pub fn shiftRhsTooBig() noreturn {
        call("shift amount is greater than the type size", null);
    }
    pub fn invalidEnumValue() noreturn {
        call("invalid enum value", null);
    }
    pub fn forLenMismatch() noreturn {
        call("for loop over objects with non-equal lengths", null);
    }
    pub fn copyLenMismatch() noreturn {
        call("source and destination have non-equal lengths", null);
    }
    pub fn memcpyAlias() noreturn {
        call("@memcpy arguments alias", null);
    }
    pub fn noreturnReturned() noreturn {
        call("'noreturn' function returned", null);
    }
    pub fn loadUninstantiableType() noreturn {
        call("attempt to load uninstantiable type", null);
    }

    fn panicPair(head: []const u8, tail: []const u8) noreturn {
        var buf: [160]u8 = undefined;
        var w = Text{ .buf = &buf };
        w.put(head);
        w.put(tail);
        call(w.text(), null);
    }
};

/// A panic message built without std.fmt (small, and lowers to ZVM): text and decimals.
const Text = struct {
    buf: []u8,
    len: usize = 0,

    fn put(self: *Text, s: []const u8) void {
        const n = @min(s.len, self.buf.len - self.len);
        @memcpy(self.buf[self.len .. self.len + n], s[0..n]);
        self.len += n;
    }
    fn num(self: *Text, value: usize) void {
        var digits: [20]u8 = undefined;
        var i: usize = digits.len;
        var v = value;
        while (true) {
            i -= 1;
            digits[i] = '0' + @as(u8, @intCast(v % 10));
            v /= 10;
            if (v == 0) break;
        }
        self.put(digits[i..]);
    }
    fn text(self: *const Text) []const u8 {
        return self.buf[0..self.len];
    }
};
