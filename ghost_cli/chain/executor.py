"""Apply deploys and calls to chain state: the one execution core of sandbox and node.

The engine runs the contract against a read-only view of storage and hands back its
writes and events; only a successful run is written, inside one store transaction
together with the nonce, block and receipt. A failure raises and leaves every table
as it was. I/O-free apart from the store: time comes from the injected clock.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..abi import Abi, decode_result, encode_call
from ..exceptions import ExecutionError, InvalidModuleError, OutOfGasError
from ..vm import gas
from ..vm.engines import Engine
from ..vm.types import CallContext, Event, Outcome
from .hashing import contract_address
from .store import ContractRecord, ReceiptRecord, StateStore

MetadataReader = Callable[[bytes], "dict | None"]


@dataclass(frozen=True)
class Receipt:
    """What a deploy, call or query did."""

    kind: str  # "deploy" | "call" | "query"
    address: bytes  # the contract
    function: str | None
    result: Any  # the decoded return value (None for deploy or void)
    return_data: bytes
    gas_used: int
    block_height: int
    tx_hash: bytes | None = None  # None for a query: nothing was recorded
    events: tuple[Event, ...] = ()
    logs: tuple[str, ...] = ()
    abi: Abi | None = field(default=None, compare=False)


class Executor:
    def __init__(
        self,
        store: StateStore,
        engine: Engine,
        *,
        chain_id: int,
        read_metadata: MetadataReader,
        clock: Callable[[], float] = time.time,
        default_gas_limit: int = gas.DEFAULT_GAS_LIMIT,
    ) -> None:
        self.store = store
        self.engine = engine
        self.chain_id = chain_id
        self.read_metadata = read_metadata
        self.clock = clock
        self.default_gas_limit = default_gas_limit

    # --- deploy ----------------------------------------------------------------------

    def deploy(
        self, code: bytes, *, sender: bytes, name: str | None = None, gas_limit: int | None = None
    ) -> Receipt:
        self.engine.validate(code)
        metadata = self.read_metadata(code)
        if metadata is None or "abi" not in metadata:
            raise InvalidModuleError(
                "module has no ghost.metadata section with an ABI; build it with `ghost build`"
            )
        abi = Abi.from_json(metadata["abi"])
        limit = self.default_gas_limit if gas_limit is None else gas_limit
        gas_used = gas.TX_BASE + gas.DEPLOY_PER_BYTE * len(code)
        if gas_used > limit:
            raise OutOfGasError(
                f"out of gas: deploying {len(code)} bytes costs {gas_used}, limit {limit}",
                gas_used=limit,
            )
        nonce = self.store.nonce(sender)
        address = contract_address(sender, nonce)
        height = self.store.height() + 1
        tx_hash = self._tx_hash(sender, nonce, "deploy", address, None, code)
        with self.store.transaction():
            self.store.set_nonce(sender, nonce + 1)
            self.store.put_contract(
                ContractRecord(address, hashlib.sha256(code).digest(), abi.to_json(),
                               metadata, sender, height),
                code,
            )
            if name:
                self.store.set_name(name, address)
            self.store.add_block(height, int(self.clock()), tx_hash)
            self.store.put_receipt(
                ReceiptRecord(tx_hash, height, "deploy", sender, address, None, gas_used, b"",
                              (), ())
            )
        return Receipt("deploy", address, None, None, b"", gas_used, height, tx_hash, abi=abi)

    # --- call and query --------------------------------------------------------------

    def abi_of(self, address: bytes) -> Abi:
        return Abi.from_json(self.store.contract(address).abi)

    def call(
        self,
        address: bytes,
        function: str,
        args: Sequence[Any] = (),
        *,
        sender: bytes,
        gas_limit: int | None = None,
    ) -> Receipt:
        """Run `function` and, if it succeeds, record its effects as a new block."""
        contract, abi, calldata = self._prepare(address, function, args)
        nonce = self.store.nonce(sender)
        height = self.store.height() + 1
        now = int(self.clock())
        outcome, gas_used = self._run(contract, function, calldata, sender, gas_limit, height, now)
        result = decode_result(abi.function(function), outcome.return_data)
        tx_hash = self._tx_hash(sender, nonce, "call", address, function, calldata)
        with self.store.transaction():
            self.store.storage_apply(address, outcome.writes)
            self.store.set_nonce(sender, nonce + 1)
            self.store.add_block(height, now, tx_hash)
            self.store.put_receipt(
                ReceiptRecord(tx_hash, height, "call", sender, address, function, gas_used,
                              outcome.return_data, outcome.logs, outcome.events)
            )
        return Receipt("call", address, function, result, outcome.return_data, gas_used, height,
                       tx_hash, outcome.events, outcome.logs, abi)

    def query(
        self,
        address: bytes,
        function: str,
        args: Sequence[Any] = (),
        *,
        sender: bytes,
        gas_limit: int | None = None,
    ) -> Receipt:
        """Run `function` against current state and throw its effects away."""
        contract, abi, calldata = self._prepare(address, function, args)
        height = self.store.height()
        outcome, gas_used = self._run(
            contract, function, calldata, sender, gas_limit, height, int(self.clock())
        )
        result = decode_result(abi.function(function), outcome.return_data)
        return Receipt("query", address, function, result, outcome.return_data, gas_used, height,
                       None, outcome.events, outcome.logs, abi)

    def _prepare(
        self, address: bytes, function: str, args: Sequence[Any]
    ) -> tuple[ContractRecord, Abi, bytes]:
        contract = self.store.contract(address)
        abi = Abi.from_json(contract.abi)
        # Arguments are checked against the ABI before anything runs.
        calldata = encode_call(abi.function(function), list(args))
        return contract, abi, calldata

    def _run(
        self,
        contract: ContractRecord,
        function: str,
        calldata: bytes,
        sender: bytes,
        gas_limit: int | None,
        height: int,
        now: int,
    ) -> tuple[Outcome, int]:
        limit = self.default_gas_limit if gas_limit is None else gas_limit
        if limit < gas.TX_BASE:
            raise OutOfGasError(
                f"out of gas: limit {limit} is below the transaction base cost {gas.TX_BASE}",
                gas_used=limit,
            )
        ctx = CallContext(
            caller=sender, address=contract.address, input=calldata,
            gas_limit=limit - gas.TX_BASE, block_height=height, block_time=now,
            chain_id=self.chain_id,
        )
        code = self.store.code(contract.code_hash)
        try:
            outcome = self.engine.execute(
                code, function, ctx, lambda key: self.store.storage_get(contract.address, key)
            )
        except OutOfGasError as exc:
            exc.gas_used = limit  # the whole limit is burnt, base included
            raise
        except ExecutionError as exc:
            exc.gas_used += gas.TX_BASE
            raise
        return outcome, gas.TX_BASE + outcome.gas_used

    def _tx_hash(
        self, sender: bytes, nonce: int, kind: str, target: bytes, function: str | None,
        payload: bytes,
    ) -> bytes:
        h = hashlib.sha256(b"ghost/sandbox-tx/v1")
        for part in (
            self.chain_id.to_bytes(8, "big"), sender, nonce.to_bytes(8, "big"), kind.encode(),
            target, (function or "").encode(), payload,
        ):
            h.update(len(part).to_bytes(4, "big") + part)
        return h.digest()
