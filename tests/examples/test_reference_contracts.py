"""contracts/NAME is the template NAME itself (a symlink), so the two cannot drift."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["storage", "arithmetic", "signature", "rollup", "ballot"])
def test_reference_contract_is_the_template(name):
    reference = REPO / "contracts" / name
    assert reference.is_symlink(), f"contracts/{name} must link to templates/{name}, not copy it"
    assert reference.resolve() == (REPO / "templates" / name).resolve()
    assert (reference / "src" / f"{name}.zig").is_file()
    assert (reference / "tests" / f"test_{name}.py").is_file()
