"""A node's settings and their defaults, gathered in one place, and the data directory's
identity file (which chain its state belongs to)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.defaults import SANDBOX_CHAIN_ID
from ..exceptions import ConfigError, UsageError
from ..fsutil import write_atomically
from ..rpc.limits import Limits
from .handshakes import HandshakeLimits
from .pool import PoolLimits

DEFAULT_HTTP = "127.0.0.1:8545"
DEFAULT_QUIC = "127.0.0.1:8443"
DEFAULT_CHAIN_ID = SANDBOX_CHAIN_ID
DEFAULT_CHECKPOINT_EVERY = 100  # transactions
DEFAULT_CHECKPOINT_MS = 1000
#: Blocks whose state the node keeps for proofs at past heights (and forks); older ones
#: are pruned as blocks are written, so the history's disk use is bounded.
DEFAULT_STATE_HISTORY_BLOCKS = 100_000
#: The file in the data directory that records which chain its state is.
NODE_FILE = "node.json"

#: Option -> environment variable, for `ghost node start --help` and docs/cli.md.
ENV_DATA_DIR = "GHOST_NODE_DATA_DIR"
ENV_HTTP = "GHOST_NODE_HTTP"
ENV_QUIC = "GHOST_NODE_QUIC"
ENV_GRPC = "GHOST_NODE_GRPC"
ENV_CHAIN_ID = "GHOST_NODE_CHAIN_ID"
ENV_CHECKPOINT_EVERY = "GHOST_NODE_CHECKPOINT_EVERY"
ENV_CHECKPOINT_MS = "GHOST_NODE_CHECKPOINT_MS"
ENV_LOG_FILE = "GHOST_NODE_LOG_FILE"
ENV_STORE = "GHOST_NODE_STORE"
ENV_MAX_CONNECTIONS = "GHOST_NODE_MAX_CONNECTIONS"
ENV_HANDSHAKES = "GHOST_NODE_HANDSHAKES_PER_ADDRESS"
ENV_WORKERS = "GHOST_NODE_WORKERS"
ENV_QUEUE = "GHOST_NODE_QUEUE"
ENV_STATE_HISTORY = "GHOST_NODE_STATE_HISTORY"
ENV_STATE_HISTORY_BLOCKS = "GHOST_NODE_STATE_HISTORY_BLOCKS"


@dataclass(frozen=True)
class HttpLimits:
    """HTTP/1.1's bounds, like HTTP/3's (node/quic.py QuicLimits); docs/rpc.md lists them."""

    max_connections: int = 256  # open at once, whole node
    request_timeout: float = 10.0  # seconds for a request (headers and body) to arrive whole
    keep_alive: float = 5.0  # seconds an idle kept-alive connection stays open
    max_header_bytes: int = 16 * 1024  # request line and headers together
    # Bytes of pipelined requests read ahead of the one being answered: past it the
    # connection is not read until its earlier requests are answered (TCP makes the
    # client wait), so pipelining costs the node this much per connection, not the
    # whole stream the client sends.
    max_read_ahead: int = 64 * 1024


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int  # 0: any free port, reported once bound

    @classmethod
    def parse(cls, text: str, what: str) -> Endpoint:
        host, sep, port = text.rpartition(":")
        host = host.strip("[]")  # [::1]:8545
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise UsageError(f"{what} must be HOST:PORT, got {text!r}")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path
    http: Endpoint | None = Endpoint.parse(DEFAULT_HTTP, "--http")
    quic: Endpoint | None = None
    grpc: Endpoint | None = None  # gRPC over TCP (ghost.v1 services), off unless asked for
    chain_id: int | None = None  # None: the data directory's, else DEFAULT_CHAIN_ID
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY
    checkpoint_ms: int | None = DEFAULT_CHECKPOINT_MS
    log_file: Path | None = None  # None: JSON lines on stderr
    store: str | None = None  # open_store URL; None: state.db in data_dir
    limits: Limits = Limits()
    pool: PoolLimits = PoolLimits()  # executions: workers at once and waiting
    http_limits: HttpLimits = HttpLimits()
    handshakes: HandshakeLimits = HandshakeLimits()  # QUIC: node/handshakes.py
    #: `--fork`: serve a fork (chain/fork.py) of this node network (a NetworkConfig)
    #: at `fork_height` instead of a chain of its own
    fork: Any = None
    fork_height: int | None = None
    fork_root: bytes | None = None  # the state root the node must report there
    state_history: bool = True  # keep the state after every block (proofs at past heights)
    #: ... of this many latest blocks (None: of every block, without bound)
    state_history_blocks: int | None = DEFAULT_STATE_HISTORY_BLOCKS

    def __post_init__(self) -> None:
        if self.http is None and self.quic is None and self.grpc is None:
            raise UsageError("a node needs at least one transport: --http, --quic or --grpc")


def resolve_chain_id(data_dir: Path, wanted: int | None, *, record: bool = True) -> int:
    """The chain this data directory holds. A new directory takes `wanted` (or the
    default), recorded now unless `record` is False (record_chain_id, once the store has
    agreed); an existing one refuses a different id rather than mixing two chains."""
    path = Path(data_dir) / NODE_FILE
    if path.is_file():
        try:
            recorded = int(json.loads(path.read_text())["chain_id"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path} is unreadable: {exc}") from exc
        if wanted is not None and wanted != recorded:
            raise ConfigError(f"{data_dir} holds chain {recorded}, not chain {wanted}; "
                              "use another --data-dir")
        return recorded
    chain_id = DEFAULT_CHAIN_ID if wanted is None else wanted
    if not 0 <= chain_id < 2**64:
        raise UsageError(f"chain id {chain_id} is outside 0..2^64-1")
    if record:
        record_chain_id(data_dir, chain_id)
    return chain_id


def record_chain_id(data_dir: Path, chain_id: int) -> None:
    """Write node.json for a new data directory (one that has it is left as it is)."""
    path = Path(data_dir) / NODE_FILE
    if path.is_file():
        return
    try:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        write_atomically(path, (json.dumps({"chain_id": chain_id}) + "\n").encode())
    except OSError as exc:
        raise ConfigError(f"cannot use data directory {data_dir}: {exc.strerror or exc}") from exc
