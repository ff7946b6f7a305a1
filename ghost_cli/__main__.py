"""`python -m ghost_cli` is the `ghost` command."""

from ghost_cli.cli.main import run

run()
