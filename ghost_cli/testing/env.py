"""The testing environment: a sandbox for tests, contracts whose functions are Python
callables, and a gas recorder. Usable without pytest; the plugin wires it to fixtures."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chain.executor import Receipt
from ..chain.sandbox import Sandbox
from ..exceptions import ExecutionError


@dataclass(frozen=True)
class GasRecord:
    contract: str
    function: str
    gas_used: int
    test: str | None
    failed: bool = False  # reverted, trapped or ran out of gas (still charged)


class GhostEnv:
    """A sandbox plus the project's build artifacts, for tests."""

    def __init__(self, sandbox: Sandbox, artifacts: dict[str, Path]) -> None:
        self.sandbox = sandbox
        self.artifacts = artifacts
        self.accounts = sandbox.accounts
        self.sender = sandbox.default_sender
        self.gas_records: list[GasRecord] = []
        self.current_test: str | None = None
        self.last_receipt: Receipt | None = None
        # `ghost test -v`: print each call's trace (pytest shows it with a failing test)
        self.verbosity = _verbosity_from_env()

    @contextmanager
    def traced(self) -> Iterator[None]:
        """Print the call trace of the calls made inside the block, when verbosity is on."""
        if not self.verbosity:
            yield
            return
        from ..exceptions import GhostError
        from ..vm.trace import Recorder, recording

        def abi_of(address: bytes):
            try:
                return self.sandbox.abi_of(address)
            except GhostError:
                return None

        recorder = Recorder(self.verbosity, abi_of=abi_of)
        try:
            with recording(recorder):
                yield
        finally:
            print("\n".join(recorder.render()))

    @contextmanager
    def as_caller(self, address: bytes) -> Iterator[bytes]:
        """Make calls from `address` inside the block."""
        previous, self.sender = self.sender, address
        try:
            yield address
        finally:
            self.sender = previous

    @contextmanager
    def isolated(self) -> Iterator[GhostEnv]:
        """Run a block and roll all chain state back afterwards (one test's worth)."""
        sender = self.sender
        with self.sandbox.snapshot():
            try:
                yield self
            finally:
                self.sender = sender

    def deploy(self, name: str, *args: Any, code: bytes | None = None,
               gas_limit: int | None = None) -> Contract:
        """Deploy the project's contract `name` (or raw `code`) and return a handle to it.
        `args` go to the contract's constructor (`pub fn init`), run by the deploy."""
        if code is None:
            from ..exceptions import NotFoundError

            if name not in self.artifacts:
                known = ", ".join(self.artifacts) or "none"
                raise NotFoundError(f"no built contract {name!r} (built: {known})")
            code = self.artifacts[name].read_bytes()
        receipt = self.sandbox.deploy(code, args, name=name, signer=self.signer,
                                      gas_limit=gas_limit)
        self.last_receipt = receipt
        return Contract(self, name, receipt.address)

    def at(self, name: str, address: bytes) -> Contract:
        return Contract(self, name, address)

    def located(self, name: str, exc: ExecutionError) -> ExecutionError:
        """`exc` naming its function and Zig file:line (the build's debug sidecar), with the
        backtrace and the logs made before it in its text, for pytest. A copy, to be raised
        without the engine's traceback (wasmtime's `<wasm function N>`), which says less."""
        if name not in self.artifacts:
            return exc
        from ..toolchain.debuginfo import describe_failure, locate

        error = copy.copy(locate(exc, self.artifacts[name].parent, name))
        error.args = ("\n".join([error.message, *describe_failure(error.details)]),)
        return error

    @property
    def signer(self):
        """The development key of the current sender."""
        return self.sandbox.dev_key(self.sender)

    def record(self, contract: str, function: str, receipt: Receipt) -> None:
        self.last_receipt = receipt
        self.gas_records.append(GasRecord(contract, function, receipt.gas_used, self.current_test))

    def record_failure(self, contract: str, function: str, gas_used: int) -> None:
        """A call that ran and failed: its gas counts in reports and snapshots too."""
        self.gas_records.append(GasRecord(contract, function, gas_used, self.current_test,
                                          failed=True))


class Contract:
    """A deployed contract; each ABI function is an attribute you can call.

    `address`, `name` and `abi` describe the contract unless the contract has a function
    of that name, which wins; `_address`, `_name` and `_abi` always work.
    """

    def __init__(self, env: GhostEnv, name: str, address: bytes) -> None:
        self._env = env
        self._name = name
        self._address = address
        self._abi = env.sandbox.executor.abi_of(address)
        for attr, value in (("address", address), ("name", name), ("abi", self._abi)):
            setattr(self, attr, value)
        for fn in self._abi.functions:
            setattr(self, fn.name, ContractFunction(self, fn.name))

    def __getattr__(self, function: str) -> ContractFunction:
        # Only reached for names that are not functions: say which ones there are.
        if function.startswith("_"):
            raise AttributeError(function)
        self._abi.function(function)
        raise AttributeError(function)  # pragma: no cover - function() raised already

    def __repr__(self) -> str:
        return f"<Contract {self._name} at 0x{self._address.hex()}>"


class ContractFunction:
    def __init__(self, contract: Contract, name: str) -> None:
        self.contract = contract
        self.name = name

    def __call__(self, *args: Any, gas_limit: int | None = None) -> Any:
        """Send a transaction; return the decoded result."""
        return self.transact(*args, gas_limit=gas_limit).result

    def transact(self, *args: Any, gas_limit: int | None = None) -> Receipt:
        """Send a transaction; return the whole receipt (gas, events, logs)."""
        from ..exceptions import ExecutionError

        env = self.contract._env
        try:
            with env.traced():
                receipt = env.sandbox.call(
                    self.contract._address, self.name, args, signer=env.signer,
                    gas_limit=gas_limit,
                )
        except ExecutionError as exc:  # a revert or trap costs what it burnt: count it
            env.record_failure(self.contract._name, self.name, exc.gas_used)
            raise env.located(self.contract._name, exc) from None
        env.record(self.contract._name, self.name, receipt)
        return receipt

    def query(self, *args: Any, gas_limit: int | None = None) -> Any:
        """Run read-only; return the decoded result and record nothing."""
        env = self.contract._env
        try:
            with env.traced():
                return env.sandbox.query(
                    self.contract._address, self.name, args, sender=env.sender,
                    gas_limit=gas_limit,
                ).result
        except ExecutionError as exc:
            raise env.located(self.contract._name, exc) from None


def _verbosity_from_env() -> int:
    import os

    from ..config.defaults import ENV_VERBOSE

    try:
        return max(0, int(os.environ.get(ENV_VERBOSE, "0") or 0))
    except ValueError:
        return 0
