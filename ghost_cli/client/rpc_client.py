"""GhostClient: a node's JSON-RPC methods as Python calls, async first.

    async with GhostClient("quic://127.0.0.1:8443", ca="node/tls/ca.pem") as node:
        info = await node.node_info()

Every method mirrors one RPC method (docs/rpc.md) and returns its JSON result. An error
the node reports is raised as the same ghost_cli.exceptions class the node raised, with
the node's one-line message, so the CLI shows the same errors and exit codes as with
the sandbox. `SyncGhostClient` is the same surface for synchronous code (the CLI).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Coroutine
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..exceptions import AnswerLostError, ConfigError, CryptoError
from ..hexbytes import from_0x_hex
from .answers import reading
from .transport import DEFAULT_TIMEOUT, Transport, open_transport, transport_name


def _0x(raw: bytes) -> str:
    return "0x" + bytes(raw).hex()


def _address(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    from ..abi import format_address

    return format_address(value)


def read_ca(ca: Path | str | bytes | None) -> bytes | None:
    """The PEM a client trusts (a path, or the PEM itself); a missing file, or one (or
    bytes) without a certificate that parses, is a one-line error before any connection
    is tried. (aioquic would otherwise fail to parse it inside the handshake, printing a
    traceback and then waiting out the handshake timeout.)"""
    if ca is None:
        return None
    if isinstance(ca, bytes):
        data, where = ca, "the CA PEM given"
    else:
        path = Path(ca).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read CA file {path}: {exc.strerror or exc}") from exc
        where = str(path)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise CryptoError(f"{where} holds no PEM certificate")
    import warnings

    from cryptography import x509

    try:
        # A system bundle holds old certificates cryptography warns about (a negative
        # serial number): readable, and not this command's to report.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        reason = (str(exc).splitlines() or ["unreadable"])[0]
        raise CryptoError(f"{where} holds a PEM certificate that cannot be read: "
                          f"{reason[:120]}") from None
    return data


class GhostClient:
    """One node. The URL's scheme picks the transport: `quic://` HTTP/3, `http://` or
    `https://` HTTP/1.1. `transport` may name the one expected ("quic" or "http"; a URL of
    another scheme is refused) or be any object with the Transport interface."""

    def __init__(self, url: str, *, ca: Path | str | bytes | None = None,
                 transport: str | Transport | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if transport is None or isinstance(transport, str):
            transport = open_transport(url, name=transport, ca_pem=read_ca(ca),
                                       timeout=timeout)
        self.transport = transport
        self.url = transport.url
        self._ids = itertools.count(1)
        self._ca_pem = read_ca(ca)
        self._timeout = timeout
        self._doq = None  # the DoqResolver, made by the first .ghost name

    async def __aenter__(self) -> GhostClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._doq is not None:
            await self._doq.aclose()
        await self.transport.aclose()

    async def resolve_name(self, name: str):
        """`NAME.ghost` -> NameRecord: over DNS-over-QUIC on the node's QUIC port when the
        URL is quic://; an HTTP/1.1 client asks the registry with ghost_query instead.
        NotFoundError for a free name."""
        from ..names import dns as names_dns

        if transport_name(self.url) == "quic":
            if self._doq is None:
                from urllib.parse import urlsplit

                from .transport import DoqResolver

                parts = urlsplit(self.url)
                self._doq = DoqResolver(parts.hostname, parts.port, ca_pem=self._ca_pem,
                                        timeout=self._timeout)
            wire = await self._doq.query(names_dns.make_query(name))
            return names_dns.parse_response(name, wire)
        return await self._resolve_by_query(name)

    async def _resolve_by_query(self, name: str):
        from ..abi import encode_value
        from ..exceptions import ExecutionError, NotFoundError
        from ..names import REGISTRY_ADDRESS, ZONE, NameRecord, label_of

        label = label_of(name)
        try:
            doc = await self.query(REGISTRY_ADDRESS, "entry", encode_value("string", label))
        except ExecutionError as exc:
            if "NotRegistered" in str(exc):
                raise NotFoundError(f"{label}.{ZONE} is not registered on this network") from None
            raise
        owner, target = _entry_of(label, doc)
        try:
            contract = await self.get_contract(address=target)
        except NotFoundError:
            code_hash = None
        else:
            with self._reading("get_contract"):
                code_hash = from_0x_hex(contract["code_hash"], 32)
                if code_hash is None:
                    raise ValueError("code_hash is not 0x and 32 bytes of hex")
        return NameRecord(label, owner, target, code_hash)

    def stats(self):
        return self.transport.stats()

    def _reading(self, method: str) -> AbstractContextManager[None]:
        """Reading fields of a node's answer: one of the wrong shape is an AnswerLostError
        naming the node and the method, never a TypeError or KeyError from inside."""
        return reading(AnswerLostError, self.url, method)

    async def request(self, method: str, params: dict[str, Any] | None = None, *,
                      idempotent: bool | None = None) -> Any:
        """Call one RPC method; its result, or the node's error raised as a GhostError.
        `idempotent` (sent again after a lost connection) defaults to what the method
        table says: reads are, writes and unknown methods are not."""
        from ..rpc.errors import exception_from, malformed_error

        if idempotent is None:
            idempotent = not writes(method)
        rid = next(self._ids)
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                           "params": params or {}}).encode()
        raw = await self.transport.post(body, idempotent=idempotent)
        # The request reached something that answered: an answer we cannot read is a lost
        # one (a transaction may have been applied), never a crash.
        try:
            reply = json.loads(raw)
        except (ValueError, RecursionError):
            raise AnswerLostError(
                f"{self.url} answered with something that is not JSON-RPC") from None
        if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
            raise AnswerLostError(f"{self.url} answered with something that is not "
                                  "a JSON-RPC response")
        if reply.get("error") is not None:
            error = reply["error"]
            if (wrong := malformed_error(error)) is not None:
                raise AnswerLostError(f"{self.url} answered with a malformed JSON-RPC "
                                      f"error ({wrong}): {str(error)[:200]}")
            raise exception_from(error)
        if reply.get("id") != rid:
            raise AnswerLostError(f"{self.url} answered request {rid} with id "
                                  f"{reply.get('id')!r}")
        return reply["result"]

    async def _object(self, name: str, params: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
        """Call the RPC method of GhostClient's method `name`, whose result is a JSON
        object (every one of docs/rpc.md's is): anything else is a result of the wrong
        shape, an AnswerLostError naming the node and the method, never handed on."""
        result = await self.request(RPC_NAMES[name], params)
        with self._reading(name):
            if not isinstance(result, dict):
                raise TypeError(f"the result is {type(result).__name__}, not an object")
        return result

    # ---- the RPC methods (docs/rpc.md) ----------------------------------------------

    async def send_transaction(self, tx_json: dict[str, Any]) -> dict[str, Any]:
        """Submit a signed transaction (its tx.json document); the receipt once durable.
        Never re-sent on a broken connection: the node may have applied it."""
        return await self._object("send_transaction", {"tx": tx_json})

    async def query(self, address: bytes | str, function: str, calldata: bytes = b"",
                    sender: bytes | str | None = None, gas_limit: int | None = None
                    ) -> dict[str, Any]:
        params: dict[str, Any] = {"address": _address(address), "function": function,
                                  "args": _0x(calldata)}
        if sender is not None:
            params["sender"] = _address(sender)
        if gas_limit is not None:
            params["gas_limit"] = gas_limit
        return await self._object("query", params)

    async def get_receipt(self, tx_hash: bytes | str) -> dict[str, Any]:
        return await self._object("get_receipt", {
            "hash": tx_hash if isinstance(tx_hash, str) else _0x(tx_hash)})

    async def get_events(self, *, address: bytes | str | None = None, name: str | None = None,
                         topic: bytes | str | None = None, from_block: int | None = None,
                         to_block: int | None = None, limit: int | None = None
                         ) -> list[dict[str, Any]]:
        params = {"address": None if address is None else _address(address), "name": name,
                  "topic": topic if topic is None or isinstance(topic, str) else _0x(topic),
                  "from_block": from_block, "to_block": to_block, "limit": limit}
        result = await self._object("get_events",
                                    {k: v for k, v in params.items() if v is not None})
        with self._reading("get_events"):
            events = result["events"]
            if not isinstance(events, list):
                raise TypeError(f"events is {type(events).__name__}, not a list")
        return events

    async def get_contract(self, *, address: bytes | str | None = None,
                           name: str | None = None) -> dict[str, Any]:
        params = {"address": _address(address)} if address is not None else {"name": name}
        return await self._object("get_contract", params)

    async def get_account(self, address: bytes | str) -> dict[str, Any]:
        return await self._object("get_account", {"address": _address(address)})

    async def get_checkpoint(self, height: int | None = None) -> dict[str, Any]:
        return await self._object("get_checkpoint",
                                  {} if height is None else {"height": height})

    async def get_proof(self, address: bytes | str, key: bytes, height: int | None = None
                        ) -> dict[str, Any]:
        params: dict[str, Any] = {"address": _address(address), "key": _0x(key)}
        if height is not None:
            params["height"] = height
        return await self._object("get_proof", params)

    async def get_state_root(self, height: int | None = None) -> dict[str, Any]:
        return await self._object("get_state_root",
                                  {} if height is None else {"height": height})

    async def get_code(self, code_hash: bytes) -> bytes:
        """Deployed code by its hash, checked against it (SHA-256) before it is returned."""
        import hashlib

        from ..exceptions import CryptoError

        doc = await self._object("get_code", {"code_hash": _0x(code_hash)})
        with self._reading("get_code"):
            code = from_0x_hex(doc["code"])
            if code is None:
                raise ValueError(f"code is not 0x-hex: {str(doc['code'])[:40]!r}")
        if hashlib.sha256(code).digest() != code_hash:
            raise CryptoError(f"the node's code for hash 0x{code_hash.hex()} has another hash")
        return code

    async def node_info(self) -> dict[str, Any]:
        return await self._object("node_info")

    async def health(self) -> dict[str, Any]:
        return await self._object("health")


#: GhostClient's methods and the RPC method each calls (docs/rpc.md). Whether one writes
#: comes from the node's method table, ghost_cli.rpc.methods, not from a list here.
RPC_NAMES: dict[str, str] = {
    "send_transaction": "ghost_sendTransaction", "query": "ghost_query",
    "get_receipt": "ghost_getReceipt", "get_events": "ghost_getEvents",
    "get_contract": "ghost_getContract", "get_account": "ghost_getAccount",
    "get_checkpoint": "ghost_getCheckpoint", "get_proof": "ghost_getProof",
    "get_state_root": "ghost_getStateRoot", "get_code": "ghost_getCode",
    "node_info": "ghost_nodeInfo", "health": "ghost_health",
}

#: The methods SyncGhostClient mirrors.
RPC_METHODS = ("request", *RPC_NAMES)


def writes(rpc_method: str) -> bool:
    """Whether an RPC method changes state, by the method table (imported on first use,
    the table only); an unknown method counts as a write, so it is never sent twice."""
    from ..rpc.methods import BY_NAME

    method = BY_NAME.get(rpc_method)
    return True if method is None else method.writes


class SyncGhostClient:
    """GhostClient for synchronous callers. It owns one event loop for its lifetime, so
    the pooled QUIC connection survives from one call to the next."""

    def __init__(self, url: str, *, ca: Path | str | bytes | None = None,
                 transport: str | Transport | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._runner = asyncio.Runner()
        self._closed = False
        self.client = GhostClient(url, ca=ca, transport=transport, timeout=timeout)
        self.url = self.client.url

    def _run(self, coro: Coroutine) -> Any:
        from ..exceptions import UsageError

        why = None
        if self._closed:
            why = f"this SyncGhostClient for {self.url} is closed"
        else:
            try:
                asyncio.get_running_loop()
                why = ("SyncGhostClient was called inside a running event loop: await "
                       "GhostClient's methods there")
            except RuntimeError:  # no loop running here: the one place it may run
                pass
        if why is not None:
            coro.close()  # never started: no "coroutine was never awaited" warning
            raise UsageError(why)
        return self._runner.run(coro)

    def stats(self):
        return self.client.stats()

    def close(self) -> None:
        """Close the connection and the event loop; closing again does nothing."""
        if self._closed:
            return
        try:
            self._run(self.client.aclose())
        finally:
            self._closed = True
            self._runner.close()

    def __enter__(self) -> SyncGhostClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _blocking(name: str):
    async_method = getattr(GhostClient, name)

    def method(self: SyncGhostClient, *args: Any, **kwargs: Any) -> Any:
        return self._run(getattr(self.client, name)(*args, **kwargs))

    method.__name__ = name
    method.__doc__ = async_method.__doc__
    return method


def _entry_of(label: str, doc: Any) -> tuple[bytes, bytes]:
    """(owner, target) from the registry's `entry` answer: a u32 length of 40, then owner
    ++ target. Anything else is the node's malformed answer, not an address to go on with."""
    from ..names import ZONE
    from .answers import READ_ERRORS

    try:
        raw = bytes.fromhex(doc["return_data"][2:])
    except READ_ERRORS:
        raw = b""
    if raw[:4] != (40).to_bytes(4, "little") or len(raw) != 44:
        raise AnswerLostError(f"the node's registry entry for {label}.{ZONE} is "
                              "malformed (not an owner and a target address)")
    return raw[4:24], raw[24:44]


for _name in (*RPC_METHODS, "resolve_name"):
    setattr(SyncGhostClient, _name, _blocking(_name))
del _name
