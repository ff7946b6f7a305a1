"""The testing environment: a sandbox for tests, contracts whose functions are Python
callables, and a gas recorder. Usable without pytest; the plugin wires it to fixtures."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..abi.types import is_int
from ..chain.executor import Receipt
from ..chain.sandbox import Sandbox
from ..crypto.keypair import KeyPair
from ..exceptions import ExecutionError, RevertError, UsageError


@dataclass(frozen=True)
class GasRecord:
    """The gas one transaction used, for `--gas-report` and the gas snapshot."""

    contract: str
    function: str
    gas_used: int
    test: str | None
    failed: bool = False  # reverted, trapped or ran out of gas (still charged)
    fuzz: bool = False  # made by a fuzz or invariant run: out of snapshots unless --fuzz-gas


@dataclass
class ExpectedRevert:
    """What `GhostEnv.reverts` caught: the error, and its `reason` (set after the block)."""

    expected: str | re.Pattern[str] | None
    error: RevertError | None = None

    @property
    def reason(self) -> str | None:
        return self.error.reason if self.error else None


@dataclass
class Outcome:
    """One deploy, call or query as the target-comparison (`--target both`) sees it: what
    it returned, reverted with and emitted; never its gas, which differs between engines.
    The fields after `sender` are for fuzz replay lines only."""

    kind: str
    contract: str
    function: str | None
    args: tuple
    result: Any = None
    reverted: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    sender: bytes | None = None  # who sent it (fuzz replay lines name a non-default one)
    # Not compared: whether a failure happens can depend on gas (out of gas on one engine).
    failed: bool = False  # raised: a revert, out of gas, a trap, refused arguments...
    used_nonce: bool = False  # failed as a recorded transaction, which used a nonce
    rolled_back: bool = False  # made inside an `isolated()` block that has ended
    gas_limit: int | None = None  # the test's own, when it gave one

    def compared(self) -> dict[str, Any]:
        """The fields `--target both` compares."""
        return {k: v for k, v in asdict(self).items() if k not in _REPLAY_ONLY}


_REPLAY_ONLY = ("failed", "used_nonce", "rolled_back", "gas_limit")


#: warp and roll stay below this: the store keeps heights, times and expiries (a time plus
#: an hour) as signed 64-bit integers, and sqlite raised OverflowError past them
CHEAT_LIMIT = 2**62


class GhostEnv:
    """A sandbox plus the project's build artifacts, for tests (the `ghost_env` fixture).

    `accounts` are the sandbox's ten development accounts (ML-DSA-65 keys); `sender` is the
    account calls come from (accounts[0] unless `as_caller` says otherwise); `target` is the
    engine the project's contracts were built for ("wasm" or "zvm").
    """

    def __init__(self, sandbox: Sandbox, artifacts: dict[str, Path], *,
                 target: str | None = None) -> None:
        self.sandbox = sandbox
        self.artifacts = artifacts
        self.target = target
        #: Each contract's target in ghost.toml: what `ghost deploy` would deploy.
        self.deploy_targets: dict[str, str] = {}
        self.accounts = sandbox.accounts
        self.sender = sandbox.default_sender
        # Keys of other schemes that `keys()` handed out, by address, so they can sign.
        self._extra_keys: dict[bytes, KeyPair] = {}
        self._keys_by_scheme: dict[str, list[KeyPair]] = {}
        # Every deploy/call/query's outcome, compared between targets by `--target both`.
        self.outcomes: list[Outcome] = []
        # Cheatcodes: the block time the chain sees (warp), the impersonated sender (prank).
        self.clock = _Clock()
        sandbox.clock = sandbox.executor.clock = self.clock
        self.impersonating: bytes | None = None
        self.gas_by_target = False
        self.labels: dict[bytes, str] = {a: f"accounts[{i}]" for i, a in enumerate(self.accounts)}
        self.accounts = [Address(a) for a in self.accounts]
        self.gas_records: list[GasRecord] = []
        # Fuzzing (testing/fuzz.py): inside a fuzz run; each deployed contract's ABI by
        # name (replay lines); the contracts' Zig sources (literals worth trying).
        self.fuzzing = False
        self.abis: dict[str, Any] = {}
        self.sources: list[Path] = []
        self.literals: Any = None
        self.current_test: str | None = None
        self.last_receipt: Receipt | None = None
        # `ghost test -v`: print each call's trace (pytest shows it with a failing test)
        self.verbosity = _verbosity_from_env()
        #: `ghost test --fork`: the fork store (chain/fork.py: fork_height, root, fetches)
        self.fork = None

    @contextmanager
    def traced(self) -> Iterator[None]:
        """Print the call trace of the calls made inside the block, when verbosity is on."""
        if not self.verbosity:
            yield
            return
        from ..chain.network import abi_lookup
        from ..vm.trace import Recorder, recording

        recorder = Recorder(self.verbosity, abi_of=abi_lookup(self.sandbox))
        try:
            with recording(recorder):
                yield
        finally:
            self._locate_steps(recorder)
            print("\n".join(recorder.render()))

    def _locate_steps(self, recorder) -> None:
        """At -vvv, name each ZVM opcode's Zig function and line, as `ghost call -vvv`
        does: from the ZVM debug sidecar of the project's build whose code the contract
        at that address runs (a test deploys a contract at many addresses)."""
        from ..exceptions import GhostError
        from ..vm.trace import MAX_VERBOSITY

        if recorder.verbosity < MAX_VERBOSITY:
            return
        by_code = self._zvm_debug_infos

        def locate(address: bytes, pc: int) -> str | None:
            try:
                info = by_code.get(self.sandbox.store.contract(address).code_hash)
            except GhostError:
                return None
            return None if info is None else info.zvm_step_name(pc)

        if by_code:
            recorder.locate_steps(locate)

    @cached_property
    def _zvm_debug_infos(self) -> dict[bytes, Any]:
        """Code hash of each ZVM build of the session -> its debug info: read once, since
        every traced call at -vvv looks its contracts up here."""
        import hashlib

        from ..toolchain import debuginfo

        by_code: dict[bytes, Any] = {}
        for name, path in self.artifacts.items():
            info = debuginfo.load(path.parent, name, "zvm")
            built = path.parent / f"{name}.zvmc"
            if info is not None and info.zvm is not None and built.is_file():
                by_code[hashlib.sha256(built.read_bytes()).digest()] = info
        return by_code

    @contextmanager
    def as_caller(self, who: bytes | KeyPair) -> Iterator[bytes]:
        """Make calls from `who` inside the block: a development account's address (from
        `accounts` or `keys()`) or any KeyPair, which then signs. Yields the address."""
        if isinstance(who, KeyPair):
            self._extra_keys[who.address] = who
        who = _address_of(who)  # an int or 3 bytes: a UsageError, not a TypeError inside
        self._key_for(who)  # fail here, not at the first call, for an unknown address
        previous, self.sender = self.sender, who
        address = who
        try:
            yield address
        finally:
            self.sender = previous

    def keys(self, scheme: str = "ml-dsa-65", count: int = 10) -> list[KeyPair]:
        """Development keys of `scheme` (any name `ghost keys new --scheme` takes, see
        docs/keys.md), the same in every run; each can sign with
        `as_caller(key)` or `as_caller(key.address)`. Throwaway keys, never for value."""
        from ..chain.sandbox import dev_keys

        if not is_int(count) or count < 1:
            # -1 sliced the list to all but one key, a str failed a comparison inside
            raise UsageError(f"keys() takes a count of keys >= 1, not {count!r}")
        have = self._keys_by_scheme.get(scheme, [])
        if len(have) < count:
            have = dev_keys(scheme, count)
            self._keys_by_scheme[scheme] = have
            self._extra_keys.update((k.address, k) for k in have)
        return have[:count]

    @contextmanager
    def reverts(self, reason: str | re.Pattern[str] | None = None
                ) -> Iterator[ExpectedRevert]:
        """Expect the block to revert: `with env.reverts("NotOwner"): token.mint(...)`.

        `reason` is the exact revert reason (a compiled regex is searched instead); None
        accepts any reason. The block failing otherwise, or not reverting, fails the test.
        """
        if reason is not None and not isinstance(reason, (str, re.Pattern)):
            raise UsageError(f"reverts() takes a reason (str), a compiled regex or nothing, "
                             f"not {reason!r}")
        caught = ExpectedRevert(reason)
        try:
            yield caught
        except RevertError as exc:
            caught.error = exc
            if isinstance(reason, re.Pattern):
                if not reason.search(exc.reason):
                    raise AssertionError(
                        f"reverted with {exc.reason!r}, which does not match "
                        f"{reason.pattern!r}") from exc
            elif reason is not None and exc.reason != reason:
                raise AssertionError(
                    f"reverted with {exc.reason!r}, expected {reason!r}") from exc
            return
        raise AssertionError("expected a revert" + (f" with {_show(reason)}" if reason else "")
                             + ", but the block did not revert")

    def expect_event(self, receipt: Receipt, name: str, *, emitter: Any = None,
                     **fields: Any) -> dict[str, Any]:
        """Assert `receipt` holds an event `name` (emitted by `emitter`, a Contract or an
        address, when given) whose decoded fields include `fields`; return that event as
        JSON (name, address, topics, data, fields). Addresses compare as bytes or hex."""
        return expect_event(receipt, name, emitter=emitter, **fields)

    def events(self, contract: Any = None, *, name: str | None = None) -> list[dict[str, Any]]:
        """Events recorded so far in this test (by `contract` and `name` when given), oldest
        first, as `ghost events --json` shows them (with tx_hash and block_height)."""
        from ..chain.network import with_fields

        ref = _address_of(contract) if contract is not None else None
        return with_fields(self.sandbox, self.sandbox.events(ref, name=name))

    def receipt(self, tx_hash: bytes | str) -> Receipt:
        """A recorded transaction's receipt by its hash (`last_receipt` is the latest): 32
        bytes, or `0x` hex as a failure's `details["tx_hash"]` carries it."""
        from ..hexbytes import from_0x_hex

        raw = tx_hash if isinstance(tx_hash, bytes) else from_0x_hex(tx_hash, 32)
        if raw is None:
            raise UsageError(f"a transaction hash is 32 bytes or 0x and 64 hex digits, "
                             f"got {tx_hash!r:.80}")
        return self.sandbox.receipt(raw)

    @contextmanager
    def isolated(self) -> Iterator[GhostEnv]:
        """Run a block and roll all chain state back afterwards (one test's worth); the
        `ghost_env` fixture wraps every test in it, and a test may nest it. The sender, a
        warped clock, an impersonation and labels come back as they were too."""
        sender, warped, prank = self.sender, self.clock.fixed, self.impersonating
        labels = dict(self.labels)
        kept = len(self.outcomes)
        with self.sandbox.snapshot():
            try:
                yield self
            finally:
                self.sender, self.clock.fixed, self.impersonating = sender, warped, prank
                self.labels = labels
                # undone: not for replay lines, but still compared by `--target both`
                for outcome in self.outcomes[kept:]:
                    outcome.rolled_back = True

    # --- cheatcodes (the sandbox only: nothing here exists on a node network) -----------

    def warp(self, timestamp: int | None) -> None:
        """Every following call and query sees block time `timestamp` (Unix seconds), until
        warped again; None goes back to the wall clock (with `--target both`: the time the
        session started)."""
        if timestamp is not None and (not is_int(timestamp) or not 0 <= timestamp < CHEAT_LIMIT):
            raise UsageError(f"block time must be a whole number of seconds from 0 to below "
                             f"2^62, not {timestamp!r}")
        self.clock.fixed = timestamp
        self._cheated("warp", timestamp)

    def roll(self, height: int) -> None:
        """The next transaction runs in block `height` (later ones in height + 1, ...);
        queries see the latest block, height - 1 until then. Heights only move forward:
        the blocks in between are empty."""
        store = self.sandbox.store
        current = store.height()
        if not is_int(height):
            raise UsageError(f"a block height is a whole number, not {height!r}")
        if height <= current:
            raise UsageError(f"block height can only move forward: the chain is at "
                             f"{current}, asked for {height!r}")
        if height >= CHEAT_LIMIT:
            raise UsageError(f"a block height must be below 2^62, not {height}")
        if height - 1 > current:
            with store.transaction():
                store.add_block(height - 1, int(self.clock()), None)
        self._cheated("roll", height)

    @property
    def block_height(self) -> int:
        """The latest block's height (a transaction runs in the next one)."""
        return self.sandbox.store.height()

    @contextmanager
    def prank(self, address: Any) -> Iterator[bytes]:
        """Calls inside the block come from `address` (a Contract, KeyPair, bytes or 0x
        hex), which needs no key: the transactions are not signed. Sandbox tests only."""
        who = _address_of(address)
        previous, self.impersonating = self.impersonating, who
        try:
            yield who
        finally:
            self.impersonating = previous

    def load(self, contract: Any, key: bytes | str) -> bytes | None:
        """The raw bytes `contract` stores under `key` (None when absent), as the contract's
        own storage.get sees them (a u64 is 8 bytes, little-endian)."""
        return self.sandbox.store.storage_get(_address_of(contract), _key(key))

    def store(self, contract: Any, key: bytes | str, value: bytes | None) -> None:
        """Write raw bytes under `key` in `contract`'s storage (None deletes it), as if the
        contract had; the next call sees them. Rolled back with the test."""
        address = _address_of(contract)
        self.sandbox.store.contract(address)  # NotFoundError unless a contract is there
        if value is not None and not isinstance(value, (bytes, bytearray)):
            raise UsageError(f"storage values are bytes, not {type(value).__name__}")
        with self.sandbox.store.transaction():
            self.sandbox.store.storage_apply(
                address, {_key(key): None if value is None else bytes(value)})
        self._cheated("store", address, key, value)

    def _cheated(self, name: str, *args: Any) -> None:
        """Note a cheatcode among the operations: a fuzz replay says where it happened,
        since no `ghost` command can do it."""
        self.outcomes.append(Outcome("cheat", "", name, args))

    def label(self, address: Any, name: str) -> bytes:
        """Show `address` as `name` in assertion messages and reports; returns it."""
        who = _address_of(address)
        self.labels[who] = name
        return who

    def show(self, address: Any) -> str:
        """An address as checksummed hex, with its label: 0x7a4B… (accounts[0])."""
        from ..abi import format_address

        who = _address_of(address)
        name = self.labels.get(who)
        return format_address(who) + (f" ({name})" if name else "")

    def deploy(self, name: str, *args: Any, code: bytes | None = None,
               gas_limit: int | None = None) -> Contract:
        """Deploy the project's contract `name` (or raw `code`) and return a handle to it.
        `args` go to the contract's constructor (`pub fn init`), run by the deploy."""
        built = code is None
        if code is None:
            from ..exceptions import NotFoundError

            if name not in self.artifacts:
                known = ", ".join(self.artifacts) or "none"
                raise NotFoundError(f"no built contract {name!r} (built: {known})")
            code = self.artifacts[name].read_bytes()
        try:
            with _logged(self, "deploy", name, None, args, gas_limit) as outcome:
                receipt = self.sandbox.deploy(code, args, name=name, signer=self.signer,
                                              gas_limit=gas_limit)
        except RevertError:
            raise
        except ExecutionError as exc:  # a constructor's panic: located as a call's is
            if not built:
                raise
            raise self.located(name, exc) from None
        outcome.result = "0x" + receipt.address.hex()
        self.last_receipt = receipt
        self.labels.setdefault(receipt.address, name)
        contract = Contract(self, name, receipt.address)
        self.abis.setdefault(name, contract._abi)
        return contract

    def at(self, name: str, address: bytes | None = None) -> Contract:
        """A handle to the contract already deployed at `address` (default: the one
        deployed under `name`, e.g. on the node a fork reads), named `name` in reports."""
        if address is None:
            address = self.sandbox.resolve(name)
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
    def signer(self) -> KeyPair:
        """The key of the current sender."""
        return self._key_for(self.sender)

    def _key_for(self, address: bytes) -> KeyPair:
        key = self._extra_keys.get(address)
        return key if key is not None else self.sandbox.dev_key(address)

    def record(self, contract: str, function: str, receipt: Receipt) -> None:
        """Keep `receipt` as `last_receipt` and its gas for the report."""
        self.last_receipt = receipt
        self.gas_records.append(GasRecord(self._reported(contract), function, receipt.gas_used,
                                          self.current_test, fuzz=self.fuzzing))

    def record_failure(self, contract: str, function: str, gas_used: int) -> None:
        """A call that ran and failed: its gas counts in reports and snapshots too."""
        self.gas_records.append(GasRecord(self._reported(contract), function, gas_used,
                                          self.current_test, failed=True, fuzz=self.fuzzing))

    def _reported(self, contract: str) -> str:
        # --target both: the engines' gas is kept apart in the report
        return f"{contract}[{self.target}]" if self.gas_by_target else contract


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
        from ..abi import format_address

        return f"<Contract {self._name} at {format_address(self._address)}>"


class ContractFunction:
    """One ABI function of a deployed contract: call it (a transaction), `transact` it (the
    whole receipt) or `query` it (read-only, nothing recorded)."""

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
            with env.traced(), _logged(env, "call", self.contract._name, self.name, args,
                                       gas_limit) as out:
                if env.impersonating is not None:
                    receipt = env.sandbox.call_unsigned(
                        env.impersonating, self.contract._address, self.name, args,
                        gas_limit=gas_limit)
                else:
                    receipt = env.sandbox.call(self.contract._address, self.name, args,
                                               signer=env.signer, gas_limit=gas_limit)
                out.result, out.events = receipt.result, _events_of(receipt)
        except ExecutionError as exc:  # a revert or trap costs what it burnt: count it
            env.record_failure(self.contract._name, self.name, exc.gas_used)
            raise env.located(self.contract._name, exc) from None
        env.record(self.contract._name, self.name, receipt)
        return receipt

    def query(self, *args: Any, gas_limit: int | None = None) -> Any:
        """Run read-only; return the decoded result and record nothing."""
        env = self.contract._env
        try:
            with env.traced(), _logged(env, "query", self.contract._name, self.name, args,
                                       gas_limit) as out:
                receipt = env.sandbox.query(
                    self.contract._address, self.name, args,
                    sender=env.impersonating or env.sender, gas_limit=gas_limit
                )
                out.result, out.events = receipt.result, _events_of(receipt)
        except ExecutionError as exc:
            raise env.located(self.contract._name, exc) from None
        return receipt.result


def expect_event(receipt: Receipt, name: str, *, emitter: Any = None,
                 **fields: Any) -> dict[str, Any]:
    """Assert `receipt` holds an event `name` (from `emitter` when given) whose decoded
    fields include `fields`; return the first such event as JSON. The assertion's message
    lists the events the receipt does hold."""
    from ..abi import format_address

    if not isinstance(receipt, Receipt):  # c.fn() returns the decoded result, not this
        raise UsageError(f"expect_event takes a Receipt (c.fn.transact(...), or "
                         f"ghost_env.last_receipt), not {receipt!r}")
    want_address = format_address(_address_of(emitter)) if emitter is not None else None
    want = {k: _comparable(v) for k, v in fields.items()}
    events = receipt.decoded_events()
    for event in events:
        if event["name"] != name or (want_address and event["address"] != want_address):
            continue
        got = event["fields"] or {}
        if all(k in got and _comparable(got[k]) == v for k, v in want.items()):
            return event
    held = "; ".join(f"{e['name']} from {e['address']} {e['fields'] or {}}" for e in events)
    shown = {k: _readable(v) for k, v in fields.items()}
    expected = f"{name}" + (f" from {want_address}" if want_address else "") + (
        f" with {shown}" if fields else "")
    raise AssertionError(f"no event {expected} in the receipt (it holds: {held or 'none'})")


@contextmanager
def _logged(env: GhostEnv, kind: str, contract: str, function: str | None, args: tuple,
            gas_limit: int | None) -> Iterator[Outcome]:
    if gas_limit is not None and not is_int(gas_limit):
        # else a TypeError from a comparison deep in the executor
        raise UsageError(f"gas_limit is a whole number of gas, not {gas_limit!r}")
    # a deploy's sender is never the impersonated one: it is signed by the current sender
    sender = env.sender if kind == "deploy" else env.impersonating or env.sender
    outcome = Outcome(kind, contract, function, tuple(args), sender=sender,
                      gas_limit=gas_limit)
    env.outcomes.append(outcome)
    try:
        yield outcome
    except Exception as exc:
        outcome.failed = True
        if isinstance(exc, RevertError):
            outcome.reverted = exc.reason
        # the executor records a failed transaction (nonce used, a block) with its hash
        outcome.used_nonce = "tx_hash" in getattr(exc, "details", {})
        raise


def _events_of(receipt: Receipt) -> list[dict[str, Any]]:
    return [{k: e[k] for k in ("name", "address", "topics", "data", "fields")}
            for e in receipt.decoded_events()]


def _address_of(who: Any) -> bytes:
    """An address from a Contract, a KeyPair, bytes or 0x hex."""
    from ..abi import parse_address

    if isinstance(who, Contract):
        return who._address
    if isinstance(who, KeyPair):
        return who.address
    if isinstance(who, str):
        return parse_address(who)
    if isinstance(who, (bytes, bytearray, memoryview)):
        if len(who) != 20:
            raise UsageError(f"an address is 20 bytes, got {len(who)}")
        return bytes(who)
    # bytes(5) would be five zero bytes, and a list of ints some bytes: neither is meant
    raise UsageError(f"an address is a Contract, a KeyPair, 20 bytes or 0x hex, not {who!r}")


def _comparable(value: Any) -> Any:
    """Addresses and byte strings compare as lower-case 0x hex, whatever form they come in."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, (Contract, KeyPair)):
        return "0x" + _address_of(value).hex()
    return value


class Address(bytes):
    """20 address bytes that print as checksummed hex (`accounts`, `keys()[i].address` do
    not change type otherwise: they compare, hash and slice as bytes)."""

    def __repr__(self) -> str:
        from ..abi import format_address

        return f"Address({format_address(bytes(self))!r})"


class _Clock:
    """The sandbox's clock in tests: a fixed time after `warp`, else `default` when set
    (`--target both` pins it so both runs see the same block times), else the wall clock."""

    def __init__(self) -> None:
        self.fixed: int | None = None
        self.default: int | None = None

    def __call__(self) -> float:
        import time

        if self.fixed is not None:
            return float(self.fixed)
        return time.time() if self.default is None else float(self.default)


def _key(key: bytes | str) -> bytes:
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    # bytes(5) is five zero bytes: a storage key given as an int would name another key
    raise UsageError(f"a storage key is str or bytes, not {type(key).__name__} {key!r}")


def _readable(value: Any) -> Any:
    """Addresses (20 bytes, a Contract or a KeyPair) in checksum hex, other bytes as 0x hex."""
    from ..abi import format_address

    if isinstance(value, (Contract, KeyPair)):
        value = _address_of(value)
    if isinstance(value, (bytes, bytearray)):
        return format_address(bytes(value)) if len(value) == 20 else "0x" + bytes(value).hex()
    return value


def _show(reason: str | re.Pattern[str]) -> str:
    return f"/{reason.pattern}/" if isinstance(reason, re.Pattern) else repr(reason)


def _verbosity_from_env() -> int:
    import os

    from ..config.defaults import ENV_VERBOSE

    try:
        return max(0, int(os.environ.get(ENV_VERBOSE, "0") or 0))
    except ValueError:
        return 0
