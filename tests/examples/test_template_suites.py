"""The token, ballot and rollup templates' own suites pass on both targets (`ghost test
--target both`) in a fresh `ghost new` project: their typed storage (ghost.Value/Map/Vec),
structs, arrays, enum, typed events and BLS aggregate checks behave alike on WebAssembly
and on ZVM. The signature template's suite signs with ML-DSA, whose signatures differ
from run to run, so it runs on each target by itself."""

from __future__ import annotations

import pytest
from cli_helpers import run_ghost

#: template -> its number of tests (each runs once per target)
SUITES = {"token": 10, "ballot": 7, "rollup": 13}


@pytest.mark.parametrize("template", sorted(SUITES))
def test_template_suite_passes_on_both_targets(template, tmp_path):
    root = tmp_path / template
    made = run_ghost("new", template, "--template", template, "--dir", str(root), cwd=tmp_path)
    assert made.code == 0, made.stderr
    tested = run_ghost("test", "--target", "both", "--json", cwd=root, timeout=600)
    assert tested.code == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert tested.json["tests"]["passed"] == 2 * SUITES[template]
    assert tested.json["tests"]["failed"] == 0


@pytest.mark.parametrize("target", ["wasm", "zvm"])
def test_signature_template_suite_passes_on_each_target(target, tmp_path):
    root = tmp_path / "vault"
    made = run_ghost("new", "vault", "--template", "signature", "--dir", str(root),
                     cwd=tmp_path)
    assert made.code == 0, made.stderr
    tested = run_ghost("test", "--target", target, "--json", cwd=root, timeout=600)
    assert tested.code == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert tested.json["tests"]["passed"] == 14
    assert tested.json["tests"]["failed"] == 0
