const std = @import("std");
const m = @import("own_abi.zig");
const m2 = @import("own2_abi.zig");
test "compiles" {
    std.testing.refAllDecls(m);
    std.testing.refAllDecls(m2);
    var buf: [64]u8 = undefined;
    const d = try m.data_.encode(&buf, .{ .value = .{ .buf = 1, .name = "x" }, .data = &.{ 1, 2 } });
    var arena = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena.deinit();
    const a = try m.data_.decodeArgs(arena.allocator(), d);
    try std.testing.expectEqual(@as(u8, 1), a.value.buf);
    _ = try m.Args_.decodeResult(arena.allocator(), &.{0});
    _ = try m2.f0.encode(&buf, .{ .x = .a });
}
