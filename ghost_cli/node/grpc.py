"""gRPC over TCP (grpcio's asyncio server): the ghost.v1 Contracts and Chain services
(proto/ghost/v1) as a thin adapter over NodeCore, the same core the JSON-RPC methods use.

Requests arrive as raw bytes and are parsed here rather than by grpcio, so a payload that
is not the method's protobuf message is INVALID_ARGUMENT with a message saying so (grpcio's
own deserializer failure would be INTERNAL). A GhostError becomes a gRPC status (STATUS
below) with the JSON-RPC error object (docs/rpc.md: number, message, data.code) as the
trailing metadata `ghost-error`, and the ghost code alone as `ghost-code`.

Core calls run in the node's execution pool (node/pool.py), as JSON-RPC bodies do; a full
pool is UNAVAILABLE with the `busy` error. grpcio has no connection events, so
`ConnectionWatch` samples the server's channelz sockets every second to report
connections to the metrics and log, and to close idle ones near the cap. Subscriptions
wait on CommitFeed, which NodeCore wakes after each commit through its observer hook;
they then read what is new from the store, so a subscriber sees recorded events first and
new ones after, with no gap between the two and nothing twice.
"""

from __future__ import annotations

import asyncio
import calendar
import contextvars
import ipaddress
import json
import os
import socket
import stat
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from ..exceptions import (
    ConfigError,
    CryptoError,
    ExecutionError,
    GhostError,
    InvalidModuleError,
    InvalidParamsError,
    NodeBusyError,
    NodeUnavailableError,
    NotFoundError,
    RequestTooLargeError,
    StateError,
    StoreUnavailableError,
    TransactionError,
    UnknownImportError,
    UsageError,
    one_line,
)
from ..grpc_gen.ghost.v1 import chain_pb2 as chain
from ..grpc_gen.ghost.v1 import contracts_pb2 as pb
from ..rpc.errors import INTERNAL, error_object, internal_error, truncate
from ..rpc.methods import (
    MAX_EVENT_BYTES,
    MAX_HEX_BYTES,
    MAX_NAME_CHARS,
    MAX_TX_BYTES,
    check_call_data,
)
from .config import Endpoint
from .core import Executed, NodeCore
from .pool import client_of, in_thread

ADDRESS_LEN = 20
HASH_LEN = 32
#: Events read per store query while a subscription catches up.
EVENT_PAGE = 1000
#: Seconds in-flight unary calls get to finish when the node stops.
STOP_GRACE = 2.0
#: Seconds between two samples of the server's connections (channelz).
CONNECTION_POLL = 1.0
#: Calls one connection may have open at once (HTTP/2 streams), as for HTTP/3.
MAX_STREAMS = 32
#: A connection with no call open for this long is closed (ms).
IDLE_MS = 30_000
#: Connections open at once, whole node, as for HTTP/1.1 and HTTP/3: grpcio accepts
#: without limit otherwise, and each one holds a file descriptor for at least IDLE_MS.
MAX_CONNECTIONS = 256
#: A connection that has not sent its HTTP/2 preface this long after opening is closed
#: (ms), as HTTP/1.1 closes one whose request has not arrived whole in 10 s.
HANDSHAKE_MS = 10_000
#: A request's metadata (HTTP/2 headers) at most, counted as HTTP/2 counts a header list
#: (each name and value plus 32 bytes), as HTTP/1.1 and HTTP/3 bound a request's head.
#: grpcio's own default refuses at random from 8 KiB; one bound makes it every time.
MAX_METADATA = 16 * 1024
TRANSPORT = "grpc"
#: Heights are uint64 in the protocol and int64 in the stores: past this, no block exists.
MAX_HEIGHT = 2**63 - 1

#: Ghost error -> gRPC status, most specific class first.
STATUS: tuple[tuple[type[GhostError], grpc.StatusCode], ...] = (
    (RequestTooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (UsageError, grpc.StatusCode.INVALID_ARGUMENT),
    # A deploy of code no engine takes (not a module, too large, an unknown import).
    (InvalidModuleError, grpc.StatusCode.INVALID_ARGUMENT),
    (UnknownImportError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    # Refused before it ran (nonce, signature, chain, expiry): the state is not right for
    # this transaction; nothing changed.
    (TransactionError, grpc.StatusCode.FAILED_PRECONDITION),
    (CryptoError, grpc.StatusCode.INVALID_ARGUMENT),
    # The contract ran and failed (revert, trap, gas): nothing recorded.
    (ExecutionError, grpc.StatusCode.ABORTED),
    (StoreUnavailableError, grpc.StatusCode.UNAVAILABLE),  # retryable: before StateError
    (StateError, grpc.StatusCode.INTERNAL),
    (NodeUnavailableError, grpc.StatusCode.UNAVAILABLE),
)


def status_for(exc: GhostError) -> grpc.StatusCode:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return grpc.StatusCode.UNKNOWN


#: Subscriptions open at once, whole node: each is woken by every commit, so their number
#: multiplies what one commit costs. One more is UNAVAILABLE (`busy`).
MAX_SUBSCRIPTIONS = 256
#: Subscriptions one client (an IPv4 address, an IPv6 /64: pool.client_of) may hold at once:
#: a subscription lasts as long as its client wants, so without this one address could hold
#: every place for good. One connection's worth of streams.
MAX_CLIENT_SUBSCRIPTIONS = 32
#: Seconds one message of a stream may wait for the client to read (HTTP/2's flow control)
#: before the stream ends: a subscriber that stops reading would otherwise keep its place.
WRITE_TIMEOUT = 10.0
#: A subscription's reads in the execution pool at once, all subscriptions together: a
#: commit that wakes them all cannot fill the pool's queue and make others' calls `busy`.
SUBSCRIPTION_READS = 4


class Tally:
    """How many of something each key holds at once (a client's subscriptions, a
    connection's running calls): `hold(key)` counts one for as long as it lasts."""

    def __init__(self) -> None:
        self._by_key: dict[str, int] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def count(self, key: str) -> int:
        return self._by_key.get(key, 0)

    def counts(self) -> dict[str, int]:
        """What each key holds now (a copy; keys holding nothing are absent)."""
        return dict(self._by_key)

    @contextmanager
    def hold(self, key: str):
        self._by_key[key] = self._by_key.get(key, 0) + 1
        try:
            yield
        finally:
            self._by_key[key] -= 1
            if not self._by_key[key]:
                del self._by_key[key]


class CommitFeed:
    """Wakes gRPC subscribers after each commit. A NodeCore observer: `executed` runs in
    the writer's thread, so it only schedules the wake-up on the event loop."""

    def __init__(self, max_subscriptions: int = MAX_SUBSCRIPTIONS,
                 max_per_client: int = MAX_CLIENT_SUBSCRIPTIONS) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()
        self._held = Tally()  # subscriptions open, by client
        self.max_subscriptions = max_subscriptions
        self.max_per_client = max_per_client
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def executed(self, e: Executed) -> None:
        # A block was committed: a transaction that ran (ok), or a commit carrying failed
        # ones, which are blocks too (a commit is reported on its first transaction).
        committed = e.status == "ok" or e.commit_seconds is not None
        if committed and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake)

    def committed_elsewhere(self, version: int) -> None:
        """Another node committed to the shared database (NodeCore relays its NOTIFY)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake)

    def close(self) -> None:
        """Subscriptions end (the node is stopping)."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        for w in self._waiters:
            w.set()

    @contextmanager
    def subscription(self, client: str = ""):
        """A place for one subscription of `client` (pool.client_of of its peer)."""
        if len(self._waiters) >= self.max_subscriptions:
            raise NodeBusyError(f"the node has {self.max_subscriptions} subscriptions open, "
                                "its most: retry later")
        if self._held.count(client) >= self.max_per_client:
            raise NodeBusyError(f"this client has {self.max_per_client} subscriptions open, "
                                "its most: end one, or retry later")
        w = asyncio.Event()
        self._waiters.add(w)
        try:
            with self._held.hold(client):
                yield w
        finally:
            self._waiters.discard(w)


class CallsRunning(Tally):
    """Calls whose handler is at work, by connection (its peer, "host:port"): what
    ConnectionWatch never closes for room. channelz counts a call open until its last
    byte is sent, so by channelz a call answered to a client that reads nothing (HTTP/2's
    flow control holding the answer) would hold its connection's place for good."""


# ---- messages <-> core ---------------------------------------------------------------


def _bytes(value: bytes, name: str, length: int, *, optional: bool = False) -> bytes | None:
    if optional and not value:
        return None
    if len(value) != length:
        raise InvalidParamsError(f"{name} must be {length} bytes, got {len(value)}")
    return bytes(value)


def _name(value: str, name: str) -> str:
    """A function or event name, bounded as a JSON-RPC string param is."""
    if len(value) > MAX_NAME_CHARS:
        raise InvalidParamsError(f"{name} is over the limit of {MAX_NAME_CHARS} characters")
    if "\0" in value:  # PostgreSQL text holds no NUL: its store would fail as `state`
        raise InvalidParamsError(f"{name} holds a NUL character (U+0000)")
    return value


def signed_from(msg: pb.SignedTransaction) -> Any:
    """A ghost.v1.SignedTransaction as the chain's SignedTransaction; malformed is
    tx_rejected, as from a tx.json document."""
    from ..chain.transaction import MultisigAuth, SignedTransaction, SingleAuth, Transaction
    from ..crypto.multisig import MultisigAccount

    if not msg.tx:
        raise InvalidParamsError("tx is required: the transaction's canonical bytes")
    if len(msg.tx) > MAX_TX_BYTES:  # as JSON-RPC bounds a tx.json's `tx`
        raise RequestTooLargeError(f"tx is over the limit of {MAX_TX_BYTES} bytes",
                                   limit=MAX_TX_BYTES)
    tx = Transaction.decode(msg.tx)  # TransactionError on anything malformed
    kind = msg.WhichOneof("auth")
    auth: SingleAuth | MultisigAuth | None = None
    if kind == "single":
        auth = SingleAuth(bytes(msg.single.public_key), bytes(msg.single.signature))
    elif kind == "multisig":
        try:
            account = MultisigAccount.from_bytes(msg.multisig.account)
        except CryptoError as exc:
            raise TransactionError(f"malformed multi-sig account: {exc.message}") from exc
        auth = MultisigAuth(account, tuple((s.member, bytes(s.signature))
                                           for s in msg.multisig.signatures))
    return SignedTransaction(tx, auth)


def signed_to(signed: Any) -> pb.SignedTransaction:
    """The chain's SignedTransaction as the request message (clients, tests, bench)."""
    from ..chain.transaction import MultisigAuth, SingleAuth

    msg = pb.SignedTransaction(tx=signed.tx.encode())
    if isinstance(signed.auth, SingleAuth):
        msg.single.public_key, msg.single.signature = signed.auth.public_key, signed.auth.signature
    elif isinstance(signed.auth, MultisigAuth):
        msg.multisig.account = signed.auth.account.to_bytes()
        for member, sig in signed.auth.signatures:
            msg.multisig.signatures.add(member=member, signature=sig)
    return msg


def _event(e: Any) -> pb.Event:
    return pb.Event(address=e.address, name=e.name, topics=list(e.topics), data=e.data)


def _receipt(r: Any) -> pb.Receipt:
    error = getattr(r, "error", None) or {}  # a failed transaction's {"code", "message"}
    return pb.Receipt(kind=r.kind, sender=r.sender, address=r.address, function=r.function or "",
                      return_data=r.return_data, gas_used=r.gas_used,
                      block_height=r.block_height, tx_hash=r.tx_hash,
                      events=[_event(e) for e in r.events], logs=list(r.logs),
                      status=getattr(r, "status", "ok"), error_code=error.get("code", ""),
                      error_message=error.get("message", ""))


def _block(b: Any, chain_id: int) -> chain.Block:
    return chain.Block(height=b.height, time=b.time, tx_hash=b.tx_hash, chain_id=chain_id)


# ---- the services --------------------------------------------------------------------


#: The client of the RPC being served ("host:port"): the execution pool shares its
#: waiting places by client. Set by each handler; the services' requests carry no peer.
_PEER: contextvars.ContextVar[str] = contextvars.ContextVar("ghost_grpc_peer", default="")


class GhostServices:
    """One coroutine (or async generator) per RPC, each taking the parsed request."""

    def __init__(self, core: NodeCore, feed: CommitFeed,
                 run: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.core = core
        self.feed = feed
        self.run = run or in_thread  # the node's ExecutionPool.run_from
        self._subscription_reads = asyncio.Semaphore(SUBSCRIPTION_READS)

    async def _core(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await self.run(_PEER.get(), fn, *args, **kwargs)

    async def _follow(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A subscription's read: in the pool like any other, a few at a time."""
        async with self._subscription_reads:
            return await self.run(_PEER.get(), fn, *args, **kwargs)

    # ghost.v1.Contracts

    async def _send(self, req: pb.SignedTransaction, kind: str) -> pb.Receipt:
        signed = check_call_data(signed_from(req))
        if signed.tx.kind != kind:
            other = "Call" if kind == "deploy" else "Deploy"
            raise InvalidParamsError(f"this is a {signed.tx.kind} transaction: use {other}")
        return _receipt(await self._core(self.core.send_transaction, signed, now=time.time()))

    async def deploy(self, req: pb.SignedTransaction) -> pb.Receipt:
        return await self._send(req, "deploy")

    async def call(self, req: pb.SignedTransaction) -> pb.Receipt:
        return await self._send(req, "call")

    async def query(self, req: pb.QueryRequest) -> pb.QueryReply:
        address = _bytes(req.address, "address", ADDRESS_LEN)
        if not req.function:
            raise InvalidParamsError("function must be a non-empty string")
        _name(req.function, "function")
        if len(req.args) > MAX_HEX_BYTES:
            raise RequestTooLargeError(f"args is over the limit of {MAX_HEX_BYTES} bytes",
                                       limit=MAX_HEX_BYTES)
        sender = _bytes(req.sender, "sender", ADDRESS_LEN, optional=True) or bytes(ADDRESS_LEN)
        r = await self._core(self.core.query, address, req.function, bytes(req.args),
                             sender=sender, now=time.time())
        return pb.QueryReply(return_data=r.return_data, gas_used=r.gas_used,
                             events=[_event(e) for e in r.events], logs=list(r.logs),
                             block_height=r.block_height)

    async def get_receipt(self, req: pb.GetReceiptRequest) -> pb.Receipt:
        tx_hash = _bytes(req.tx_hash, "tx_hash", HASH_LEN)
        return _receipt(await self._core(self.core.receipt, tx_hash,
                                         max_event_bytes=MAX_EVENT_BYTES))

    async def subscribe_events(self, req: pb.SubscribeEventsRequest
                               ) -> AsyncIterator[pb.EventRecord]:
        address = _bytes(req.address, "address", ADDRESS_LEN, optional=True)
        name = _name(req.name, "name") or None
        after = (min(req.from_block, MAX_HEIGHT), -1)  # (height, index) of the last sent
        with self.feed.subscription(client_of(_PEER.get())) as woken:
            while not self.feed.closed:
                woken.clear()  # before reading: a commit from here on wakes us again
                # from just past the last event sent: every read is one page of new
                # events, however many one block holds
                page = await self._follow(self.core.events, address=address, name=name,
                                          from_block=after[0], after_index=after[1],
                                          limit=EVENT_PAGE)
                for rec in page:
                    yield pb.EventRecord(event=_event(rec.event), tx_hash=rec.tx_hash,
                                         block_height=rec.height, index=rec.index)
                    after = (rec.height, rec.index)
                if len(page) == EVENT_PAGE:  # more recorded: read on
                    continue
                await woken.wait()
            raise _stopping()

    # ghost.v1.Chain

    async def get_account(self, req: chain.GetAccountRequest) -> chain.Account:
        address = _bytes(req.address, "address", ADDRESS_LEN)
        return chain.Account(address=address, nonce=await self._core(self.core.nonce, address))

    async def get_latest_block(self, req: chain.GetLatestBlockRequest) -> chain.Block:
        return _block(await self._core(self.core.block), self.core.chain_id)

    async def get_block(self, req: chain.GetBlockRequest) -> chain.Block:
        if req.height > MAX_HEIGHT:  # a uint64 no store holds: no such block
            raise NotFoundError(f"no block {req.height}")
        return _block(await self._core(self.core.block, req.height), self.core.chain_id)

    async def subscribe_blocks(self, req: chain.SubscribeBlocksRequest
                               ) -> AsyncIterator[chain.Block]:
        with self.feed.subscription(client_of(_PEER.get())) as woken:
            following = min(req.from_block, MAX_HEIGHT) or await self._follow(
                self.core.height) + 1
            while not self.feed.closed:
                woken.clear()
                height = await self._follow(self.core.height)
                while following <= height:
                    yield _block(await self._follow(self.core.block, following),
                                 self.core.chain_id)
                    following += 1
                await woken.wait()
            raise _stopping()


def _stopping() -> NodeUnavailableError:
    # UNAVAILABLE, not a clean end: the stream is not complete, the subscriber reconnects.
    return NodeUnavailableError("the node is stopping; subscribe again from the next block")


#: (service, method) -> (request message, GhostServices attribute, streams)
RPCS: dict[tuple[str, str], tuple[type, str, bool]] = {
    ("ghost.v1.Contracts", "Deploy"): (pb.SignedTransaction, "deploy", False),
    ("ghost.v1.Contracts", "Call"): (pb.SignedTransaction, "call", False),
    ("ghost.v1.Contracts", "Query"): (pb.QueryRequest, "query", False),
    ("ghost.v1.Contracts", "GetReceipt"): (pb.GetReceiptRequest, "get_receipt", False),
    ("ghost.v1.Contracts", "SubscribeEvents"): (pb.SubscribeEventsRequest, "subscribe_events",
                                                True),
    ("ghost.v1.Chain", "GetAccount"): (chain.GetAccountRequest, "get_account", False),
    ("ghost.v1.Chain", "GetLatestBlock"): (chain.GetLatestBlockRequest, "get_latest_block",
                                           False),
    ("ghost.v1.Chain", "GetBlock"): (chain.GetBlockRequest, "get_block", False),
    ("ghost.v1.Chain", "SubscribeBlocks"): (chain.SubscribeBlocksRequest, "subscribe_blocks",
                                            True),
}


class _Observer:
    """What the adapter reports: the dispatcher's observer interface (metrics, log)."""

    def request(self, method: str, error: str | None, seconds: float) -> None: ...
    def internal_error(self, method: str, exc: BaseException) -> None: ...


def _parse(cls: type, raw: bytes) -> Any:
    try:
        return cls.FromString(raw)
    except DecodeError as exc:
        raise InvalidParamsError(f"the request is not a valid {cls.DESCRIPTOR.full_name} "
                                 f"message: {exc}") from exc


#: The `ghost-error` trailer's JSON at most, and the status message's UTF-8 at most
#: (bytes). A gRPC client takes 8 KiB of metadata by default (grpcio: past it a response
#: is refused at random, past 16 KiB always, as RESOURCE_EXHAUSTED instead of its status);
#: these two, percent-encoded (3 bytes a byte at worst), and the other trailers stay under it.
MAX_GHOST_ERROR = 4096
MAX_STATUS_BYTES = 512
#: A message in an over-long `ghost-error` is cut to this (bytes of JSON).
MAX_GHOST_MESSAGE = 1024


def ghost_error(error: dict[str, Any]) -> str:
    """The JSON-RPC error object as the `ghost-error` trailer, within MAX_GHOST_ERROR bytes:
    past it, the message is cut to MAX_GHOST_MESSAGE bytes of JSON (ending in ...), then
    details are left out, the largest first (a panic's logs and frames, a revert's long
    reason), and named in `data.omitted`."""
    text = json.dumps(error)
    if len(text) <= MAX_GHOST_ERROR:
        return text
    data = dict(error.get("data") or {})
    error = {**error, "message": _cut_json(str(error.get("message", "")), MAX_GHOST_MESSAGE),
             "data": data}
    omitted: list[str] = []
    for key in sorted((k for k in data if k != "code"), key=lambda k: -len(json.dumps(data[k]))):
        text = json.dumps(error)
        if len(text) <= MAX_GHOST_ERROR:
            return text
        del data[key]
        omitted.append(key)
        data["omitted"] = sorted(omitted)
    return json.dumps(error)


def _cut_json(text: str, limit: int) -> str:
    """`text` cut so that json.dumps writes it in at most `limit` bytes (quotes aside)."""
    if len(json.dumps(text)) - 2 <= limit:
        return text
    used = 0
    for n, ch in enumerate(text):  # as json.dumps writes it: "\ud834\udd1e" is 12 bytes
        used += len(json.dumps(ch)) - 2
        if used > limit - 3:
            return text[:n] + "..."
    return text


def status_message(message: str) -> str:
    """The status message: cut as the error object's is (never an echo of unbounded input),
    and to MAX_STATUS_BYTES of UTF-8."""
    text = truncate(one_line(message))
    raw = text.encode()
    if len(raw) <= MAX_STATUS_BYTES:
        return text
    return raw[:MAX_STATUS_BYTES - 3].decode("utf-8", errors="ignore") + "..."


async def _stream(context: grpc.aio.ServicerContext, items: AsyncIterator[Any]) -> None:
    """Write each of `items`, closing the generator (its subscription's place) once done,
    before any status is sent: a status waits behind a message the client has not read."""
    try:
        first = True
        async for item in items:
            await _write(context, item, first=first)
            first = False
    finally:
        await items.aclose()


async def _write(context: grpc.aio.ServicerContext, item: Any, *, first: bool) -> None:
    """One message of a stream. HTTP/2 flow control holds a write while the client reads
    nothing: past WRITE_TIMEOUT the stream ends (UNAVAILABLE), so a subscriber that stops
    reading gives its place back, as an HTTP/1.1 client that reads no answer is closed.
    The first message's headers go first, on their own: grpcio sends them with the
    message otherwise, and a status after a write given up would carry them again, a
    batch grpcio refuses (the stream then never ends). A write grpcio fails (its
    InternalError) failed because the call is over, its client gone or the server
    stopping: nobody is left to answer, and nothing went wrong here, so it ends as a
    call its client cancels does."""

    async def write() -> None:
        if first:
            await context.send_initial_metadata(())
        await context.write(item)

    try:
        await asyncio.wait_for(write(), WRITE_TIMEOUT)
    except TimeoutError:
        raise NodeUnavailableError(
            f"the client read nothing of this stream for {WRITE_TIMEOUT:g} s; subscribe "
            "again from the next block") from None
    except grpc.aio.InternalError:
        raise asyncio.CancelledError from None


async def _abort(context: grpc.aio.ServicerContext, exc: GhostError,
                 status: grpc.StatusCode | None = None) -> None:
    context.set_trailing_metadata((("ghost-code", exc.code),
                                   ("ghost-error", ghost_error(error_object(exc)))))
    await context.abort(status or status_for(exc), status_message(exc.message))


async def _abort_internal(context: grpc.aio.ServicerContext) -> None:
    """An unexpected failure (a bug), with the error object JSON-RPC answers one with."""
    error = internal_error()
    context.set_trailing_metadata((("ghost-code", INTERNAL.code),
                                   ("ghost-error", json.dumps(error))))
    await context.abort(grpc.StatusCode.INTERNAL, error["message"])


def _handlers(services: GhostServices, observers: tuple[_Observer, ...],
              calls: CallsRunning) -> list[grpc.GenericRpcHandler]:
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}

    def report(method: str, error: str | None, start: float) -> None:
        for o in observers:
            o.request(method, error, time.perf_counter() - start)

    async def fail(context, method: str, exc: Exception) -> None:
        """Abort the call with `exc`'s status and error; a failure that is no GhostError
        is a bug: reported to the observers (the log's `internal_error` line) and
        answered as JSON-RPC answers one. Refusals are counted, not logged (docs/rpc.md).
        A status grpcio fails to send (its InternalError) finds the call over, as a
        write can (_write)."""
        try:
            if isinstance(exc, GhostError):
                await _abort(context, exc)
            for o in observers:
                o.internal_error(method, exc)
            await _abort_internal(context)
        except grpc.aio.InternalError:
            raise asyncio.CancelledError from None

    for (service, name), (cls, attr, streams) in RPCS.items():
        method = f"/{service}/{name}"
        fn = getattr(services, attr)

        def unary(fn=fn, cls=cls, method=method) -> Callable[..., Awaitable[Any]]:
            async def handle(raw: bytes, context) -> Any:
                start, error = time.perf_counter(), None
                _PEER.set(peer := _client(context))
                try:
                    with calls.hold(peer):
                        return await fn(_parse(cls, raw))
                except Exception as exc:  # a GhostError, or a bug: a status either way
                    error = exc.code if isinstance(exc, GhostError) else INTERNAL.code
                    await fail(context, method, exc)
                finally:
                    report(method, error, start)
            return handle

        def stream(fn=fn, cls=cls, method=method) -> Callable[..., Awaitable[None]]:
            async def handle(raw: bytes, context) -> None:
                start, error, failure = time.perf_counter(), None, None
                _PEER.set(peer := _client(context))
                try:
                    with calls.hold(peer):
                        await _stream(context, fn(_parse(cls, raw)))
                except Exception as exc:
                    error = exc.code if isinstance(exc, GhostError) else INTERNAL.code
                    failure = exc
                finally:
                    report(method, error, start)
                if failure is not None:  # its status may wait for the client: the call
                    await fail(context, method, failure)  # is over for the node already
            return handle

        # No request_deserializer: handlers get bytes and parse them (see the docstring).
        make = (grpc.unary_stream_rpc_method_handler if streams
                else grpc.unary_unary_rpc_method_handler)
        by_service.setdefault(service, {})[name] = make(
            (stream if streams else unary)(), response_serializer=lambda m: m.SerializeToString())
    return [grpc.method_handlers_generic_handler(s, m) for s, m in by_service.items()]


class ConnectionWatch:
    """One gRPC server's connections, sampled from channelz (grpcio reports none itself):
    each new socket is a connection opened, each one gone a connection closed. A
    connection shorter than CONNECTION_POLL may go unseen.

    It also keeps room under the cap, as the other transports do at accept time (grpcio
    has no accept hook): past `cap - free_places(cap)` connections, it closes those
    running no call (`calls`: no handler at work; an answer that waits only for its
    client to read it does not count), the longest unused first, so connections that only
    hold a socket cannot keep new clients out for long."""

    def __init__(self, server_id: int, metrics: Any, log: Any, *, calls: CallsRunning,
                 port: int | None = None, cap: int = MAX_CONNECTIONS) -> None:
        self.server_id = server_id
        self.metrics, self.log = metrics, log
        self.calls = calls
        self.port, self.cap = port, cap
        self.open: dict[int, str] = {}  # socket id -> peer
        self._seen: dict[int, int] = {}  # socket id -> when first sampled (ns, wall clock)

    def sample(self) -> None:
        now = dict(_server_sockets(self.server_id))
        for sid in now.keys() - self.open.keys():
            self.open[sid] = now[sid]
            self._seen[sid] = time.time_ns()
            self.metrics.connection_opened(TRANSPORT)
            self.log.connection(TRANSPORT, now[sid], "open")
        for sid in self.open.keys() - now.keys():
            self._seen.pop(sid, None)
            self.metrics.connection_closed(TRANSPORT)
            self.log.connection(TRANSPORT, self.open.pop(sid), "closed")
        excess = len(now) - (self.cap - free_places(self.cap))
        if excess > 0 and self.port is not None:
            self._make_room(now, excess)

    def _make_room(self, now: dict[int, str], excess: int) -> None:
        """Shut down `excess` connections that run no call, the longest unused first
        (their last call, or when they were first seen); counted as closed at the next
        sample, once grpcio has let them go."""
        unused = []
        for sid, peer in now.items():
            data = _socket_data(sid)
            if data is None or peer in self.calls:
                continue
            last = max(_stamp_ns(data.get("lastRemoteStreamCreatedTimestamp")),
                       self._seen.get(sid, 0))
            unused.append((last, sid, peer))
        chosen = {peer for _, _, peer in sorted(unused)[:excess]}
        for peer in _shut_down(self.port, chosen):
            self.log.connection(TRANSPORT, peer, "evicted", reason="connection cap reached")

    def close(self) -> None:
        for sid in list(self.open):
            self.metrics.connection_closed(TRANSPORT)
            self.log.connection(TRANSPORT, self.open.pop(sid), "closed")
        self._seen.clear()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(CONNECTION_POLL)
            self.sample()


def free_places(cap: int) -> int:
    """Places ConnectionWatch keeps free under the cap for new connections."""
    return max(1, cap // 8)


def _socket_data(sid: int) -> dict[str, Any] | None:
    from grpc._cython import cygrpc

    try:
        return json.loads(cygrpc.channelz_get_socket(sid))["socket"].get("data", {})
    except Exception:  # gone since the sample (grpcio raises a plain ValueError)
        return None


def _stamp_ns(stamp: str | None) -> int:
    """A channelz timestamp ("2026-12-07T12:37:16.465824278Z", 0 to 9 fraction digits)
    in ns since the epoch; 0 for none."""
    if not stamp:
        return 0
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 10**9 + int((fraction + "0" * 9)[:9])


def _shut_down(port: int, peers: set[str]) -> list[str]:
    """Shut down this process's TCP connections accepted on `port` from `peers` ("ip:port",
    as channelz names them); the peers done. grpcio hands out no connection: its socket is
    found among the process's descriptors by its addresses, and a shutdown through a
    duplicate descriptor ends the connection itself, which grpcio then closes."""
    done: list[str] = []
    try:
        names = os.listdir("/dev/fd")
    except OSError:
        return done
    for name in names:
        try:
            fd = int(name)
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except (ValueError, OSError):
            continue
        with sock:
            try:
                if (sock.family not in (socket.AF_INET, socket.AF_INET6)
                        or sock.type != socket.SOCK_STREAM or sock.getsockname()[1] != port):
                    continue
                peer = _peer_name(*sock.getpeername()[:2])
                if peer in peers and peer not in done:
                    sock.shutdown(socket.SHUT_RDWR)
                    done.append(peer)
            except OSError:  # not connected (the listener), or closed meanwhile
                continue
    return done


def _server_ids() -> set[int]:
    from grpc._cython import cygrpc  # channelz's C-core calls (the grpcio-channelz servicer
    # wraps these same functions)

    return {int(s["ref"]["serverId"])
            for s in json.loads(cygrpc.channelz_get_servers(0)).get("server", [])}


def _client(context: Any) -> str:
    """grpcio's peer ("ipv4:127.0.0.1:58532", "ipv6:%5B::1%5D:58532") as "host:port"."""
    return urllib.parse.unquote(context.peer() or "").split(":", 1)[-1]


def _peer_name(host: str, port: int) -> str:
    """An address as channelz names a peer: grpcio accepts IPv4 on a dual-stack socket,
    where the OS reports it IPv4-mapped ("::ffff:127.0.0.1") and channelz as IPv4."""
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        return f"{ip.ipv4_mapped}:{port}" if ip.ipv4_mapped else f"[{host}]:{port}"
    return f"{host}:{port}"


def _server_sockets(server_id: int) -> Iterable[tuple[int, str]]:
    from grpc._cython import cygrpc

    start = 0
    while True:
        page = json.loads(cygrpc.channelz_get_server_sockets(server_id, start, 100))
        refs = page.get("socketRef", [])
        for ref in refs:
            sid = int(ref["socketId"])
            # "chttp2 ipv4:127.0.0.1:58532" -> "127.0.0.1:58532", and an IPv6 peer's
            # "ipv6:%5B::1%5D:58532" -> "[::1]:58532", as _peer_name names a socket's
            peer = urllib.parse.unquote(ref.get("name", "").rsplit(" ", 1)[-1]).split(":", 1)[-1]
            yield sid, peer
            start = sid + 1
        if page.get("end", True) or not refs:
            return


async def serve_grpc(core: NodeCore, feed: CommitFeed, ep: Endpoint, *, max_body: int,
                     observers: tuple[Any, ...] = (),
                     run: Callable[..., Awaitable[Any]] | None = None,
                     max_connections: int = MAX_CONNECTIONS,
                     calls: CallsRunning | None = None,
                     ) -> tuple[grpc.aio.Server, int, int | None]:
    """Start the server on `ep` (port 0: any free): the server, its bound port, and its
    channelz id (None if it cannot be told apart) for ConnectionWatch, which takes the
    same `calls`."""
    feed.bind(asyncio.get_running_loop())
    before = _server_ids()
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", max_body),
        ("grpc.max_concurrent_streams", MAX_STREAMS),
        ("grpc.max_connection_idle_ms", IDLE_MS),
        ("grpc.max_allowed_incoming_connections", max_connections),
        ("grpc.server_handshake_timeout_ms", HANDSHAKE_MS),
        ("grpc.max_metadata_size", MAX_METADATA),
        ("grpc.absolute_max_metadata_size", MAX_METADATA),
        # grpcio shares ports by default; a port in use must be an error, as for HTTP.
        ("grpc.so_reuseport", 0),
    ])
    server.add_generic_rpc_handlers(_handlers(GhostServices(core, feed, run), observers,
                                              calls if calls is not None else CallsRunning()))
    try:
        port = server.add_insecure_port(str(ep))  # 0 or RuntimeError when it cannot bind
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen for gRPC on {ep}: {exc}") from exc
    if port == 0:
        raise ConfigError(f"cannot listen for gRPC on {ep}: address in use or unavailable")
    await server.start()
    new = _server_ids() - before
    return server, port, (new.pop() if len(new) == 1 else None)


async def stop_grpc(server: grpc.aio.Server, feed: CommitFeed) -> None:
    feed.close()  # subscriptions return; unary calls get STOP_GRACE to finish
    await server.stop(STOP_GRACE)
