"""`ghost verify` and what the deployed code's source hash covers: the contract's own
files and the SDK, not another contract's beside it."""


def test_a_new_file_beside_the_contract_leaves_its_code_alone(ghost, project):
    assert ghost("deploy").code == 0
    (project / "src" / "other.zig").write_text("pub fn unrelated() u64 {\n    return 1;\n}\n")
    assert ghost("verify", "counter").code == 0


def test_a_file_the_contract_imports_changes_its_code(ghost, project):
    source = project / "src" / "counter.zig"
    source.write_text(source.read_text() + '\nconst helper = @import("helper.zig");\n')
    (project / "src" / "helper.zig").write_text("pub const x: u64 = 1;\n")
    assert ghost("build").code == 0
    assert ghost("deploy").code == 0
    assert ghost("verify", "counter").code == 0
    (project / "src" / "helper.zig").write_text("pub const x: u64 = 2;\n")
    changed = ghost("verify", "counter", "--json")
    assert changed.code == 11
    assert changed.json["error"]["message"].endswith(
        "(the code records a hash of src/counter.zig, the files it imports or embeds, and "
        "the SDK's Zig files in lib/: one of them, or the build settings, differ from what "
        "was deployed)")
