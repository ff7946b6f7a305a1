"""`both_paths`: run a test module's tests on the step-by-step path and on compiled blocks."""

import pytest

from ghost_cli.vm.zvm import interpreter


@pytest.fixture(params=["stepped", "compiled"])
def both_paths(request, monkeypatch):
    """'compiled' compiles every block the first time it is entered (HOT_AFTER = 1), so the
    fast path runs code a test executes once; 'stepped' never compiles."""
    monkeypatch.setattr(interpreter, "HOT_AFTER", 1 if request.param == "compiled" else 10**9)
    return request.param
