"""Which QUIC Initial packets may start a TLS handshake now (I/O-free; times are given).

An Initial packet costs its sender nothing, and the handshake it starts costs the node
about a millisecond and a half on the event loop every transport shares: unchecked, a few
thousand of them from one socket hold every transport up for seconds. So the listener
starts a handshake only within two budgets, token buckets refilled over time: one per
source address (IPv6 by /64, what one host usually has) and one for the whole listener.
An Initial outside them is answered with a Retry (RFC 9000 §8.1.2): stateless and about
as cheap as reading the packet. A real client comes straight back with the Retry's token,
which proves it owns its address; those Initials draw on their address's second budget
and past it are dropped (the client sends them again later). So a flood from addresses
nobody answers at costs a Retry each, and one from a real address the handshakes of its
own budgets; a spoofed flood can at most send a victim's clients through a Retry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Admission(enum.Enum):
    START = "started"  # begin the handshake
    RETRY = "retry"  # answer with a Retry: the sender must prove its address
    DROP = "dropped"  # a proven address over its budget: nothing, the client resends


@dataclass(frozen=True)
class HandshakeLimits:
    per_address_rate: float = 8.0  # handshakes a second, refilled per address and budget
    per_address_burst: int = 16  # handshakes at once per address, per budget
    total_rate: float = 128.0  # handshakes a second without a Retry, all addresses
    total_burst: int = 256
    # Addresses remembered at once. Only Initials the whole-listener budget let through,
    # or holding a valid token, add one, and one is forgotten once its budget is full
    # again, so this is a backstop: past it, new addresses are answered as over budget.
    max_addresses: int = 65536


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp

    def refill(self, now: float, rate: float, burst: int) -> float:
        self.tokens = min(float(burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        return self.tokens


def address_key(host: str) -> str:
    """The budget an address draws on: the IPv4 address (also when mapped into IPv6), or
    an IPv6 address's /64."""
    if ":" not in host:  # IPv4, as the socket gives it: no parse on a flood's path
        return host
    import ipaddress  # only here: node/config.py (read by the CLI) imports this module

    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address) + "/64"
    return str(ip)


class HandshakeGate:
    """The two budgets of one listener (see the module's text)."""

    def __init__(self, limits: HandshakeLimits = HandshakeLimits(), now: float = 0.0) -> None:
        self.limits = limits
        self._total = _Bucket(float(limits.total_burst), now)
        # (address key, proven) -> that address's bucket for unproven or proven Initials
        self._addresses: dict[tuple[str, bool], _Bucket] = {}
        self._pruned = now

    def __len__(self) -> int:
        return len(self._addresses)

    def admit(self, host: str, *, proven: bool, now: float) -> Admission:
        """What to do with an Initial from `host` that would open a new connection;
        `proven`: it carries a Retry token this listener made for that address."""
        lim = self.limits
        if not proven and self._total.refill(now, lim.total_rate, lim.total_burst) < 1:
            return Admission.RETRY  # checked first: a spoofed flood adds no addresses
        bucket = self._bucket((address_key(host), proven), now)
        if bucket is None or bucket.refill(now, lim.per_address_rate,
                                           lim.per_address_burst) < 1:
            return Admission.DROP if proven else Admission.RETRY
        bucket.tokens -= 1
        if not proven:
            self._total.tokens -= 1
        return Admission.START

    def _bucket(self, key: tuple[str, bool], now: float) -> _Bucket | None:
        bucket = self._addresses.get(key)
        if bucket is not None:
            return bucket
        if len(self._addresses) >= self.limits.max_addresses:
            self._prune(now)
            if len(self._addresses) >= self.limits.max_addresses:
                return None
        elif now - self._pruned >= self._full_after():
            self._prune(now)
        bucket = self._addresses[key] = _Bucket(float(self.limits.per_address_burst), now)
        return bucket

    def _full_after(self) -> float:
        """Seconds after which an untouched budget is full, as good as forgotten."""
        lim = self.limits
        return lim.per_address_burst / lim.per_address_rate if lim.per_address_rate else 0.0

    def _prune(self, now: float) -> None:
        lim = self.limits
        self._pruned = now
        for key in [k for k, b in self._addresses.items()
                    if b.refill(now, lim.per_address_rate, lim.per_address_burst)
                    >= lim.per_address_burst]:
            del self._addresses[key]
