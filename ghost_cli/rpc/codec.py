"""JSON-RPC 2.0 framing, sans-IO: bytes -> request objects, response objects -> bytes.

Only the envelope is checked here (jsonrpc, method, params, id); what a method's params
mean is the method table's business. A body that is not JSON fails as a whole; a batch
entry that is not a valid request fails alone, and the others still run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import strict_json
from ..exceptions import (
    GhostError,
    InvalidParamsError,
    ParseError,
    RequestError,
    RequestTooLargeError,
)
from .errors import error_object

#: `id` is absent: a notification, which gets no response (JSON-RPC 2.0 section 4.1).
NO_ID = object()
#: An id is echoed back whole, so it is bounded: a string of at most this many characters,
#: or a finite number with magnitude below 2^63.
MAX_ID_CHARS = 256
MAX_ID_NUMBER = 2**63


@dataclass(frozen=True)
class Request:
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    id: Any = NO_ID
    #: Params of the wrong shape: the method is still known (metrics and logs name it,
    #: and a notification still gets no answer), but it answers this error unrun.
    error: GhostError | None = None

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



def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no object naming a member twice. Any failure
    is a ParseError (-32700).

    A repeated name is refused, not resolved: parsers disagree on which of the two
    counts (orjson and the standard library keep the last, many others the first), so a
    proxy in front of the node could read one `method`, `id`, `params` or `tx` while the
    node ran the other.

    orjson parses (several times faster than the standard library on a signed
    transaction's body), but keeps the last of a repeated name. Every member of an object
    has its own `:` outside any string, so a body with no more `:` bytes than the parsed
    document has members has no repeated name; any other body (one with a `:` inside a
    string, say) is parsed again by the standard library, which reports the name. orjson
    also reads an integer beyond 64 bits as a float, so a document holding any float is
    parsed again by the standard library too, which keeps such integers exact; so are
    bodies orjson refuses, for the standard library's error message (and what orjson
    alone refuses, such as a number too large for a double, still parses the same way it
    always did)."""
    try:
        doc = orjson.loads(body)
        floats, members = _shape(doc)
        if not floats and body.count(b":") == members:
            return doc
    except (orjson.JSONDecodeError, RecursionError):
        pass
    try:
        return strict_json.loads(body.decode("utf-8"))
    except RecursionError as exc:  # the interpreter's limit, not a fixed depth of ours
        raise ParseError("body is not valid JSON: arrays and objects nest too deeply "
                         "(about 1,000 levels at most)") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"body is not valid JSON: {_one_line(exc)}") from exc





def _shape(doc: Any) -> tuple[bool, int]:
    """Does a parsed document hold a float anywhere, and how many object members does it
    have? (orjson nests at most 1,024 deep; deeper than the interpreter allows is
    RecursionError, which the callers treat as "use the standard library".)"""
    t = type(doc)
    if t is dict:
        members = len(doc)
        doc = doc.values()
    elif t is list:
        members = 0
    else:
        return t is float, 0
    floats = False
    for v in doc:
        t = type(v)
        if t is float:
            floats = True
        elif t is dict or t is list:
            f, m = _shape(v)
            floats = floats or f
            members += m
    return floats, members


def decode(body: bytes, *, max_batch: int | None = None) -> Decoded:
    """Parse a body into requests. Raises ParseError, RequestError for an empty batch, or
    RequestTooLargeError for a batch of more than `max_batch` entries: counted before any
    entry is read, so a body of two million `1`s costs its parse, not two million
    request objects."""
    doc = parse_json(body)
    if isinstance(doc, list):
        if not doc:
            raise RequestError("empty batch")
        if max_batch is not None and len(doc) > max_batch:
            raise RequestTooLargeError(
                f"batch of {len(doc)} requests; the limit is {max_batch}", limit=max_batch)
        return Decoded(tuple(_entry(item) for item in doc), True)
    return Decoded((_entry(doc),), False)


def _entry(doc: Any) -> Request | BadEntry:
    if not isinstance(doc, dict):
        return BadEntry(None, RequestError("a request must be a JSON object"))
    rid = doc.get("id", NO_ID)
    if rid is not NO_ID and not valid_id(rid):
        return BadEntry(None, RequestError(
            f"id must be null, a string of at most {MAX_ID_CHARS} characters or a finite "
            f"number below 2^63 in magnitude"))
    reply_id = None if rid is NO_ID else rid
    if doc.get("jsonrpc") != "2.0":
        return BadEntry(reply_id, RequestError('"jsonrpc" must be "2.0"'))
    method = doc.get("method")
    if not isinstance(method, str):
        return BadEntry(reply_id, RequestError('"method" must be a string'))
    params = doc.get("params", {})
    if isinstance(params, list):
        if params:
            return Request(method, {}, rid, InvalidParamsError(
                "params are passed by name: send an object, not an array"))
        params = {}
    if not isinstance(params, dict):
        return BadEntry(reply_id, RequestError('"params" must be an object'))
    return Request(method, params, rid)


def valid_id(rid: Any) -> bool:
    """An id this node can echo: checked before anything in the request runs, since a
    reply that cannot be encoded (`1e400` parses as infinity) would lose the result."""
    if rid is None:
        return True
    if isinstance(rid, bool):
        return False
    if isinstance(rid, str):
        return len(rid) <= MAX_ID_CHARS
    if isinstance(rid, int):
        return abs(rid) < MAX_ID_NUMBER
    if isinstance(rid, float):
        return math.isfinite(rid) and abs(rid) < MAX_ID_NUMBER
    return False


def success(rid: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def failure(rid: Any, exc: GhostError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": error_object(exc)}


def encode(responses: list[dict[str, Any]], *, is_batch: bool) -> bytes:
    """Responses -> body. Nothing to say (only notifications) is the empty body."""
    if not responses:
        return b""
    parts = [encode_one(r) for r in responses]
    return join(parts, is_batch=is_batch)


def encode_one(response: dict[str, Any]) -> bytes:
    """Compact JSON. orjson encodes; what it cannot (an integer beyond 64 bits) or would
    encode loosely (NaN as null) goes to the standard library, which refuses NaN."""
    try:
        if not _shape(response)[0]:  # no float anywhere
            return orjson.dumps(response)
    except (TypeError, RecursionError):
        pass
    return json.dumps(response, separators=(",", ":"), allow_nan=False).encode()


def join(parts: list[bytes], *, is_batch: bool) -> bytes:
    """Encoded responses -> body (a batch's are an array, in order)."""
    if not parts:
        return b""
    return b"[" + b",".join(parts) + b"]" if is_batch else parts[0]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
