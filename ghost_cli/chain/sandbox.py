"""The embedded "sandbox" network: the executor over a SQLite file, in-process, no server.

Every deploy and call is a transaction checked exactly as a node checks it (chain id,
expiry, nonce). The sandbox has ten well-known development keys (ML-DSA-65 by default),
derived from public seeds so that every sandbox has the same accounts: throwaway keys,
never for real value. Their transactions are "trusted local" by default: the sandbox
accepts them from its own accounts without a signature round-trip (as anvil impersonates
an account), with the same hash, nonce, receipt and state as a signed one; a node accepts
no such transaction. Real keys come from the keystore (`ghost keys`) and are passed as
`signer`: those always sign and are verified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..abi import Abi, decode_result, parse_address, parse_args
from ..crypto.address import format_address
from ..crypto.hashing import keccak256
from ..exceptions import NotFoundError, UsageError
from ..vm.engines import Engine
from ..vm.types import Limits
from .constructor import encode_constructor_args
from .executor import Executor, Receipt
from .network import RECEIPTS, SNAPSHOT, TRACES
from .store import StateStore, open_store, parse_store_url

if TYPE_CHECKING:  # imported where used: a query builds no transaction and signs nothing
    from ..crypto.keypair import KeyPair
    from .transaction import SignedTransaction, Transaction

DEV_ACCOUNTS = 10
DEFAULT_DEV_SCHEME = "ml-dsa-65"
#: A transaction built here is valid for this long.
DEFAULT_TTL_SECONDS = 3600


#: The default scheme's development accounts, as `dev_keys` derives them (a test checks
#: they match): a sandbox knows its accounts without deriving ten keys at start-up.
DEV_ADDRESSES = {"ml-dsa-65": tuple(bytes.fromhex(h) for h in (
    "7a4bf8ae75ed159a3cbe7025150eb8bc7d594d54", "9bcd3e14862c916c8982a402fd6fd8e11a6587bd",
    "f1b296daf3f6fa9059f4918c9529fa01d4742a58", "490ba2bfa21c525453ec574c14e7b14de6e867a3",
    "615056c7962540773e682fe31029b9d70b27ffbf", "1fd48989ef78e13829f01d47421ec824f88b5e96",
    "0b5a3343c8045ae7b6821514e7bde6ea1ab83ece", "5e51ba5a65ba257533c8b241a985fb9dd0355282",
    "e829a62cba5eced894af40a1c2702de24327ddd1", "b14fc285cd6cb50db7f665cce581126f744ed07e",
))}


@lru_cache(maxsize=64)
def _dev_key(scheme: str, index: int) -> KeyPair:
    from ..crypto.keypair import KeyPair

    return KeyPair.generate(scheme, keccak256(b"ghost/sandbox-dev-key/v1"
                                              + index.to_bytes(4, "big")))


def dev_keys(scheme: str = DEFAULT_DEV_SCHEME, count: int = DEV_ACCOUNTS) -> list[KeyPair]:
    """The sandbox's development keys: seed i = keccak256("ghost/sandbox-dev-key/v1" ‖ i).
    Derived once per process."""
    return [_dev_key(scheme, i) for i in range(count)]


def dev_addresses(scheme: str = DEFAULT_DEV_SCHEME) -> list[bytes]:
    known = DEV_ADDRESSES.get(scheme)
    return list(known) if known else [k.address for k in dev_keys(scheme)]


def _open(db_path: Path | str, authenticated: bool) -> StateStore:
    """A SQLite sandbox keeps the rows its calls read in memory (store/read_cache.py)."""
    if parse_store_url(db_path).backend == "sqlite":
        from .store.read_cache import CachedSqliteStore

        return CachedSqliteStore(parse_store_url(db_path).path, authenticated=authenticated)
    return open_store(db_path, authenticated=authenticated)


class Sandbox:
    """The embedded network (chain/network.py's Network): the executor in this process,
    over a state file, with development keys."""

    capabilities = frozenset({SNAPSHOT, RECEIPTS, TRACES})

    def __init__(
        self,
        db_path: Path | str,
        *,
        name: str = "sandbox",
        chain_id: int = 1337,
        cache_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        gas_limit: int | None = None,
        limits: Limits | None = None,
        dev_scheme: str = DEFAULT_DEV_SCHEME,
        authenticated: bool = False,
        trust_dev_accounts: bool = True,
        store: StateStore | None = None,
    ) -> None:
        """`authenticated`: keep the state tree (state roots, proofs) as a node does; off by
        default because the tree costs a few hash steps per storage write.
        `trust_dev_accounts`: send the development accounts' transactions unsigned
        (TrustedLocalAuth); False signs and verifies them like any other key.
        `store`: run over this store instead of opening `db_path` (a fork, chain/fork.py)."""
        from ..vm.engines import default_engines

        self.store = store if store is not None else _open(db_path, authenticated)
        # one sandbox operation asks once whether another process committed (read_cache.py)
        self._pinned: Callable[[], AbstractContextManager[None]] = getattr(
            self.store, "pinned", nullcontext)
        self.engines = default_engines(limits or Limits(), cache_dir)
        kwargs = {} if gas_limit is None else {"default_gas_limit": gas_limit}
        self.executor = Executor(
            self.store, self.engines, chain_id=chain_id,
            read_metadata=self.engines.read_metadata, clock=clock, **kwargs,
        )
        self.name = name
        self.chain_id = chain_id
        self.clock = clock
        self.dev_scheme = dev_scheme
        self.accounts: list[bytes] = dev_addresses(dev_scheme)
        if trust_dev_accounts:
            self.executor.trusted_senders = frozenset(self.accounts)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dev_keys(self) -> list[KeyPair]:
        return dev_keys(self.dev_scheme)

    @property
    def default_signer(self) -> KeyPair:
        return self.dev_keys[0]

    @property
    def default_sender(self) -> bytes:
        return self.accounts[0]

    def dev_key(self, address: bytes) -> KeyPair:
        if address in self.accounts:
            return _dev_key(self.dev_scheme, self.accounts.index(address))
        raise NotFoundError(f"{format_address(address)} is not one of the sandbox's development "
                            "keys")

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
            # a fork looks the name up on its node too: say so, not "on the sandbox"
            scope = getattr(self.store, "names_scope", None)
            known = ", ".join(self.store.names()) or (
                "none deployed here yet" if scope else "none deployed yet")
            raise NotFoundError(f"no contract named {ref!r} {scope or 'on the sandbox'} "
                                f"({known})")
        return address

    # --- transactions ------------------------------------------------------------------

    def new_transaction(self, kind: str, sender: bytes, *, gas_limit: int | None = None,
                        **fields: Any) -> Transaction:
        """An unsigned transaction from `sender` with the next nonce and this chain's id."""
        from .transaction import Transaction

        return Transaction(
            chain_id=self.chain_id, sender=sender, nonce=self.store.nonce(sender), kind=kind,
            gas_limit=self.executor.default_gas_limit if gas_limit is None else gas_limit,
            expiry=int(self.clock()) + DEFAULT_TTL_SECONDS, **fields,
        )

    def submit(self, signed: SignedTransaction) -> Receipt:
        return self.executor.submit(signed)

    def authorize(self, tx: Transaction, signer: KeyPair | None) -> SignedTransaction:
        """A development account's transaction goes unsigned when the executor trusts it
        (same hash, nonce, receipt and state); any other key signs."""
        from .transaction import SignedTransaction, TrustedLocalAuth, sign_single

        if tx.sender in self.executor.trusted_senders and (
                signer is None or signer.public_key == self.dev_key(tx.sender).public_key):
            return SignedTransaction(tx, TrustedLocalAuth())
        signer = signer or self.default_signer
        return sign_single(tx, signer.secret_key, signer.public_key)

    def deploy(
        self, code: bytes, args: Sequence[Any] = (), *, name: str | None = None,
        signer: KeyPair | None = None, gas_limit: int | None = None,
    ) -> Receipt:
        """Deploy `code`; `args` (typed values) go to its constructor, which runs in the
        same transaction with the signer as caller."""
        sender = signer.address if signer else self.default_sender
        calldata = encode_constructor_args(code, args)
        with self._pinned():
            tx = self.new_transaction("deploy", sender, gas_limit=gas_limit, code=code,
                                      label=name or "", args=calldata)
            return self.submit(self.authorize(tx, signer))

    def call(
        self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
        signer: KeyPair | None = None, gas_limit: int | None = None,
    ) -> Receipt:
        sender = signer.address if signer else self.default_sender
        with self._pinned():
            address = self.resolve(ref)
            calldata = self.executor.encode_args(address, function, args)
            tx = self.new_transaction("call", sender, gas_limit=gas_limit, target=address,
                                      function=function, args=calldata)
            return self.submit(self.authorize(tx, signer))

    def query(
        self, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
        sender: bytes | None = None, gas_limit: int | None = None,
    ) -> Receipt:
        with self._pinned():
            return self.executor.query(
                self.resolve(ref), function, args, sender=sender or self.default_sender,
                gas_limit=gas_limit,
            )

    def call_unsigned(
        self, sender: bytes, ref: str | bytes, function: str, args: Sequence[Any] = (), *,
        gas_limit: int | None = None,
    ) -> Receipt:
        """A call from `sender` that no key signed, run and recorded as a signed one would
        be (its nonce is used): impersonation for tests. Only the sandbox has it; a node
        runs signed transactions only."""
        with self._pinned():
            address = self.resolve(ref)
            calldata = self.executor.encode_args(address, function, args)
            tx = self.new_transaction("call", sender, gas_limit=gas_limit, target=address,
                                      function=function, args=calldata)
            return self.executor.run_checked(tx)  # submit() after its checks

    def abi_of(self, address: bytes) -> Abi:
        return self.executor.abi_of(address)

    # --- what runs here (capability TRACES) -------------------------------------------

    def code(self, ref: str | bytes) -> bytes:
        """The deployed code of a contract."""
        return self.store.code(self.store.contract(self.resolve(ref)).code_hash)

    def engine_for(self, code: bytes) -> Engine:
        """The engine that runs `code` (chosen by its magic bytes), for tracing hooks."""
        return self.engines.engine_for(code)

    # --- lookups, as on a node ------------------------------------------------------------

    def receipt(self, tx_hash: bytes) -> Receipt:
        """A recorded transaction's receipt, its result decoded by the contract's ABI."""
        rec = self.store.receipt(tx_hash)
        # A failed transaction returned nothing to decode; a failed deploy left no contract.
        abi = self.abi_of(rec.target) if rec.status == "ok" else None
        result = (decode_result(abi.function(rec.function), rec.return_data)
                  if rec.function and abi is not None else None)
        return Receipt(rec.kind, rec.target, rec.function, result, rec.return_data,
                       rec.gas_used, rec.height, rec.tx_hash, rec.events, rec.logs, abi,
                       rec.status, rec.error, sender=rec.sender)

    def events(self, ref: str | bytes | None = None, *, name: str | None = None,
               from_block: int | None = None, to_block: int | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
        """Recorded events, oldest first, in the node's JSON shape (ghost_getEvents)."""
        address = None if ref is None else self.resolve(ref)
        found = self.store.events(address=address, name=name, from_block=from_block or 0,
                                  to_block=to_block, limit=limit or 100)
        return [{"name": r.event.name, "address": format_address(r.event.address),
                 "topics": ["0x" + t.hex() for t in r.event.topics],
                 "data": "0x" + r.event.data.hex(), "tx_hash": "0x" + r.tx_hash.hex(),
                 "block_height": r.height, "index": r.index} for r in found]

    def encode_args(self, address: bytes, function: str, args: Sequence[Any]) -> bytes:
        """Typed values -> call data, checked against the deployed ABI (as RemoteNetwork's)."""
        return self.executor.encode_args(address, function, args)

    def code_hash(self, ref: str | bytes) -> bytes:
        """sha256 of the deployed code, as the executor recorded it."""
        return self.store.contract(self.resolve(ref)).code_hash

    def parse_call_args(self, ref: str | bytes, function: str, texts: list[str]) -> list[Any]:
        """Command-line words → typed values, by the deployed contract's ABI."""
        if function.startswith("-"):
            raise UsageError(f"expected a function name, got option {function!r}")
        abi = self.executor.abi_of(self.resolve(ref))
        return parse_args(abi.function(function), texts)
