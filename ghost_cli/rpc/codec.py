"""JSON-RPC 2.0 framing, sans-IO: bytes -> request objects, response objects -> bytes.

Only the envelope is checked here (jsonrpc, method, params, id); what a method's params
mean is the method table's business. A body that is not JSON fails as a whole; a batch
entry that is not a valid request fails alone, and the others still run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import GhostError, InvalidParamsError, ParseError, RequestError
from .errors import error_object

#: `id` is absent: a notification, which gets no response (JSON-RPC 2.0 section 4.1).
NO_ID = object()


@dataclass(frozen=True)
class Request:
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    id: Any = NO_ID

    @property
    def is_notification(self) -> bool:
        return self.id is NO_ID


@dataclass(frozen=True)
class BadEntry:
    """A batch entry (or single body) that is not a valid request: answered with `error`."""

    id: Any
    error: GhostError


@dataclass(frozen=True)
class Decoded:
    entries: tuple[Request | BadEntry, ...]
    is_batch: bool


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity. Any failure is a ParseError (-32700)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"body is not valid JSON: {_one_line(exc)}") from exc


def decode(body: bytes) -> Decoded:
    """Parse a body into requests. Raises ParseError, or RequestError for an empty batch."""
    doc = parse_json(body)
    if isinstance(doc, list):
        if not doc:
            raise RequestError("empty batch")
        return Decoded(tuple(_entry(item) for item in doc), True)
    return Decoded((_entry(doc),), False)


def _entry(doc: Any) -> Request | BadEntry:
    if not isinstance(doc, dict):
        return BadEntry(None, RequestError("a request must be a JSON object"))
    rid = doc.get("id", NO_ID)
    if rid is not NO_ID and (isinstance(rid, bool) or not isinstance(rid, str | int | float)
                             and rid is not None):
        return BadEntry(None, RequestError("id must be a string, a number or null"))
    reply_id = None if rid is NO_ID else rid
    if doc.get("jsonrpc") != "2.0":
        return BadEntry(reply_id, RequestError('"jsonrpc" must be "2.0"'))
    method = doc.get("method")
    if not isinstance(method, str):
        return BadEntry(reply_id, RequestError('"method" must be a string'))
    params = doc.get("params", {})
    if isinstance(params, list):
        if params:
            return BadEntry(reply_id, InvalidParamsError(
                "params are passed by name: send an object, not an array"))
        params = {}
    if not isinstance(params, dict):
        return BadEntry(reply_id, RequestError('"params" must be an object'))
    return Request(method, params, rid)


def success(rid: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def failure(rid: Any, exc: GhostError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": error_object(exc)}


def encode(responses: list[dict[str, Any]], *, is_batch: bool) -> bytes:
    """Responses -> body. Nothing to say (only notifications) is the empty body."""
    if not responses:
        return b""
    doc: Any = responses if is_batch else responses[0]
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
