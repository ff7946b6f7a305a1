"""The SDK's call-data codec agrees with ghost_cli.abi for every ABI type, end to end:
a contract of echo functions is built, deployed on a sandbox and called."""

from __future__ import annotations

import shutil

import pytest
from toolchain_helpers import CONTRACT_HEAD

from ghost_cli.abi import INT_TYPES
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import RevertError
from ghost_cli.toolchain.build import build_project

ZIG_OF = {"bytes": "[]const u8", "string": "ghost.String", "address": "ghost.Address",
          "bool": "bool", **{t: t for t in INT_TYPES}}

ECHO = CONTRACT_HEAD + "".join(
    f"pub fn echo_{abi}(x: {zig}) {zig} {{\n    return x;\n}}\n" for abi, zig in ZIG_OF.items()
) + """
pub fn pair(a: u8, flag: bool, who: ghost.Address, note: ghost.String, n: i256) ghost.String {
    _ = a; _ = flag; _ = who; _ = n;
    return note;
}
pub fn fails(n: u32) !u32 {
    if (n == 0) return error.ZeroGiven;
    return n;
}
var buf: [4096]u8 = undefined;
pub fn fill(n: u32, b: u8) u8 {
    // runtime-length @memset/@memcpy: Zig's default CPU would emit memory.fill/copy
    const len = @min(n, buf.len);
    @memset(buf[0..len], b);
    var copy: [4096]u8 = undefined;
    @memcpy(copy[0..len], buf[0..len]);
    return copy[len / 2];
}
pub fn topics() void {
    ghost.emit("T", &.{ ghost.topic(@as(u256, 1) << 200), ghost.topic(true),
                        ghost.topic(@as([]const u8, "abc")) }, "");
    ghost.emit("U", &.{ghost.topic(7)}, "");
}
"""


def _samples(t: str) -> list:
    if t in INT_TYPES:
        width = int(t[1:])
        if t[0] == "u":
            return [0, 1, (1 << width) - 1]
        return [-(1 << (width - 1)), -1, (1 << (width - 1)) - 1]
    return {
        "bool": [True, False],
        "bytes": [b"", b"\x00\xffghost"],
        "string": ["", "héllo"],
        "address": [bytes(range(20))],
    }[t]


@pytest.fixture(scope="module")
def echo(built_counter, tmp_path_factory):
    root = tmp_path_factory.mktemp("echo")
    (root / "src").mkdir()
    shutil.copytree(built_counter.project.sdk_dir, root / "lib")
    (root / "src" / "echo.zig").write_text(ECHO)
    (root / "ghost.toml").write_text(
        '[project]\nname = "echo"\n\n[contracts.echo]\nsource = "src/echo.zig"\n'
    )
    (r,) = build_project(load_project(root))
    with Sandbox(":memory:") as sandbox:
        address = sandbox.deploy(r.path.read_bytes(), name="echo").address
        yield sandbox, address


@pytest.mark.parametrize("abi_type", sorted(ZIG_OF))
def test_echo_roundtrip(echo, abi_type: str) -> None:
    sandbox, address = echo
    for value in _samples(abi_type):
        assert sandbox.query(address, f"echo_{abi_type}", [value]).result == value


def test_several_arguments(echo) -> None:
    sandbox, address = echo
    result = sandbox.query(address, "pair", [255, True, bytes(20), "note", -(2**255)]).result
    assert result == "note"


def test_error_union_reverts_with_the_error_name(echo) -> None:
    sandbox, address = echo
    assert sandbox.query(address, "fails", [3]).result == 3
    with pytest.raises(RevertError, match="ZeroGiven"):
        sandbox.query(address, "fails", [0])


def test_topics_of_each_kind(echo) -> None:
    sandbox, address = echo
    t, u = sandbox.call(address, "topics").events
    assert t.name == "T"
    assert t.topics[1] == (1 << 200).to_bytes(32, "little")
    assert t.topics[2] == b"\x01" + bytes(31)
    assert t.topics[3] == b"abc" + bytes(29)
    assert u.topics[1] == (7).to_bytes(32, "little")


def test_built_for_webassembly_1_0(echo) -> None:
    """The engine refuses bulk-memory instructions; the build must not emit them."""
    sandbox, address = echo
    assert sandbox.query(address, "fill", [1000, 7]).result == 7
