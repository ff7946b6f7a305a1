//! ghost contract SDK: typed wrappers over the host ABI v1 imports (module "ghost").
const std = @import("std");

pub const Address = [20]u8;

/// Raw host imports. Pointers are offsets into this module's linear memory.
pub const host = struct {
    pub extern "ghost" fn storage_read(key: [*]const u8, key_len: u32, out: [*]u8, out_cap: u32) i32;
    pub extern "ghost" fn storage_write(key: [*]const u8, key_len: u32, val: [*]const u8, val_len: u32) void;
    pub extern "ghost" fn storage_delete(key: [*]const u8, key_len: u32) void;
    pub extern "ghost" fn storage_has(key: [*]const u8, key_len: u32) i32;
    pub extern "ghost" fn input_size() u32;
    pub extern "ghost" fn input_copy(out: [*]u8, offset: u32, len: u32) void;
    pub extern "ghost" fn set_return(data: [*]const u8, len: u32) void;
    pub extern "ghost" fn revert(msg: [*]const u8, len: u32) noreturn;
    pub extern "ghost" fn emit_event(topics: [*]const u8, topic_count: u32, data: [*]const u8, data_len: u32) void;
    pub extern "ghost" fn caller(out: [*]u8) void;
    pub extern "ghost" fn self_address(out: [*]u8) void;
    pub extern "ghost" fn block_height() u64;
    pub extern "ghost" fn block_time() u64;
    pub extern "ghost" fn chain_id() u64;
    pub extern "ghost" fn gas_left() u64;
    pub extern "ghost" fn debug_log(msg: [*]const u8, len: u32) void;
};

// Scratch memory for call data and variable-length storage values; one call per instance.
var scratch: [16 * 1024]u8 = undefined;
var scratch_used: usize = 0;

fn alloc(n: usize) []u8 {
    if (scratch_used + n > scratch.len) revert("ghost: scratch memory exhausted");
    const s = scratch[scratch_used .. scratch_used + n];
    scratch_used += n;
    return s;
}

pub fn revert(msg: []const u8) noreturn {
    host.revert(msg.ptr, @intCast(msg.len));
}

pub fn log(msg: []const u8) void {
    host.debug_log(msg.ptr, @intCast(msg.len));
}

pub fn caller() Address {
    var a: Address = undefined;
    host.caller(&a);
    return a;
}

pub fn selfAddress() Address {
    var a: Address = undefined;
    host.self_address(&a);
    return a;
}

pub fn blockHeight() u64 { return host.block_height(); }
pub fn blockTime() u64 { return host.block_time(); }
pub fn chainId() u64 { return host.chain_id(); }
pub fn gasLeft() u64 { return host.gas_left(); }

/// Storage of byte strings and fixed-width integers under byte-string keys.
pub const storage = struct {
    pub fn has(key: []const u8) bool {
        return host.storage_has(key.ptr, @intCast(key.len)) != 0;
    }
    pub fn remove(key: []const u8) void {
        host.storage_delete(key.ptr, @intCast(key.len));
    }
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

/// A topic from an address or integer, left-aligned and zero-padded.
pub fn topic(value: anytype) [32]u8 {
    var t: [32]u8 = @splat(0);
    const V = @TypeOf(value);
    if (V == Address) {
        @memcpy(t[0..20], &value);
    } else {
        std.mem.writeInt(u64, t[0..8], @intCast(value), .little);
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
