import pytest

from ghost_cli.chain.sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path):
    with Sandbox(tmp_path / "sandbox.db", clock=lambda: 1_700_000_000) as sb:
        yield sb
