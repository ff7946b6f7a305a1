//! ghost contract SDK: typed wrappers over the host ABI v1 imports (module "ghost").
//!
//! A contract is one Zig file that imports this module and exports itself:
//!
//!     const ghost = @import("ghost");
//!     comptime { ghost.exportContract(@This()); }
//!
//!     /// Doc comments become the function's documentation in the ABI.
//!     pub fn get() u64 { return ghost.storage.get(u64, "count"); }
//!
//! Every top-level `pub fn` becomes a contract function. Arguments and results use the
//! ghost ABI encoding: integers (u8..u256, i8..i256) little-endian at their width, bool one
//! byte, Address 20 bytes, bytes and String a u32 little-endian length then the data.
//! A function declared `!T` that returns an error reverts with the error's name.
//!
//! The host functions below must match ghost_cli/vm/host_table.py exactly; `ghost build`
//! rejects a module whose imports differ from that table.
const std = @import("std");

/// A 20-byte account or contract address.
pub const Address = [20]u8;

/// UTF-8 text. The same Zig type as `[]const u8`; the ABI calls it `string` rather than
/// `bytes`, so tools show it as text.
pub const String = []const u8;

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
var scratch_used: usize = 0;

fn alloc(n: usize) []u8 {
    if (scratch_used + n > scratch.len) revert("ghost: scratch memory exhausted");
    const s = scratch[scratch_used .. scratch_used + n];
    scratch_used += n;
    return s;
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

/// A topic from an address, bool, integer (up to 256 bits) or byte string (up to 32 bytes),
/// left-aligned and zero-padded; integers little-endian.
pub fn topic(value: anytype) [32]u8 {
    var t: [32]u8 = @splat(0);
    const V = @TypeOf(value);
    if (V == Address) {
        @memcpy(t[0..20], &value);
    } else if (V == bool) {
        t[0] = @intFromBool(value);
    } else if (V == comptime_int) {
        std.mem.writeInt(u256, &t, value, .little);
    } else if (V == []const u8 or V == []u8) {
        if (value.len > 32) revert("ghost: a byte-string topic is at most 32 bytes");
        @memcpy(t[0..value.len], value);
    } else switch (@typeInfo(V)) {
        .int => |info| {
            if (info.bits > 256 or info.bits % 8 != 0)
                @compileError("ghost: topic integers are 8..256 bits in whole bytes: " ++ @typeName(V));
            std.mem.writeInt(V, t[0 .. info.bits / 8], value, .little);
        },
        else => @compileError("ghost: unsupported topic type " ++ @typeName(V)),
    }
    return t;
}

// ---- call data codec: integers little-endian, bool one byte, bytes u32 length + data ----

const Reader = struct {
    data: []const u8,
    pos: usize = 0,

    fn take(self: *Reader, n: usize) []const u8 {
        if (self.pos + n > self.data.len) revert("ghost: call data too short");
        const s = self.data[self.pos .. self.pos + n];
        self.pos += n;
        return s;
    }

    fn read(self: *Reader, comptime T: type) T {
        if (T == bool) return self.take(1)[0] != 0;
        if (T == Address) return self.take(20)[0..20].*;
        if (T == []const u8) {
            const n = std.mem.readInt(u32, self.take(4)[0..4], .little);
            return self.take(n);
        }
        switch (@typeInfo(T)) {
            .int => return std.mem.readInt(T, self.take(@sizeOf(T))[0..@sizeOf(T)], .little),
            else => @compileError("ghost: unsupported argument type " ++ @typeName(T)),
        }
    }
};

fn returnValue(comptime T: type, value: T) void {
    if (T == void) return;
    if (T == bool) {
        const b = [1]u8{@intFromBool(value)};
        return host.set_return(&b, 1);
    }
    if (T == Address) return host.set_return(&value, 20);
    if (T == []const u8) {
        const out = alloc(4 + value.len);
        std.mem.writeInt(u32, out[0..4], @intCast(value.len), .little);
        @memcpy(out[4..], value);
        return host.set_return(out.ptr, @intCast(out.len));
    }
    switch (@typeInfo(T)) {
        .int => {
            var buf: [@sizeOf(T)]u8 = undefined;
            std.mem.writeInt(T, &buf, value, .little);
            host.set_return(&buf, buf.len);
        },
        else => @compileError("ghost: unsupported return type " ++ @typeName(T)),
    }
}

fn dispatch(comptime f: anytype) void {
    const F = @TypeOf(f);
    const info = @typeInfo(F).@"fn";
    const size = host.input_size();
    const input = alloc(size);
    host.input_copy(input.ptr, 0, size);
    var reader = Reader{ .data = input };
    var args: std.meta.ArgsTuple(F) = undefined;
    inline for (info.param_types, 0..) |P, i| args[i] = reader.read(P.?);
    if (reader.pos != input.len) revert("ghost: call data too long");
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

/// Export every `pub fn` of the contract struct `T` as a callable contract function.
/// Each export takes no wasm arguments: it reads its call data from the host, decodes the
/// arguments, calls the function and hands the encoded result back with `set_return`.
pub fn exportContract(comptime T: type) void {
    inline for (@typeInfo(T).@"struct".decl_names) |name| {
        const f = @field(T, name);
        if (@typeInfo(@TypeOf(f)) == .@"fn") {
            const Wrapper = struct {
                fn entry() callconv(.c) void {
                    dispatch(f);
                }
            };
            @export(&Wrapper.entry, .{ .name = name });
        }
    }
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
