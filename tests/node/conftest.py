"""Fixtures for node tests: the counter built once, a signing key, a running node."""

from __future__ import annotations

import pytest
from node_helpers import Client, built_counter_source, start_node

from ghost_cli.crypto.keypair import KeyPair

#: A hostile contract: functions that never return, so only gas or the wall-clock
#: backstop ends them. `spin` writes storage on every turn (the slower kind of turn).
SPIN_SOURCE = """const ghost = @import("ghost");
const std = @import("std");

comptime {
    ghost.exportContract(@This());
}

/// Never returns: writes a storage slot forever.
pub fn spin() u64 {
    var i: u64 = 0;
    while (true) {
        i +%= 1;
        ghost.storage.set(u64, "i", i);
    }
    return i;
}

/// Never returns: counts forever.
pub fn spin_pure() u64 {
    var i: u64 = 0;
    while (true) {
        i +%= 1;
        std.mem.doNotOptimizeAway(i);
    }
    return i;
}
"""


@pytest.fixture(scope="session")
def spin_code(tmp_path_factory) -> bytes:
    """SPIN_SOURCE built by `ghost build`'s library core (real Zig, real wasm)."""
    return built_counter_source(tmp_path_factory.mktemp("spin"), "spin", SPIN_SOURCE)


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair.generate("ml-dsa-65", b"\x07" * 32)


@pytest.fixture
def node(tmp_path):
    proc = start_node(tmp_path / "data")
    yield proc
    proc.stop()


@pytest.fixture
def client(node, key):
    with Client(node.url, key) as c:
        yield c
