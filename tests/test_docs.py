"""The docs that are written from tables stay in step with the tables."""

from pathlib import Path

from ghost_cli.exceptions import EXIT_CODES
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.host_table import HOST_FUNCTIONS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _row(f) -> str:
    params = ", ".join(f"{n}: {t}" for n, t in f.params)
    sig = f"{f.name}({params})" + (f" -> {f.results[0]}" if f.results else "")
    price = HOST_PRICES[f.name]
    gas = f"{price.base}" + (f" + {price.per_byte}/byte" if price.per_byte else "")
    opcode = f"0x{f.zvm_opcode:02X}" if f.zvm_opcode is not None else "-"
    return f"| `{sig}` | {gas} | {opcode} | {f.doc} |"


def test_host_abi_doc_lists_every_host_function_exactly():
    text = (DOCS / "host-abi.md").read_text()
    for f in HOST_FUNCTIONS:
        assert _row(f) in text, f"docs/host-abi.md is out of date for {f.name}"
    assert set(HOST_PRICES) == {f.name for f in HOST_FUNCTIONS}


def test_cli_doc_lists_every_exit_code():
    text = (DOCS / "cli.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in text


def test_host_abi_doc_names_the_state_writers():
    """The host functions `mutates` is derived from (toolchain/mutation.py)."""
    text = (DOCS / "host-abi.md").read_text()
    writers = ", ".join(f"`{f.name}`" for f in HOST_FUNCTIONS if f.writes_state)
    assert f"State writers: {writers}." in text


def test_rpc_doc_lists_every_error_number_exactly():
    from ghost_cli.rpc.errors import APPLICATION_ERRORS, PROTOCOL_ERRORS

    text = (DOCS / "rpc.md").read_text()
    for e in PROTOCOL_ERRORS + APPLICATION_ERRORS:
        assert f"| {e.number} | `{e.code}` | {e.meaning} |" in text, e.code
