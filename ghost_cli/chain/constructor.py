"""A module's constructor, as a deploy sees it before sending: `pub fn init`, recorded in
the ABI inside the built module (the wasm metadata section or the ZVMC ABI section).

The deploy transaction carries the constructor's ABI-encoded arguments in its `args`
field (docs/transactions.md); the executor runs it with the deployer as caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..abi import CONSTRUCTOR, Abi, Function, encode_call, parse_args
from ..exceptions import ArgumentError


def constructor_of(code: bytes) -> Function | None:
    """The constructor in `code`'s ABI; None when it has none (or no ABI at all: the
    node refuses such a module anyway, with its own message)."""
    from ..vm.engines import read_module_metadata

    metadata = read_module_metadata(code) or {}
    return Abi.from_json(metadata.get("abi") or {}).constructor


def _none_expected(count: int) -> ArgumentError:
    return ArgumentError(f"the contract has no constructor (`pub fn {CONSTRUCTOR}`), so its "
                         f"deploy takes no arguments; got {count}")


def encode_constructor_args(code: bytes, args: Sequence[Any]) -> bytes:
    """Typed values -> the deploy's call data, checked against the constructor's inputs."""
    ctor = constructor_of(code)
    if ctor is None:
        if args:
            raise _none_expected(len(args))
        return b""
    return encode_call(ctor, list(args))


def parse_constructor_args(code: bytes, texts: Sequence[str]) -> list[Any]:
    """Command-line words (`ghost deploy --args ...`) -> typed constructor arguments."""
    ctor = constructor_of(code)
    if ctor is None:
        if texts:
            raise _none_expected(len(texts))
        return []
    return parse_args(ctor, list(texts))
