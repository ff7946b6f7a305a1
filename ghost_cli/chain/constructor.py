"""A module's constructor, as a deploy sees it before sending: `pub fn init`, recorded in
the ABI inside the built module (the wasm metadata section or the ZVMC ABI section).

The deploy transaction carries the constructor's ABI-encoded arguments in its `args`
field (docs/transactions.md); the executor runs it with the deployer as caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..abi import CONSTRUCTOR, Function, encode_call, parse_args
from ..exceptions import ArgumentError, GhostError


def constructor_of(code: bytes) -> Function | None:
    """The constructor in `code`'s ABI, or None. The ABI is read with the executor's own
    checks (vm/deploy_checks.py): a module without a readable one is InvalidModuleError."""
    from ..vm.deploy_checks import abi_from_metadata
    from ..vm.engines import read_module_metadata

    return abi_from_metadata(read_module_metadata(code)).constructor


def _constructor_or_refusal(code: bytes, given: int) -> Function | None:
    # With no arguments to check, a module whose ABI cannot be read goes to the executor,
    # which refuses it before anything runs (after charging for its size first).
    try:
        return constructor_of(code)
    except GhostError:
        if given:
            raise
        return None


def _none_expected(count: int) -> ArgumentError:
    return ArgumentError(f"the contract has no constructor (`pub fn {CONSTRUCTOR}`), so its "
                         f"deploy takes no arguments; got {count}")


def encode_constructor_args(code: bytes, args: Sequence[Any]) -> bytes:
    """Typed values -> the deploy's call data, checked against the constructor's inputs."""
    ctor = _constructor_or_refusal(code, len(args))
    if ctor is None:
        if args:
            raise _none_expected(len(args))
        return b""
    return encode_call(ctor, list(args))


def parse_constructor_args(code: bytes, texts: Sequence[str]) -> list[Any]:
    """Command-line words (`ghost deploy --args ...`) -> typed constructor arguments."""
    ctor = _constructor_or_refusal(code, len(texts))
    if ctor is None:
        if texts:
            raise _none_expected(len(texts))
        return []
    return parse_args(ctor, list(texts))
