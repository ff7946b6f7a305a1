"""docs/zvm.md stays in step with the opcode table and the HOSTCALL index table."""

from pathlib import Path

from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.zvm.opcodes import OPCODES

DOC = Path(__file__).resolve().parents[3] / "docs" / "zvm.md"


def test_every_opcode_row_is_documented():
    text = DOC.read_text()
    for value, op in OPCODES.items():
        row = (f"| 0x{value:02X} | {op.name} | {op.immediate} | {op.gas} | {op.pops} | "
               f"{op.pushes} | {op.family} |")
        assert row in text, f"docs/zvm.md is out of date for {op.name}"


def test_every_hostcall_index_is_documented():
    text = DOC.read_text()
    for index, f in enumerate(HOST_FUNCTIONS):
        params = ", ".join(n for n, _ in f.params) or "-"
        result = ({"i32": "u32", "i64": "u64"}[f.results[0]]) if f.results else "-"
        assert f"| {index} | {f.name} | {params} | {result} |" in text, f.name


def test_the_assembly_example_assembles():
    from ghost_cli.vm.zvm import assemble, disassemble

    text = DOC.read_text()
    section = text[text.index("## Assembly (.zasm)"):]
    start = section.index("```\n") + 4
    example = section[start:section.index("\n```", start)]
    ins = disassemble(assemble(example))
    assert [i.name for i in ins][:6] == ["PUSH1", "PUSH2", "PUSH1", "PUSH1", "PUSH4", "PUSH32"]
    assert ins[2].immediate == 0xFF
    assert ins[5].immediate.to_bytes(32, "big").rstrip(b"\0") == b'a "quote"; ok'


def test_the_public_api_is_importable_where_the_docs_say():
    """Every name of the "Public API" table, from `ghost_cli.vm.zvm` (all but the engine)."""
    import re

    import ghost_cli.vm.zvm as zvm

    text = DOC.read_text()
    table = text[text.index("## Public API"):text.index("## Machine")]
    names = set()
    for cell in re.findall(r"^\| `([^`]+)`(?:, `([^`]+)`)? \|", table, re.M):
        for name in filter(None, cell):
            names.add(re.match(r"[\w.]+", name)[0].rsplit(".", 1)[-1])
    names -= {"ZvmEngine"}  # imported from ghost_cli.vm.zvm.engine, as the docs say
    assert {"jumpdests", "OPCODES", "assemble", "decode_zvmc"} <= names
    assert [name for name in sorted(names) if not hasattr(zvm, name)] == []
