"""A counter built once, a signing key, and a node process serving gRPC on a free port."""

from __future__ import annotations

import pytest
from node_helpers import built_counter_source, start_node

from ghost_cli.crypto.keypair import KeyPair

#: Failures whose error objects are long: a panic after 16 KiB of debug logs (its error
#: carries them), and a revert whose reason is 600 four-byte characters; and a revert
#: whose reason has line breaks.
LOUD_SOURCE = """const ghost = @import("ghost");

comptime {
    ghost.exportContract(@This());
}

/// Logs 64 KiB of quotes (the node keeps 16 KiB), then panics.
pub fn loud_panic() u64 {
    var buf: [256]u8 = undefined;
    @memset(&buf, '"');
    var i: u32 = 0;
    while (i < 256) : (i += 1) ghost.log(&buf);
    @panic("boom");
}

/// Reverts with a reason of three lines.
pub fn lines_revert() u64 {
    ghost.revert("first\\nsecond\\u{2028}third");
}

/// Reverts with 600 G clefs (U+1D11E).
pub fn clef_revert() u64 {
    var buf: [2400]u8 = undefined;
    var i: usize = 0;
    while (i < buf.len) : (i += 4) {
        buf[i] = 0xF0;
        buf[i + 1] = 0x9D;
        buf[i + 2] = 0x84;
        buf[i + 3] = 0x9E;
    }
    ghost.revert(&buf);
}
"""


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x09" * 32)


@pytest.fixture(scope="session")
def loud_code(tmp_path_factory) -> bytes:
    """LOUD_SOURCE built by `ghost build`'s library core (real Zig, real wasm)."""
    return built_counter_source(tmp_path_factory.mktemp("loud"), "loud", LOUD_SOURCE)


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "data", "--grpc", "127.0.0.1:0")
    yield proc
    proc.stop()
