"""A query whose answer does not rest on trusting the node: `ghost query ... --prove`.

The node's `ghost_query` says what a function returns; this re-runs the function here,
on the project's own build of the contract (its hash must be the deployed code hash),
and every storage value the run reads comes from `ghost_getProof` and is checked offline
with `ghost_cli.crypto.proof.verify_proof` against one state root. The answer is then as
good as that root: the node's answer is compared with it (a result, or a failure such as
a revert), and when a checkpoint carries the root (what a rollup posts to its parent
chain) that is said too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..abi import encode_call
from ..chain.executor import check_storage_keys, decoded_result
from ..exceptions import (
    CryptoError,
    ExecutionError,
    GhostError,
    HeightUnavailableError,
    StateError,
)
from ..hexbytes import from_0x_hex
from .answers import READ_ERRORS

#: The state moved between two proofs of one run: the run is repeated this many times.
ATTEMPTS = 3


@dataclass(frozen=True)
class ProvenRead:
    key: bytes
    value: bytes | None  # None: proven absent


@dataclass(frozen=True)
class ProvenQuery:
    result: Any  # None when the run failed
    return_data: bytes
    state_root: bytes
    height: int  # the node's height the root belongs to
    checkpoint_height: int | None  # a checkpoint publishing this same root, if any
    reads: tuple[ProvenRead, ...]
    error: ExecutionError | None = None  # the run failed (a revert, a trap) over these reads

    def to_json(self) -> dict[str, Any]:
        from ..abi import to_jsonable

        return {"verified": True, "result": to_jsonable(self.result),
                "state_root": "0x" + self.state_root.hex(), "height": self.height,
                "checkpoint_height": self.checkpoint_height,
                "reads": [{"key": "0x" + r.key.hex(),
                           "value": None if r.value is None else "0x" + r.value.hex()}
                          for r in self.reads]}


class _StateMoved(Exception):
    pass


def matching_code(candidates: Sequence[bytes], code_hash: bytes) -> bytes | None:
    """The build whose hash is the deployed code hash (the executor's sha256)."""
    for code in candidates:
        if hashlib.sha256(code).digest() == code_hash:
            return code
    return None


def prove_query(net, address: bytes, function: str, args: Sequence[Any], code: bytes, *,
                sender: bytes = bytes(20), engines=None,
                gas_limit: int | None = None) -> ProvenQuery:
    """Run `function` locally over proven storage. `net` is a RemoteNetwork; `code` the
    deployed module (checked against the contract's code hash by the caller); `gas_limit`
    the query's, as the node was given it (None: the default limit, as a node's). A run
    that fails is a ProvenQuery with `error` set: the failure is proven as a result is."""
    from ..vm.engines import default_engines
    from ..vm.types import Limits

    engines = engines or default_engines(Limits(), None)
    fn = net.abi_of(address).function(function)
    calldata = encode_call(fn, list(args))
    for _ in range(ATTEMPTS):
        try:
            return _run_once(net, engines, address, fn, calldata, code, sender, gas_limit)
        except _StateMoved:
            continue
    raise StateError(f"the node's state kept changing while proving {function}: "
                     "try again when it is quieter")


def _hash32(text: Any, what: str) -> bytes:
    """`text` as exactly 0x and 32 bytes of hex, else CryptoError naming `what`."""
    raw = from_0x_hex(text, 32)
    if raw is None:
        raise CryptoError(f"{what} is malformed: {str(text)[:70]!r} is not 0x and 32 bytes "
                          "of hex")
    return raw


def _height(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CryptoError(f"the node's height {value!r} is not a block height")
    return value


def _run_once(net, engines, address, fn, calldata, code, sender, gas_limit) -> ProvenQuery:
    from ..crypto.proof import Proof, verify_proof
    from ..vm import gas
    from ..vm.types import CallContext

    client = net.client
    info = client.node_info()  # the root every proof of this run must be against
    if "state_root" not in info:
        # The node's own ghost_getProof answers `state` here: so does this (exit 8).
        raise StateError("this node keeps no state tree (a fork), so it cannot prove "
                         "anything")
    try:
        root = _hash32(info["state_root"], "the node's state root")
        height = _height(info["height"])
    except READ_ERRORS as exc:
        raise CryptoError(f"the node's ghost_nodeInfo answer is malformed ({exc!r})") from None
    reads: dict[bytes, bytes | None] = {}
    failure: list[BaseException] = []

    def read(key: bytes) -> bytes | None:
        # Called from inside the engine's host call: never raise through it; remember.
        if key in reads or failure:
            return reads.get(key)
        try:
            try:  # at the root's height: blocks written meanwhile change nothing
                doc = client.get_proof(address, key, height=height)
            except HeightUnavailableError:  # a node without state history moved on
                raise _StateMoved() from None
            # Asked at `height`, a proof against another root is no race but a lie.
            if _hash32(doc["state_root"], "the node's proof's state root") != root:
                raise CryptoError(f"the node's proof for storage key 0x{key.hex()} is against "
                                  f"state root {doc['state_root']}, not 0x{root.hex()}, the "
                                  f"root it reported at height {height}")
            value = None if doc["value"] is None else _value(doc["value"])
            if not verify_proof(root, address, key, value, Proof.from_json(doc["proof"])):
                raise CryptoError(f"the node's proof for storage key 0x{key.hex()} does not "
                                  f"verify against state root 0x{root.hex()}")
        except (GhostError, _StateMoved) as exc:
            failure.append(exc)
            return None
        except READ_ERRORS as exc:  # a malformed answer
            failure.append(CryptoError(f"the node's proof for storage key 0x{key.hex()} is "
                                       f"malformed ({type(exc).__name__}: {exc})"))
            return None
        reads[key] = value
        return value

    limit = gas.DEFAULT_GAS_LIMIT if gas_limit is None else gas_limit
    ctx = CallContext(caller=sender, address=address, input=calldata,
                      gas_limit=max(limit - gas.TX_BASE, 0), block_height=height,
                      block_time=int(time.time()), chain_id=net.chain_id)
    result, return_data, error = None, b"", None
    try:
        outcome = engines.execute(code, fn.name, ctx, read)
        check_storage_keys(outcome, gas.TX_BASE)  # a node's query is held to it too
        return_data = outcome.return_data
        result = decoded_result(fn, return_data)  # a misfit is a trap, as on a node
    except ExecutionError as exc:
        error = exc
    except GhostError:
        if failure:  # the run failed because a read did: that is the error to report
            raise failure[0] from None
        raise
    if failure:  # a read failed, whatever the run made of the None it got
        raise failure[0]
    return ProvenQuery(result, return_data, root, height, _published_at(client, root),
                       tuple(ProvenRead(k, v) for k, v in reads.items()), error)


def _value(text: Any) -> bytes:
    raw = from_0x_hex(text)
    if raw is None:
        raise ValueError(f"value {text[:70]!r} is not 0x and hex")
    return raw


def _published_at(client, root: bytes) -> int | None:
    """The height of the node's latest checkpoint when it carries `root`, else None.
    Only reported, never trusted for the answer; a malformed one is still the node's fault."""
    from ..chain.checkpoint import Checkpoint
    from ..exceptions import NotFoundError, UsageError

    try:
        doc = client.get_checkpoint()
    except NotFoundError:
        return None
    try:
        checkpoint = Checkpoint.from_json(doc)  # exactly the ghost_getCheckpoint form
    except (UsageError, *READ_ERRORS) as exc:
        raise CryptoError(f"the node's latest checkpoint is malformed ({exc})") from None
    return checkpoint.height if checkpoint.state_root == root else None
