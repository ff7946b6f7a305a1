"""NodePool: several nodes of ONE chain behind GhostClient's async API, with per-node
concurrency limits, timeouts, failover and retries that never apply a transaction twice.

    async with NodePool.connect(["http://10.0.0.1:8545", "http://10.0.0.2:8545"],
                                transport="http") as pool:
        receipt = await pool.send_transaction(tx_json)
        state = await pool.query(address, "get")

Reads are retried freely: on a node that does not answer (NodeUnavailableError, or no
answer within `timeout`) the node is marked down for `cooldown` seconds and the read
moves to the next node that is up. An answer the node gave (a GhostError such as
NotFoundError or a revert) is the answer, never retried.

A transaction is identified by its hash. When sending it fails ambiguously (an
AnswerLostError, or any NodeUnavailableError that is not a RequestNotSentError: the request
may have reached a node and been applied before the answer was lost), the pool asks for
ghost_getReceipt by that hash before sending again, and returns the receipt if the chain
has it (a receipt of a transaction that ran and failed is raised as its error, as a
direct send raises it). If a resend is refused as a used nonce, the receipt is looked up
once more: the first attempt landed after the lookup. So the nonce and the receipt
lookup together make a retry safe; the pool never re-signs. The nodes must serve the same chain: a
transaction that reached a node whose answer was lost may be resent to another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import (
    AnswerLostError,
    NodeUnavailableError,
    NonceError,
    NotFoundError,
    RequestNotSentError,
    UsageError,
)
from .rpc_client import RPC_NAMES, GhostClient, writes

#: Defaults, in one place.
CONCURRENCY = 16  # requests in flight per node
TIMEOUT = 10.0  # seconds for one attempt, waiting for a slot included
RETRIES = 2  # extra rounds over all nodes after the first
COOLDOWN = 5.0  # seconds a node that did not answer is tried only after the others
BACKOFF = 0.2  # seconds before the next round, doubled each round

#: GhostClient's read methods, retried and failed over freely: those whose RPC method the
#: node's method table marks as not writing.
READS = tuple(name for name, rpc in RPC_NAMES.items() if not writes(rpc))


@dataclass
class NodeState:
    client: GhostClient
    slots: asyncio.Semaphore
    down_until: float = 0.0
    failures: int = 0  # in a row

    @property
    def url(self) -> str:
        return self.client.url


class NodePool:
    def __init__(self, clients: Sequence[GhostClient], *, concurrency: int = CONCURRENCY,
                 timeout: float = TIMEOUT, retries: int = RETRIES, cooldown: float = COOLDOWN,
                 backoff: float = BACKOFF, clock: Callable[[], float] = time.monotonic) -> None:
        if not clients:
            raise UsageError("a node pool needs at least one node")
        if concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        self.nodes = [NodeState(c, asyncio.Semaphore(concurrency)) for c in clients]
        self.timeout, self.retries = timeout, retries
        self.cooldown, self.backoff = cooldown, backoff
        self.clock = clock
        self._next = 0  # round robin over the nodes that are up

    @classmethod
    def connect(cls, urls: Sequence[str], *, ca: Any = None, transport: str | None = None,
                **kwargs: Any) -> NodePool:
        if isinstance(urls, str):  # iterating it would make a "node" of each character
            raise UsageError(f"NodePool.connect takes a list of node URLs, not one string: "
                             f"NodePool.connect([{urls!r}])")
        timeout = kwargs.get("timeout", TIMEOUT)
        return cls([GhostClient(u, ca=ca, transport=transport, timeout=timeout) for u in urls],
                   **kwargs)

    async def __aenter__(self) -> NodePool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for n in self.nodes:
            await n.client.aclose()

    # ---- choosing nodes ---------------------------------------------------------------

    def order(self) -> list[NodeState]:
        """Nodes to try, in order: those up, taking turns; then those down, soonest back
        first (so a pool whose nodes are all marked down still tries them)."""
        now = self.clock()
        up = [n for n in self.nodes if n.down_until <= now]
        down = sorted((n for n in self.nodes if n.down_until > now), key=lambda n: n.down_until)
        if up:
            k = self._next % len(up)
            self._next += 1
            up = up[k:] + up[:k]
        return up + down

    def _failed(self, node: NodeState) -> None:
        node.failures += 1
        node.down_until = self.clock() + self.cooldown

    def _answered(self, node: NodeState) -> None:
        node.failures, node.down_until = 0, 0.0

    async def _attempt(self, node: NodeState, method: str, *args: Any, **kwargs: Any) -> Any:
        """One call on one node, within the timeout; no answer is NodeUnavailableError
        (RequestNotSentError when the call never got a slot to leave by)."""
        handed_over = False

        async def run() -> Any:
            nonlocal handed_over
            async with node.slots:
                handed_over = True
                return await getattr(node.client, method)(*args, **kwargs)

        try:
            result = await asyncio.wait_for(run(), self.timeout)
        except TimeoutError:
            self._failed(node)
            cls = AnswerLostError if handed_over else RequestNotSentError
            raise cls(f"{node.url} did not answer {method} within "
                      f"{self.timeout:g}s") from None
        except NodeUnavailableError:
            self._failed(node)
            raise
        self._answered(node)
        return result

    async def _rounds(self):
        """Yield the round number, sleeping between rounds (exponential backoff)."""
        for r in range(self.retries + 1):
            if r:
                await asyncio.sleep(self.backoff * 2 ** (r - 1))
            yield r

    # ---- reads -----------------------------------------------------------------------

    async def read(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A read method of GhostClient on the first node that answers."""
        if method not in READS:
            raise UsageError(f"{method} is not a read; transactions go through "
                             "send_transaction")
        last: NodeUnavailableError | None = None
        async for _ in self._rounds():
            for node in self.order():
                try:
                    return await self._attempt(node, method, *args, **kwargs)
                except NodeUnavailableError as exc:
                    last = exc
        # A read changes nothing, so whether it reached a node does not matter: the kind
        # of the last failure is kept.
        kind = type(last) if last is not None else NodeUnavailableError
        raise kind(f"no node answered {method}: {last.message if last else ''}") from last

    # ---- transactions ----------------------------------------------------------------

    async def send_transaction(self, tx_json: dict[str, Any]) -> dict[str, Any]:
        """Submit a signed transaction (its tx.json document); its receipt, exactly once."""
        from ..chain.transaction import from_json

        tx_hash = "0x" + from_json(tx_json).hash.hex()  # recomputed, never the summary's
        maybe_sent = False  # an attempt may have reached a node: look before resending
        last: NodeUnavailableError | None = None
        async for _ in self._rounds():
            for node in self.order():
                if maybe_sent and (found := await self._receipt(tx_hash)) is not None:
                    return _outcome(found)
                try:
                    return await self._attempt(node, "send_transaction", tx_json)
                except RequestNotSentError as exc:
                    last = exc  # it never left: the next node needs no lookup first
                except NodeUnavailableError as exc:  # it may have reached the node
                    maybe_sent, last = True, exc
                except NonceError:
                    # A resend refused as a replay: the earlier attempt was applied after
                    # the last lookup. Without an earlier attempt it is the caller's nonce.
                    if maybe_sent and (found := await self._receipt(tx_hash)) is not None:
                        return _outcome(found)
                    raise
        if not maybe_sent:  # every attempt was refused before it left: nothing applied it
            raise RequestNotSentError(
                f"transaction {tx_hash}: no node took it; it was not applied: "
                f"{last.message if last else ''}", tx_hash=tx_hash) from last
        raise AnswerLostError(
            f"transaction {tx_hash}: no node confirmed it; it may still have been applied "
            f"(look up its receipt): {last.message if last else ''}", tx_hash=tx_hash
        ) from last

    async def _receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt from the first node that answers; None if a node says it has none
        or none answers (a resend is then still safe: its nonce stops a replay)."""
        for node in self.order():
            try:
                return await self._attempt(node, "get_receipt", tx_hash)
            except NotFoundError:
                return None
            except NodeUnavailableError:
                continue
        return None


def _outcome(receipt: dict[str, Any]) -> dict[str, Any]:
    """What sending gives for a transaction found by its receipt: the receipt when it ran
    and succeeded; when it ran and failed (nonce used, nothing kept), the same error a
    direct send raises, so a lost answer never turns a failure into a success."""
    if receipt.get("status", "ok") == "ok":
        return receipt
    from ..rpc.errors import exception_from

    error = receipt.get("error") if isinstance(receipt.get("error"), dict) else {}
    message = str(error.get("message") or "the transaction failed")
    code = str(error.get("code") or "execution_failed")
    gas_used = receipt.get("gas_used")
    data = {"code": code, "gas_used": gas_used if isinstance(gas_used, int) else 0,
            "tx_hash": receipt.get("tx_hash"), "block_height": receipt.get("block_height")}
    if code == "reverted":
        data["reason"] = message.removeprefix("reverted: ")
    raise exception_from({"message": message, "data": data})


def _read_method(name: str):
    doc = getattr(GhostClient, name).__doc__

    async def method(self: NodePool, *args: Any, **kwargs: Any) -> Any:
        return await self.read(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = doc or f"GhostClient.{name} on the first node that answers."
    return method


for _name in READS:
    setattr(NodePool, _name, _read_method(_name))
del _name
