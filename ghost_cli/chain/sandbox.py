"""The embedded "sandbox" network: the executor over a SQLite file, in-process, no server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..abi import parse_address, parse_args
from ..exceptions import NotFoundError, UsageError
from ..vm.types import Limits
from .executor import Executor, Receipt
from .hashing import dev_account
from .store import StateStore

DEV_ACCOUNTS = 10


class Sandbox:
    def __init__(
        self,
        db_path: Path | str,
        *,
        chain_id: int = 1337,
        cache_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        gas_limit: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        from ..vm.engines import default_engines

        self.store = StateStore(db_path)
        self.engines = default_engines(limits or Limits(), cache_dir)
        kwargs = {} if gas_limit is None else {"default_gas_limit": gas_limit}
        self.executor = Executor(
            self.store, self.engines, chain_id=chain_id,
            read_metadata=self.engines.read_metadata, clock=clock, **kwargs,
        )
        self.accounts: list[bytes] = [dev_account(i) for i in range(DEV_ACCOUNTS)]
        self.chain_id = chain_id

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def default_sender(self) -> bytes:
        return self.accounts[0]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.store.snapshot():
            yield

    def resolve(self, ref: str | bytes) -> bytes:
        """A contract by its deployed name or its address."""
        if isinstance(ref, bytes):
            return ref
        if ref.lower().startswith("0x"):
            address = parse_address(ref)
            self.store.contract(address)  # raises NotFoundError when nothing is there
            return address
        address = self.store.address_of(ref)
        if address is None:
            known = ", ".join(self.store.names()) or "none deployed yet"
            raise NotFoundError(f"no contract named {ref!r} on the sandbox ({known})")
        return address

    def deploy(
        self, code: bytes, *, name: str | None = None, sender: bytes | None = None,
        gas_limit: int | None = None,
    ) -> Receipt:
        return self.executor.deploy(
            code, sender=sender or self.default_sender, name=name, gas_limit=gas_limit
        )

    def call(
        self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
        sender: bytes | None = None, gas_limit: int | None = None,
    ) -> Receipt:
        return self.executor.call(
            self.resolve(ref), function, args, sender=sender or self.default_sender,
            gas_limit=gas_limit,
        )

    def query(
        self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
        sender: bytes | None = None, gas_limit: int | None = None,
    ) -> Receipt:
        return self.executor.query(
            self.resolve(ref), function, args, sender=sender or self.default_sender,
            gas_limit=gas_limit,
        )

    def parse_call_args(self, ref: str | bytes, function: str, texts: list[str]) -> list[Any]:
        """Command-line words → typed values, by the deployed contract's ABI."""
        if function.startswith("-"):
            raise UsageError(f"expected a function name, got option {function!r}")
        abi = self.executor.abi_of(self.resolve(ref))
        return parse_args(abi.function(function), texts)
