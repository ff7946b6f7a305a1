"""`ghost verify`: the source rebuilds to exactly the code a network holds, or exit 11."""

from __future__ import annotations

import pytest


def test_verify_on_the_sandbox_and_after_a_source_change(ghost, project):
    assert ghost("deploy").code == 0
    ok = ghost("verify", "counter", "--json")
    assert ok.code == 0, ok.stderr
    assert ok.json["match"] is True
    assert ok.json["local_code_hash"] == ok.json["deployed_code_hash"]

    source = project / "src" / "counter.zig"
    source.write_text(source.read_text().replace("v +% 0", "v").replace(
        "count_key, v);", "count_key, v +% 0);", 1) + "\n// edited\n")
    changed = ghost("verify", "counter", "--json")
    assert changed.code == 11 and changed.json["error"]["details"]["match"] is False
    assert "does not match this source" in changed.stderr


@pytest.mark.slow
def test_verify_against_a_node(ghost, node, project):
    assert ghost("keys", "new", "alice").code == 0
    assert ghost("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                 "--ca", node.bound["ca"]).code == 0
    assert ghost("deploy", "--network", "local", "--key", "alice").code == 0
    result = ghost("verify", "counter", "--network", "local", "--json")
    assert result.code == 0, result.stderr
    assert result.json["match"] is True
