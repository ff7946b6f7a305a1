"""The JSON-RPC dispatcher: request bytes in, response bytes out. No sockets, no clock
of its own: adapters (HTTP/1.1 via uvicorn, HTTP/3 via aioquic) pass the peer and `now`.

Every method runs through the method table (ghost_cli.rpc.methods). A GhostError becomes
its numbered error (ghost_cli.rpc.errors); anything else is -32603 with nothing leaked
to the caller, and its type logged for the operator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..exceptions import GhostError, MethodNotFoundError, RequestError, RequestTooLargeError
from . import codec
from .errors import INTERNAL, internal_error, truncate
from .limits import Limits
from .methods import METHODS, Context, Core, Method


class Observer(Protocol):
    """Where the dispatcher reports what it did: metrics and logs (ghost_cli.node)."""

    def request(self, method: str, error: str | None, seconds: float) -> None: ...
    def rejected(self, reason: str, *, peer: str, method: str | None, code: str) -> None: ...
    def internal_error(self, method: str, exc: BaseException) -> None: ...


class Dispatcher:
    def __init__(
        self,
        core: Core,
        *,
        limits: Limits = Limits(),  # noqa: B008 - frozen
        observers: Iterable[Observer] = (),
        methods: Iterable[Method] = METHODS,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.core = core
        self.limits = limits
        self.observers = tuple(observers)
        self.methods = {m.name: m for m in methods}
        self.timer = timer  # measures latency only; never decides anything

    @property
    def max_body(self) -> int:
        return self.limits.max_body

    def handle(self, body: bytes, *, peer: str, now: float) -> bytes:
        """One HTTP body (a request or a batch) -> the response body; b"" when every
        request was a notification."""
        if len(body) > self.limits.max_body:
            return self.too_large(len(body), peer=peer)
        try:
            decoded = codec.decode(body, max_batch=self.limits.max_batch)
        except RequestError as exc:  # not JSON, an empty batch or one over the limit: one
            self._rejected(exc, peer, None)  # error, id null
            return codec.encode([codec.failure(None, exc)], is_batch=False)
        ctx = Context(peer=peer, now=now)
        parts: list[bytes] = []
        size = 0
        for entry in decoded.entries:
            response = self._one(entry, ctx)
            if response is None:
                continue
            part = self._encode(response)
            if size + len(part) > self.limits.max_reply:
                # Ran, but its answer does not fit: say so in its place (a transaction's
                # receipt can still be read with ghost_getReceipt).
                exc = RequestTooLargeError(
                    f"the reply is over the limit of {self.limits.max_reply} bytes",
                    limit=self.limits.max_reply)
                self._rejected(exc, peer, None)
                part = codec.encode_one(codec.failure(response["id"], exc))
            size += len(part)
            parts.append(part)
        return codec.join(parts, is_batch=decoded.is_batch)

    def _encode(self, response: dict[str, Any]) -> bytes:
        try:
            return codec.encode_one(response)
        except (TypeError, ValueError) as exc:  # a result JSON cannot carry: a bug
            for o in self.observers:
                o.internal_error("encode", exc)
            return codec.encode_one(_internal(response.get("id")))

    def too_large(self, size: int | None, *, peer: str) -> bytes:
        """The response to a body over the limit; adapters call it without reading the body."""
        said = f"{size} bytes" if size is not None else "body"
        exc = RequestTooLargeError(f"{said} is over the limit of {self.limits.max_body} bytes",
                                   limit=self.limits.max_body)
        self._rejected(exc, peer, None)
        return codec.encode([codec.failure(None, exc)], is_batch=False)

    def refused(self, exc: GhostError, *, peer: str) -> bytes:
        """The response to a body refused unrun by its adapter (the node is busy or
        stopping): one error, id null, since the body was never read for ids."""
        self._rejected(exc, peer, None)
        return codec.encode([codec.failure(None, exc)], is_batch=False)

    def failed(self, exc: BaseException) -> bytes:
        """The response when handling a body failed unexpectedly (a bug): -32603 with
        nothing leaked, the exception reported to the observers (the log)."""
        for o in self.observers:
            o.internal_error("body", exc)
        return codec.encode_one(_internal(None))

    def _one(self, entry: codec.Request | codec.BadEntry, ctx: Context) -> dict[str, Any] | None:
        if isinstance(entry, codec.BadEntry):
            self._rejected(entry.error, ctx.peer, None)
            return codec.failure(entry.id, entry.error)
        method = self.methods.get(entry.method)
        label = entry.method if method else "unknown"  # bounded metric labels
        rid = None if entry.is_notification else entry.id
        start = self.timer()
        error: str | None = None
        try:
            if method is None:
                shown = entry.method if len(entry.method) <= 64 else entry.method[:61] + "..."
                raise MethodNotFoundError(f"no method {shown!r}")
            if entry.error is not None:
                raise entry.error
            result = method.handler(self.core, method.bind(entry.params), ctx)
            response = codec.success(rid, result)
        except GhostError as exc:
            error = exc.code
            self._rejected(exc, ctx.peer, label)
            response = codec.failure(rid, exc)
        except Exception as exc:  # a bug: say so without leaking internals to the caller
            error = INTERNAL.code
            for o in self.observers:
                o.internal_error(label, exc)
            response = _internal(rid)
        seconds = self.timer() - start
        for o in self.observers:
            o.request(label, error, seconds)
        return None if entry.is_notification else response

    def _rejected(self, exc: GhostError, peer: str, method: str | None) -> None:
        reason = truncate(exc.message)
        for o in self.observers:
            o.rejected(reason, peer=peer, method=method, code=exc.code)


def _internal(rid: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": internal_error()}
