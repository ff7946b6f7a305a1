"""The SDK's export rule compiled for real: exportContract skips helpers (non-ABI types),
exportFunctions exports exactly its list and names a bad entry in a compile error."""

from __future__ import annotations

import contextlib

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import CompileError, RevertError
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.wasm_module import parse_module

HELPERS = """const ghost = @import("ghost");
comptime {
    ghost.exportContract(@This());
}
pub fn get(x: ?u32) u32 {
    return double(&(x orelse 1));
}
pub fn double(p: *const u32) u32 {
    return p.* * 2;
}
pub fn size(n: usize) usize {
    return n;
}
pub fn pick(comptime T: type, v: T) T {
    return v;
}
"""

LISTED = """const ghost = @import("ghost");
comptime {
    ghost.exportFunctions(@This(), .{"get"});
}
pub fn get() u64 {
    return 1;
}
pub fn other() u64 {
    return 2;
}
"""


def _exports(result) -> set[str]:
    module = parse_module(result.path.read_bytes())
    return {e.name for e in module.exports if e.kind == "func"}


def test_export_contract_skips_helpers(make_project) -> None:
    (r,) = build_project(make_project(HELPERS))
    assert _exports(r) == {"get"}
    assert [f.name for f in r.abi.functions] == ["get"]


def test_export_functions_exports_exactly_the_list(make_project) -> None:
    (r,) = build_project(make_project(LISTED, name="listed"))
    assert _exports(r) == {"get"}
    assert [f.name for f in r.abi.functions] == ["get"]


@pytest.mark.parametrize("listed", ["missing", "double"])
def test_export_functions_names_a_bad_entry(make_project, listed) -> None:
    """`ghost build` refuses it (its extractor first; Zig's own error is tested natively in
    test_sdk_zig.py)."""
    source = HELPERS.replace("ghost.exportContract(@This());",
                             f'ghost.exportFunctions(@This(), .{{ "get", "{listed}" }});')
    with pytest.raises(CompileError, match=listed):
        build_project(make_project(source, name="bad"))


@pytest.mark.parametrize("name, extra", [
    ("strlen", ""),
    # a clash only when the code calls the runtime's: decoding a string copies it
    ("memcpy", "pub fn size(s: ghost.String) u32 {\n    return @intCast(s.len);\n}\n"),
])
def test_a_function_named_like_a_c_runtime_function_is_named(make_project, name, extra) -> None:
    """Zig's compiler_rt defines strlen, memcpy, ...: when the code calls one, wasm-ld keeps
    the runtime's definition and drops the contract's export of that name. The build names
    the cause, not a missing exportContract."""
    source = HELPERS.split("pub fn get")[0] + extra + \
        f"pub fn {name}(s: ghost.String) u32 {{\n    return @intCast(s.len);\n}}\n"
    with pytest.raises(CompileError) as info:
        build_project(make_project(source, name="clash"))
    message = info.value.message
    assert message.startswith(f"src/clash.zig: function '{name}' has the name of a C runtime "
                              "function Zig links into the module")
    assert "rename the function" in message and "exportContract" not in message


def _host_calls(sandbox, function: str, calldata: bytes) -> list[str]:
    from ghost_cli.vm.recording import recording
    from ghost_cli.vm.trace import Recorder

    recorder = Recorder(verbosity=2)  # every host call
    address = sandbox.resolve("listed")
    with recording(recorder), contextlib.suppress(RevertError):
        tx = sandbox.new_transaction("call", sandbox.default_sender, target=address,
                                     function=function, args=calldata)
        sandbox.submit(sandbox.authorize(tx, None))
    [frame] = recorder.to_json()
    return [item["name"] for item in frame["items"] if item["type"] == "host"]


def test_an_export_copies_call_data_only_when_there_is_some(make_project, tmp_path) -> None:
    """Without call data the export skips `input_copy` (one host call and its gas fewer);
    with call data a function without parameters still refuses it."""
    (r,) = build_project(make_project(LISTED, name="listed"))
    with Sandbox(":memory:") as sandbox:
        sandbox.deploy(r.path.read_bytes(), name="listed")
        assert _host_calls(sandbox, "get", b"") == ["input_size"]
        assert _host_calls(sandbox, "get", b"\x01") == ["input_size", "input_copy", "revert"]


QUOTED = """const ghost = @import("ghost");
comptime {
    ghost.exportContract(@This());
}
pub const S = struct { @"type": u8 };
pub fn uses_s(v: S) u8 {
    return v.@"type";
}
pub fn @"null"() u8 {
    return 1;
}
pub fn f(@"type": u8) u8 {
    return @"type";
}
"""


@pytest.mark.parametrize("target", ["wasm", "zvm"])
def test_quoted_identifiers_are_in_the_abi_by_their_names(make_project, target) -> None:
    """`@"null"` is the function `null`, `@"type"` the field or parameter `type`: every
    function the module exports is in the ABI, and calls reach it on either target."""
    (r,) = build_project(make_project(QUOTED, name="quoted"), target=target)
    assert [f.name for f in r.abi.functions] == ["uses_s", "null", "f"]
    assert [p.name for p in r.abi.function("f").inputs] == ["type"]
    assert [p.name for p in r.abi.types[0].fields] == ["type"]
    if target == "wasm":
        assert _exports(r) == {"uses_s", "null", "f"}
    with Sandbox(":memory:") as sandbox:
        address = sandbox.deploy(r.path.read_bytes(), name="quoted").address
        assert sandbox.query(address, "uses_s", [{"type": 7}]).result == 7
        assert sandbox.query(address, "null", []).result == 1
        assert sandbox.query(address, "f", [9]).result == 9


NOT_ABI = """const ghost = @import("ghost");
comptime {
    ghost.exportContract(@This());
}
pub const Empty = struct {};
pub const Both = struct {
    who: ghost.Address,
    n: u64,
    pub const indexed = .{ "who", "n" };
};
pub fn nested(x: ??u8) ??u8 {
    return x;
}
pub fn none(x: [0]u64) u8 {
    _ = x;
    return 0;
}
pub fn empty(x: Empty) u8 {
    _ = x;
    return 0;
}
pub fn tuple0() struct {} {
    return .{};
}
pub fn ping(n: u64) void {
    ghost.emitEvent(Both{ .who = ghost.caller(), .n = n });
}
"""


def test_types_the_abi_refuses_make_helpers_not_exports(make_project) -> None:
    """`T??`, `[0]T` and an empty struct or tuple are no ABI types (docs/abi.md): a function
    using one is a helper, so the module exports exactly the ABI's functions; an event
    whose every field is indexed still emits, with empty data."""
    (r,) = build_project(make_project(NOT_ABI, name="notabi"))
    assert [f.name for f in r.abi.functions] == ["ping"]
    assert _exports(r) == {"ping"}
    with Sandbox(":memory:") as sandbox:
        sandbox.deploy(r.path.read_bytes(), name="notabi")
        receipt = sandbox.call("notabi", "ping", [5])
        (event,) = receipt.events
        assert event.data == b""
        assert event.topics[2] == (5).to_bytes(8, "little") + bytes(24)
