"""The JSON-RPC method table, as data: each method's params (by name, typed) and handler.

Handlers are small functions over a `Core` (the node's apply and read logic, NodeCore in
ghost_cli.node.core); they turn its results into the JSON documented in docs/rpc.md.
Params are checked against the table before a handler runs, so handlers see bytes and
ints, never raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..chain import transaction
from ..exceptions import InvalidParamsError, RequestTooLargeError, UsageError
from ..hexbytes import from_0x_hex

ADDRESS_LEN = 20
HASH_LEN = 32
MAX_EVENTS = 1000
DEFAULT_EVENTS = 100
#: Bytes of event data and topics one ghost_getEvents (or ghost_getReceipt) reply may
#: carry: as hex they are twice that, the whole reply limit (Limits.max_reply), so more
#: can never be answered, and is refused before it is read.
MAX_EVENT_BYTES = 4 * 1024 * 1024
#: Bytes a hex param (call data, a storage key) may decode to; checked on the string's
#: length before decoding it.
MAX_HEX_BYTES = 64 * 1024
#: Characters in a string param (function, event or contract name).
MAX_NAME_CHARS = 256
#: Bytes of one encoded transaction (a tx.json's `tx`): room for the largest module a
#: node accepts (512 KiB) and its call data; checked before decoding it.
MAX_TX_BYTES = transaction.MAX_TX_BYTES


class Core(Protocol):
    """What the methods need from a node (ghost_cli.node.core.NodeCore implements it)."""

    def send_transaction(self, signed: Any, *, now: float) -> Any: ...
    def query(self, address: bytes, function: str, calldata: bytes, *, sender: bytes,
              now: float, gas_limit: int | None = None) -> Any: ...
    def receipt(self, tx_hash: bytes, *, max_event_bytes: int | None = None) -> Any: ...
    def events(self, **filters: Any) -> list[Any]: ...
    def contract(self, *, address: bytes | None = None, name: str | None = None) -> Any: ...
    def nonce(self, address: bytes) -> int: ...
    def checkpoint(self, height: int | None = None) -> dict[str, Any]: ...
    def proof(self, address: bytes, key: bytes, height: int | None = None
              ) -> dict[str, Any]: ...
    def state_at(self, height: int | None = None) -> dict[str, Any]: ...
    def code(self, code_hash: bytes) -> dict[str, Any]: ...
    def info(self) -> dict[str, Any]: ...
    def health(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Context:
    """Per-request facts an adapter supplies: who asked, and when."""

    peer: str
    now: float


# ---- params ------------------------------------------------------------------------


def _hex(value: Any, name: str, length: int | None = None) -> bytes:
    if isinstance(value, str) and len(value) > 2 + 2 * MAX_HEX_BYTES:
        raise RequestTooLargeError(f"{name} is over the limit of {MAX_HEX_BYTES} bytes",
                                   limit=MAX_HEX_BYTES)
    raw = from_0x_hex(value)
    if raw is None:
        raise InvalidParamsError(f"{name} must be 0x-prefixed hex bytes")
    if length is not None and len(raw) != length:
        raise InvalidParamsError(f"{name} must be {length} bytes, got {len(raw)}")
    return raw


def _fixed(value: Any, name: str, length: int) -> bytes:
    """Hex of exactly `length` bytes (a hash, a topic): a longer string is the wrong
    param, however long, not one over the hex limit, and is refused undecoded."""
    if isinstance(value, str) and len(value) > 2 + 2 * length:
        raise InvalidParamsError(f"{name} must be {length} bytes (0x and {2 * length} hex "
                                 f"digits), got a string of {len(value)} characters")
    return _hex(value, name, length)


def _address(value: Any, name: str) -> bytes:
    from ..abi import parse_address  # checks a mixed-case checksum

    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
        raise InvalidParamsError(f"{name} must be a 0x-prefixed address of 20 bytes")
    try:
        return parse_address(value)
    except UsageError as exc:
        raise InvalidParamsError(f"{name}: {exc.message}") from exc


def _uint(value: Any, name: str) -> int:
    n = _whole(value, name)
    if n >= 2**63:
        raise InvalidParamsError(f"{name} must be below 2^63")
    return n


def _whole(value: Any, name: str) -> int:
    """A non-negative JSON integer of any size: a gas limit, which the node compares with
    its cap (an oversized one is over the cap, with `data.limit`, not malformed)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParamsError(f"{name} must be a non-negative integer")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParamsError(f"{name} must be a non-empty string")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidParamsError(f"{name} is over the limit of {MAX_NAME_CHARS} characters")
    try:  # JSON's \ud800 escapes parse to lone surrogates, which no store can encode
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParamsError(f"{name} is not valid Unicode (a lone surrogate)") from None
    if "\0" in value:  # PostgreSQL text holds no NUL: its store would fail as `state`
        raise InvalidParamsError(f"{name} holds a NUL character (U+0000)")
    return value


def _tx(value: Any, name: str) -> Any:
    from ..chain.transaction import from_json

    if not isinstance(value, dict):
        raise InvalidParamsError(f"{name} must be a tx.json document (an object)")
    raw = value.get("tx")
    if isinstance(raw, str) and len(raw) > 2 * MAX_TX_BYTES:
        raise RequestTooLargeError(f"{name} is over the limit of {MAX_TX_BYTES} bytes",
                                   limit=MAX_TX_BYTES)
    return check_call_data(from_json(value))  # malformed is tx_rejected, as at the CLI


def check_call_data(signed: Any) -> Any:
    """A transaction's call data is bounded like a query's (the transaction's own size
    check, `too_large`), so no request makes the engines copy megabytes of it."""
    signed.tx.check_size()
    return signed


def _limit(value: Any, name: str) -> int:
    n = _uint(value, name)
    if not 1 <= n <= MAX_EVENTS:
        raise InvalidParamsError(f"{name} must be 1..{MAX_EVENTS}")
    return n


#: kind -> converter from JSON to what handlers receive.
KINDS: dict[str, Callable[[Any, str], Any]] = {
    "address": _address,
    "hash": lambda v, n: _fixed(v, n, HASH_LEN),
    "topic": lambda v, n: _fixed(v, n, HASH_LEN),
    "hex": _hex,
    "uint": _uint,
    "gas": _whole,
    "limit": _limit,
    "string": _text,
    "tx": _tx,
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # a key of KINDS
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Method:
    name: str
    params: tuple[Param, ...]
    handler: Callable[[Core, dict[str, Any], Context], Any]
    writes: bool  # changes state: runs under the node's single writer
    doc: str

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        """JSON params -> handler arguments; unknown, missing or mistyped is invalid_params."""
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:  # named, not echoed whole: a few short names at most, each quoted
            # (escaped) so a name holding a line break or a lone surrogate leaves the
            # message one line of valid Unicode
            shown = ", ".join(repr(n[:32]) for n in unknown[:5])
            raise InvalidParamsError(f"{self.name} has no param(s) {shown}"
                                     + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5
                                        else ""))
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name not in params or params[p.name] is None:
                if p.required:
                    raise InvalidParamsError(f"{self.name} needs param {p.name!r}")
                continue
            out[p.name] = KINDS[p.kind](params[p.name], p.name)
        return out


# ---- JSON shapes ----------------------------------------------------------------------


def _0x(raw: bytes) -> str:
    return "0x" + raw.hex()


def _addr(raw: bytes) -> str:
    from ..abi import format_address

    return format_address(raw)


def event_json(e: Any) -> dict[str, Any]:
    return {"name": e.name, "address": _addr(e.address), "topics": [_0x(t) for t in e.topics],
            "data": _0x(e.data)}


def receipt_json(r: Any) -> dict[str, Any]:
    """A recorded transaction. The shape of the CLI's receipt JSON (cli/render.py)
    plus kind and sender; `result` is null: clients decode return_data with the ABI."""
    return {
        "kind": r.kind,
        "sender": _addr(r.sender),
        "address": _addr(r.address),
        "function": r.function,
        "result": None,
        "return_data": _0x(r.return_data),
        "gas_used": r.gas_used,
        "block_height": r.block_height,
        "tx_hash": _0x(r.tx_hash),
        "events": [event_json(e) for e in r.events],
        "logs": list(r.logs),
        "status": getattr(r, "status", "ok"),
        "error": getattr(r, "error", None),
    }


# ---- handlers --------------------------------------------------------------------------


def send_transaction(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return receipt_json(core.send_transaction(p["tx"], now=ctx.now))


def query(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    r = core.query(p["address"], p["function"], p.get("args", b""),
                   sender=p.get("sender", bytes(ADDRESS_LEN)), now=ctx.now,
                   gas_limit=p.get("gas_limit"))
    return {"return_data": _0x(r.return_data), "gas_used": r.gas_used,
            "events": [event_json(e) for e in r.events], "logs": list(r.logs),
            "block_height": r.block_height}


def get_receipt(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return receipt_json(core.receipt(p["hash"], max_event_bytes=MAX_EVENT_BYTES))


def get_events(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    found = core.events(address=p.get("address"), name=p.get("name"), topic=p.get("topic"),
                        from_block=p.get("from_block", 0), to_block=p.get("to_block"),
                        after_index=p.get("after_index"),
                        limit=p.get("limit", DEFAULT_EVENTS), max_bytes=MAX_EVENT_BYTES)
    return {"events": [{**event_json(rec.event), "tx_hash": _0x(rec.tx_hash),
                        "block_height": rec.height, "index": rec.index} for rec in found]}


def get_contract(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if ("address" in p) == ("name" in p):
        raise InvalidParamsError("ghost_getContract takes exactly one of address, name")
    c = core.contract(address=p.get("address"), name=p.get("name"))
    return {"address": _addr(c.address), "name": c.name, "code_hash": _0x(c.code_hash),
            "abi": c.abi, "metadata": c.metadata, "deployer": _addr(c.deployer),
            "height": c.height}


def get_account(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"address": _addr(p["address"]), "nonce": core.nonce(p["address"])}


def get_checkpoint(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.checkpoint(p.get("height"))


def get_proof(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.proof(p["address"], p["key"], p.get("height"))


def get_state_root(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.state_at(p.get("height"))


def get_code(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.code(p["code_hash"])


def node_info(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.info()


def health(core: Core, p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return core.health()


METHODS: tuple[Method, ...] = (
    Method("ghost_sendTransaction", (Param("tx", "tx", doc="a tx.json document"),),
           send_transaction, True,
           "Check, run and record a signed transaction; answers once it is durable."),
    Method("ghost_query", (
        Param("address", "address"), Param("function", "string"),
        Param("args", "hex", False, "ABI-encoded call data, 0x.. (default empty)"),
        Param("sender", "address", False, "the caller the contract sees (default zero)"),
        Param("gas_limit", "gas", False, "at most the node's query gas cap (its default)"),
    ), query, False, "Run a function read-only against current state; nothing is recorded."),
    Method("ghost_getReceipt", (Param("hash", "hash"),), get_receipt, False,
           "The receipt of a recorded transaction."),
    Method("ghost_getEvents", (
        Param("address", "address", False), Param("name", "string", False),
        Param("topic", "topic", False, "matches any topic after the name"),
        Param("from_block", "uint", False), Param("to_block", "uint", False),
        Param("after_index", "uint", False,
              "only events after this index in block from_block (and those of later blocks)"),
        Param("limit", "limit", False, f"1..{MAX_EVENTS}, default {DEFAULT_EVENTS}"),
    ), get_events, False, "Recorded events, oldest first."),
    Method("ghost_getContract", (Param("address", "address", False),
                                 Param("name", "string", False)),
           get_contract, False, "A deployed contract by address or registered name."),
    Method("ghost_getAccount", (Param("address", "address"),), get_account, False,
           "An account's next nonce."),
    Method("ghost_getCheckpoint", (Param("height", "uint", False),), get_checkpoint, False,
           "A checkpoint (latest by default): state root and receipts root."),
    Method("ghost_getProof", (
        Param("address", "address"), Param("key", "hex"),
        Param("height", "uint", False, "the state after this block (default the latest)"),
    ), get_proof, False, "A storage value with its inclusion proof against the state root."),
    Method("ghost_getStateRoot", (
        Param("height", "uint", False, "after this block (default the latest)"),
    ), get_state_root, False, "The state root at a height, and how far back state is kept."),
    Method("ghost_getCode", (Param("code_hash", "hash", doc="SHA-256 of the module"),),
           get_code, False, "Deployed code by its hash."),
    Method("ghost_nodeInfo", (), node_info, False, "Chain id, version, height, transports."),
    Method("ghost_health", (), health, False, "Liveness: ok and the current height."),
)

BY_NAME: dict[str, Method] = {m.name: m for m in METHODS}
