"""`build_project`: real Zig compiles, metadata, reproducibility and every failure mode."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from toolchain_helpers import CONTRACT_HEAD

from ghost_cli import __version__
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import (
    CompileError,
    ConfigError,
    NotFoundError,
    UnknownImportError,
    UsageError,
)
from ghost_cli.toolchain.build import build_project, source_files, source_hash
from ghost_cli.toolchain.zig import zig_version
from ghost_cli.vm.host_table import BY_NAME, HOST_FUNCTIONS
from ghost_cli.vm.wasm_module import (
    METADATA_SECTION,
    FuncType,
    parse_module,
    read_metadata,
)

SIMPLE = CONTRACT_HEAD + "pub fn get() u64 {\n    return 7;\n}\n"


def test_artifact_and_result(built_counter) -> None:
    project, r = built_counter.project, built_counter.result
    code = r.path.read_bytes()
    assert r.path == project.root / "build" / "counter.wasm"
    assert (r.size, r.sha256) == (len(code), hashlib.sha256(code).hexdigest())
    assert set(r.exports) >= {"increment", "add", "get"}
    assert "memory" not in r.exports  # function exports only
    assert all(i.startswith("ghost.") and i[6:] in BY_NAME for i in r.imports)
    assert "ghost.emit_event" in r.imports
    assert r.seconds > 0
    assert json.loads(json.dumps(r.to_json()))["abi"] == r.abi.to_json()


def test_metadata_section(built_counter) -> None:
    r = built_counter.result
    code = r.path.read_bytes()
    assert read_metadata(code) == r.metadata
    meta = r.metadata
    assert meta["format"] == 1
    assert meta["name"] == "counter"
    assert meta["abi"] == r.abi.to_json()
    assert meta["toolchain"] == {
        "zig": zig_version(), "ghost": __version__, "optimize": "ReleaseSafe",
        "target": "wasm32-freestanding", "cpu": "mvp",
    }
    assert re.fullmatch(r"[0-9a-f]{64}", meta["source_hash"])
    assert meta["source_hash"] == source_hash(built_counter.project, _contract(built_counter))
    # canonical JSON: sorted keys, no whitespace; the section comes last
    (section,) = [c for c in parse_module(code).custom_sections if c.name == METADATA_SECTION]
    assert section.payload == json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    assert code.endswith(section.payload)


def _contract(built):
    (c,) = built.project.contracts.values()
    return c


def test_rebuild_is_identical(built_counter) -> None:
    (again,) = build_project(built_counter.project, force=True)  # a real compile
    assert again.sha256 == built_counter.result.sha256
    assert again.path.read_bytes() == built_counter.code


def test_bytes_that_are_not_utf8_in_the_sdk_or_generated_root(built_counter,
                                                             tmp_path: Path) -> None:
    """Zig takes any bytes in a comment; ghost's own look at the SDK (for its panic
    handler) and at the generated root must not stop the build with a traceback."""
    root = tmp_path / "p"
    shutil.copytree(built_counter.project.root, root)
    with open(root / "lib" / "ghost.zig", "ab") as sdk:
        sdk.write(b"// caf\xe9, in Latin-1\n")
    (root / ".ghost" / "zig-cache" / "counter" / "ghost-root.zig").write_bytes(b"\xff\n")
    (r,) = build_project(load_project(root))
    assert r.warnings == ()  # the panic handler is still found
    assert r.abi == built_counter.result.abi


def test_reproducible_in_another_directory_with_a_cold_cache(
    built_token, tmp_path: Path, monkeypatch
) -> None:
    """Same sources, different path, empty local and global Zig caches: same bytes."""
    original = built_token.project.root
    copy = tmp_path / "elsewhere" / "other_name"
    shutil.copytree(original, copy, ignore=shutil.ignore_patterns("build", ".ghost"))
    monkeypatch.setenv("ZIG_GLOBAL_CACHE_DIR", str(tmp_path / "fresh-global-cache"))
    (r,) = build_project(load_project(copy))
    assert (tmp_path / "fresh-global-cache").is_dir()  # Zig honoured the variable
    assert (copy / ".ghost" / "zig-cache" / "token").is_dir()  # the per-contract local cache
    assert r.path.read_bytes() == built_token.code
    assert r.sha256 == built_token.result.sha256


def test_source_hash_covers_what_the_contract_pulls_in_and_the_sdk(built_counter,
                                                                   tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(built_counter.project.root, root)
    project = load_project(root)
    contract = project.contract("counter")
    names = [p.relative_to(root).as_posix() for p in source_files(project, contract)]
    assert names == ["lib/ghost.zig", "src/counter.zig"]
    before = source_hash(project, contract)
    assert before == built_counter.result.metadata["source_hash"]  # independent of location
    (root / "build" / "junk.zig").write_text("// not a source")
    (root / "src" / "notes.txt").write_text("not Zig")
    (root / "src" / ".hidden").mkdir()
    (root / "src" / ".hidden" / "x.zig").write_text("// hidden")
    assert source_hash(project, contract) == before
    # another contract's file beside it is not among its sources
    (root / "src" / "other.zig").write_text("pub const y = 2;\n")
    assert source_hash(project, contract) == before
    # a file it imports is, and so is one that file embeds
    source = root / "src" / "counter.zig"
    original = source.read_text()
    source.write_text(original + '\nconst helper = @import("util/helper.zig");\n')
    (root / "src" / "util").mkdir()
    (root / "src" / "util" / "helper.zig").write_text(
        'pub const table = @embedFile("../table.bin");\n')
    (root / "src" / "table.bin").write_bytes(b"\x01")
    names = [p.relative_to(root).as_posix() for p in source_files(project, contract)]
    assert names == ["lib/ghost.zig", "src/counter.zig", "src/table.bin",
                     "src/util/helper.zig"]
    imported = source_hash(project, contract)
    (root / "src" / "table.bin").write_bytes(b"\x02")
    assert source_hash(project, contract) not in (before, imported)
    source.write_text(original)
    (root / "lib" / "ghost.zig").write_text((root / "lib" / "ghost.zig").read_text() + "\n")
    assert source_hash(project, contract) != before


def test_sdk_imports_match_the_host_table(make_project) -> None:
    """A contract that uses every SDK wrapper imports every host function, and
    build_project's signature check accepts each one."""
    source = CONTRACT_HEAD + """
pub fn everything() u64 {
    ghost.storage.setBytes("k", "v");
    _ = ghost.storage.has("k");
    _ = ghost.storage.getBytes("k");
    ghost.storage.remove("k");
    ghost.emit("E", &.{ghost.topic(ghost.selfAddress())}, "");
    ghost.log("hi");
    const a = ghost.caller();
    if (a[0] == 255) ghost.revert("no");
    const c = ghost.crypto;
    var n: u64 = c.sha256("x")[0] + c.keccak256("x")[0] + c.blake2b256("x")[0];
    if (c.verify("pk", "m", "s")) n += 1;
    if (c.multisigVerify("d", "m", "s")) n += 1;
    if (c.blsAggregateVerify("k", "p", "m", "a")) n += 1;
    const seed: [32]u8 = @splat(1);
    if (c.kemEncapsulate("pk", seed)) |e| n += e.shared_secret[0] else |_| {}
    if (c.kemDecapsulate("sk", "ct")) |s| n += s[0] else |_| {}
    var out: [64]u8 = undefined;
    if (c.keygenSeeded(c.scheme.ed25519, seed, &out)) |pk| n += pk.len else |_| {}
    if (c.merkleVerify(seed, a, "k", null, "p")) n += 1;
    return n + ghost.blockHeight() + ghost.blockTime() + ghost.chainId() + ghost.gasLeft();
}
"""
    (r,) = build_project(make_project(source))
    imports = parse_module(r.path.read_bytes()).imports
    assert {i.name for i in imports} == {f.name for f in HOST_FUNCTIONS}
    for i in imports:
        host = BY_NAME[i.name]
        assert i.type == FuncType(tuple(t for _, t in host.params), host.results), i.name


def test_sdk_declares_the_host_table_in_order() -> None:
    sdk = Path(__file__).resolve().parents[2] / "templates" / "sdk" / "ghost.zig"
    declared = re.findall(r'extern "ghost" fn (\w+)\(([^)]*)\)', sdk.read_text())
    assert [name for name, _ in declared] == [f.name for f in HOST_FUNCTIONS]
    for (name, params), host in zip(declared, HOST_FUNCTIONS, strict=True):
        count = len([p for p in params.split(",") if p.strip()])
        assert count == len(host.params), name


def test_compile_error_shows_file_line_col(make_project) -> None:
    project = make_project(SIMPLE.replace("return 7;", "return undefined_thing + 1;"))
    with pytest.raises(CompileError) as info:
        build_project(project)
    message = info.value.message
    assert message.startswith("src/probe.zig:6:12: error: use of undeclared identifier")
    assert "\n" not in message
    assert str(project.root) not in message
    assert "undefined_thing + 1" in info.value.details["output"]  # the full compiler output
    assert info.value.exit_code == 4
    # nothing left behind: no artifact, no stray compiler output, no temp build dirs
    assert sorted(p.name for p in project.root.iterdir()) == [".ghost", "ghost.toml", "lib", "src"]
    assert sorted(p.name for p in project.state_dir.iterdir()) == ["zig-cache"]


def test_an_error_in_zigs_std_is_named_by_its_own_path(make_project) -> None:
    project = make_project(CONTRACT_HEAD + 'const std = @import("std");\n'
                           "pub fn f(x: i32) i32 {\n    return std.math.rotl(i32, x, 1);\n}\n")
    with pytest.raises(CompileError) as info:
        build_project(project)
    message = info.value.message
    assert Path(message.split(":")[0]).is_absolute() and "../" not in message, message
    assert message.split(":")[0].endswith("/std/math.zig")
    assert "cannot rotate signed integer" in message
    # the message is Zig's first line, so the CLI does not print that line twice
    assert info.value.details["output"].splitlines()[0].strip() in message


def test_unreadable_signature_gets_zigs_diagnosis(make_project) -> None:
    project = make_project(CONTRACT_HEAD + "pub fn get(x: u64 {\n    return x;\n}\n")
    with pytest.raises(CompileError, match=r"^src/probe.zig:\d+:\d+: error: "):
        build_project(project)


def test_unsupported_type_is_reported_before_compiling(make_project) -> None:
    # exportContract would leave `f` a helper; exportFunctions asks for it by name
    head = CONTRACT_HEAD.replace("exportContract(@This())",
                                 'exportFunctions(@This(), .{"f"})')
    project = make_project(head + "pub fn f(x: f64) f64 {\n    return x;\n}\n")
    with pytest.raises(CompileError, match=r"^src/probe.zig:5: exportFunctions lists 'f', but "
                                           r"parameter 'x' has type 'f64'"):
        build_project(project)


@pytest.mark.parametrize(
    "decl, call, expected",
    [
        ('extern "ghost" fn nope() void;', "nope();",
         r"probe.wasm imports ghost.nope, which is not a host function"),
        ('extern "ghost" fn storage_reed(k: [*]const u8, n: u32) i32;', '_ = storage_reed("k", 1);',
         r"did you mean storage_read\?"),
        ('extern "env" fn foo() void;', "foo();",
         r'imports env.foo \(func\), which the host does not provide.*module "ghost"'),
        ('extern "ghost" fn block_height() u32;', "_ = block_height();",
         r"imports ghost.block_height with signature \(\) -> \(i32\) but the host provides "
         r"\(\) -> \(i64\)"),
    ],
)
def test_unknown_or_mismatched_imports(make_project, decl: str, call: str, expected: str) -> None:
    source = decl + "\n" + SIMPLE.replace("return 7;", call + "\n    return 7;")
    with pytest.raises(UnknownImportError, match=expected) as info:
        build_project(make_project(source))
    assert "\n" not in info.value.message


def test_missing_export_contract(make_project) -> None:
    project = make_project(SIMPLE.replace("ghost.exportContract(@This());", ""))
    with pytest.raises(CompileError, match=r"'get' is not exported.*exportContract"):
        build_project(project)


def test_contract_without_functions(make_project) -> None:
    with pytest.raises(CompileError, match="no `pub fn` declarations"):
        build_project(make_project(CONTRACT_HEAD))


def test_progress_is_reported(make_project) -> None:
    messages: list[str] = []
    build_project(make_project(SIMPLE), progress=messages.append)
    assert any(m.startswith("compiling probe with Zig") for m in messages)
    assert messages[-1] == "writing build/probe.wasm"


def test_other_optimize_modes_build(make_project) -> None:
    project = make_project(SIMPLE)
    from ghost_cli.config.project import set_value

    for mode in ("Debug", "ReleaseSafe"):
        project = set_value(project.root, "build.optimize", mode)
        (r,) = build_project(project)
        assert r.metadata["toolchain"]["optimize"] == mode
        assert not [c for c in parse_module(r.path.read_bytes()).custom_sections
                    if c.name != METADATA_SECTION]  # stripped: no debug sections with paths


def test_selection_and_configuration_errors(make_project) -> None:
    project = make_project(SIMPLE)
    assert [r.name for r in build_project(project, ["probe", "probe"])] == ["probe"]
    with pytest.raises(NotFoundError, match="no contract 'nope'"):
        build_project(project, ["nope"])
    (project.root / "src" / "probe.zig").unlink()
    with pytest.raises(ConfigError, match=r"contracts.probe.source: src/probe.zig does not exist"):
        build_project(project)
    (project.root / "lib" / "ghost.zig").unlink()
    with pytest.raises(ConfigError, match=r"build.sdk_dir: lib/ghost.zig not found"):
        build_project(project)


def test_no_contracts_declared(tmp_path: Path) -> None:
    (tmp_path / "ghost.toml").write_text('[project]\nname = "empty"\n')
    with pytest.raises(ConfigError, match=r"no contracts declared"):
        build_project(load_project(tmp_path))


def test_an_artifact_above_the_module_limit_is_built_with_a_warning(make_project) -> None:
    project = make_project(CONTRACT_HEAD + 'const blob = @embedFile("blob.bin");\n'
                           "pub fn at(i: u32) u8 {\n    return blob[i];\n}\n")
    (project.root / "src" / "blob.bin").write_bytes(bytes(range(256)) * 2100)
    for _ in range(2):  # compiled, then answered by its stamp: the same warning
        (r,) = build_project(project)
        assert r.size > 512 * 1024
        assert r.warnings == (f"probe: the artifact is {r.size:,} bytes, above the "
                              "524,288-byte module limit: a deploy refuses it "
                              "(invalid_module)",)


@pytest.mark.parametrize("mode", ["", "Fast"])
def test_an_empty_optimize_mode_is_refused_like_any_unknown_one(built_counter, mode) -> None:
    """`ghost build -O ""` is not the project's mode: `--target ""` is refused too."""
    with pytest.raises(UsageError, match=f"unknown optimize mode '{mode}'"):
        build_project(built_counter.project, optimize=mode)
