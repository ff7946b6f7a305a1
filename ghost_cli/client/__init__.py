"""ghost's client for nodes: pooled HTTP/3 (QUIC) or HTTP/1.1 transports, an async
JSON-RPC client with a sync wrapper, and RemoteNetwork, the Sandbox's surface over a node.

Nothing here is imported by `ghost --help` or sandbox commands: aioquic and httpx load
on first use.
"""

from .rpc_client import GhostClient, SyncGhostClient
from .transport import Http3Transport, HttpTransport, TransportStats

__all__ = ["GhostClient", "Http3Transport", "HttpTransport", "SyncGhostClient",
           "TransportStats"]
