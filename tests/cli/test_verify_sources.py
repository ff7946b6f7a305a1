"""`ghost verify` says what the deployed code's source hash covers: the whole source tree."""


def test_a_new_file_beside_the_contract_changes_its_code(ghost, project):
    assert ghost("deploy").code == 0
    (project / "src" / "other.zig").write_text("pub fn unrelated() u64 {\n    return 1;\n}\n")
    changed = ghost("verify", "counter", "--json")
    assert changed.code == 11
    assert changed.json["error"]["message"].endswith(
        "(the code records a hash of every Zig file under src/ and lib/, another "
        "contract's source included)")
