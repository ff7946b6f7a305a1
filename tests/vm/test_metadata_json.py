"""Contract metadata is parsed the same for both formats, and deep nesting is refused
whatever the interpreter's recursion limit (a library such as py-evm raises it)."""

import sys

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.exceptions import InvalidModuleError
from ghost_cli.vm.metadata_json import parse_metadata
from ghost_cli.vm.zvm import encode_zvmc


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture(params=[None, 1_000_000], ids=["default limit", "raised limit"])
def recursion_limit(request):
    before = sys.getrecursionlimit()
    if request.param:
        sys.setrecursionlimit(request.param)
    yield
    sys.setrecursionlimit(before)


@pytest.mark.usefixtures("recursion_limit")
@pytest.mark.parametrize("depth", [1_025, 20_000, 500_000])
def test_deep_nesting_is_refused_in_one_line(depth):
    with pytest.raises(InvalidModuleError, match="^invalid x: JSON nested too deeply$"):
        parse_metadata(nested(depth), "x")


def test_what_json_accepts_is_unchanged():
    assert parse_metadata(b'{"a": [1, {"b": 2}], "big": 123456789012345678901234567890}',
                          "x") == {"a": [1, {"b": 2}], "big": 123456789012345678901234567890}
    with pytest.raises(InvalidModuleError, match="not a JSON object"):
        parse_metadata(nested(100), "x")
    with pytest.raises(InvalidModuleError, match="not UTF-8 JSON"):
        parse_metadata(b"\xff", "x")
    with pytest.raises(InvalidModuleError, match="not UTF-8 JSON"):
        parse_metadata(b"{oops", "x")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1E999"])
def test_what_is_not_strict_json_is_refused(number):
    """NaN, Infinity and a number past a double's range are not JSON: a contract recorded
    with one could never be answered (ghost_getContract's reply cannot carry it)."""
    with pytest.raises(InvalidModuleError, match="^invalid x: not UTF-8 JSON"):
        parse_metadata(b'{"abi": {"functions": []}, "n": ' + number + b"}", "x")
    assert parse_metadata(b'{"n": 1e308}', "x") == {"n": 1e308}


@pytest.mark.usefixtures("recursion_limit")
def test_a_zvmc_with_a_deeply_nested_abi_is_refused_and_changes_nothing():
    with Sandbox(":memory:") as sandbox:
        before = sandbox.store.counts()
        with pytest.raises(InvalidModuleError, match="ZVMC ABI section: JSON nested too deeply"
                           ) as info:
            sandbox.deploy(encode_zvmc(b"\x00", nested(20_000)))
        assert info.value.exit_code == 5
        assert sandbox.store.counts() == before
