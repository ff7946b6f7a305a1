"""The token and ballot templates' own suites pass on both targets (`ghost test --target
both`) in a fresh `ghost new` project: their typed storage (ghost.Value/Map/Vec), structs,
arrays, enum and typed events behave alike on WebAssembly and on ZVM."""

from __future__ import annotations

import pytest
from cli_helpers import run_ghost

#: template -> its number of tests (each runs once per target)
SUITES = {"token": 10, "ballot": 7}


@pytest.mark.parametrize("template", sorted(SUITES))
def test_template_suite_passes_on_both_targets(template, tmp_path):
    root = tmp_path / template
    made = run_ghost("new", template, "--template", template, "--dir", str(root), cwd=tmp_path)
    assert made.code == 0, made.stderr
    tested = run_ghost("test", "--target", "both", "--json", cwd=root, timeout=600)
    assert tested.code == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert tested.json["tests"]["passed"] == 2 * SUITES[template]
    assert tested.json["tests"]["failed"] == 0
