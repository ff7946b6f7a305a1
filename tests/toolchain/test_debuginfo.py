"""The debug sidecar: split from the one compile, the same code as a stripped compile,
and read back into function names and Zig lines."""

from __future__ import annotations

from toolchain_helpers import CONTRACT_HEAD

from ghost_cli.toolchain.build import _compile, build_project
from ghost_cli.toolchain.debuginfo import DebugInfo, sidecar_path, strip_debug
from ghost_cli.vm.wasm_module import METADATA_SECTION, parse_module

SOURCE = CONTRACT_HEAD + """
/// Twice x.
pub fn double(x: u64) u64 {
    return x * 2;
}
"""


def test_the_artifact_is_a_stripped_compile_and_the_sidecar_the_same_with_debug_info(
        make_project):
    project = make_project(SOURCE)
    (result,) = build_project(project)
    contract = project.contracts["probe"]
    sdk = project.sdk_dir / "ghost.zig"
    stripped, _ = _compile(project, contract, sdk, "ReleaseSafe", None, strip=True)
    sidecar = sidecar_path(project.out_dir, "probe").read_bytes()
    assert strip_debug(sidecar) == stripped
    artifact = result.path.read_bytes()
    assert artifact.startswith(stripped)
    assert [c.name for c in parse_module(artifact).custom_sections] == [METADATA_SECTION]
    names = {c.name for c in parse_module(sidecar).custom_sections}
    assert {".debug_info", ".debug_line", "name"} <= names
    assert str(project.root) not in artifact.decode("latin-1")


def test_function_names_and_lines_come_from_the_sidecar(make_project):
    project = make_project(SOURCE)
    build_project(project)
    info = DebugInfo(sidecar_path(project.out_dir, "probe").read_bytes())
    assert "double" in info.names.values()  # an export, by its ABI name
    line = SOURCE.splitlines().index("    return x * 2;") + 1
    rows = [(addr, n) for addr, f, n in info.lines if f == "src/probe.zig"]
    assert any(n == line for _, n in rows)
    addr = next(a for a, n in rows if n == line)
    assert info.line_at(info.code_start + addr) == ("src/probe.zig", line)


def test_an_sdk_without_the_panic_handler_still_builds_and_says_so(make_project):
    project = make_project(SOURCE)
    sdk = project.sdk_dir / "ghost.zig"
    text = sdk.read_text()
    start = text.index("// ---- panics")
    sdk.write_text(text[:start].rstrip() + "\n")  # an SDK from before the handler
    (result,) = build_project(project)
    assert result.path.is_file()
    assert any("has no panic handler" in w for w in result.warnings)
