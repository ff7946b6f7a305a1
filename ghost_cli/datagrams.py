"""Reading the datagrams already waiting on a UDP socket in one go.

asyncio gives a datagram endpoint one datagram per wake-up, and aioquic answers each
with a pass that builds packets over all of its connection's streams (`transmit`).
Under load many datagrams wait at once; reading them all first and transmitting once
after the last builds the same packets (an ACK waits for its delay either way) in one
pass instead of one per datagram. The node's HTTP/3 listener and the client's QUIC
connections both read this way.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

#: Datagrams read per wake-up beyond the one asyncio delivered: enough to empty a burst,
#: few enough that timers and other connections are not kept waiting.
BATCH = 64


def duplicate(transport) -> socket.socket | None:
    """A second descriptor of a datagram transport's socket: the same non-blocking queue,
    readable directly (asyncio's wrapper of the socket does not expose `recvfrom`)."""
    sock = transport.get_extra_info("socket")
    return sock.dup() if sock is not None else None


def read_waiting(sock: socket.socket, deliver: Callable[[bytes, object], None],
                 error: Callable[[OSError], None], limit: int = BATCH) -> None:
    """Hand `deliver` each datagram waiting on `sock`, at most `limit` of them; a socket
    error other than "nothing waiting" goes to `error`, as asyncio would report it."""
    for _ in range(limit):
        try:
            data, addr = sock.recvfrom(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            error(exc)
            return
        deliver(data, addr)
