"""Multi-sig account descriptors: M of N member public keys, and the address they define.

Canonical bytes (hashed into the address, carried in multi-sig transactions):

    threshold (u8) ‖ n (u8) ‖ n × (length (u16 big-endian) ‖ encoded public key)

Members are sorted by their encoded bytes, so the same set of keys gives the same account
whatever order they were listed in. Members may use different schemes. Checking collected
signatures belongs to ghost_cli.chain.transaction; this module only describes the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import CryptoError
from .address import format_address, from_hex, multisig_address, parse_address
from .scheme import Encoded

MAX_MEMBERS = 16
_MAX_KEY_LEN = 0xFFFF  # the u16 length prefix


@dataclass(frozen=True)
class MultisigAccount:
    threshold: int
    members: tuple[bytes, ...]  # encoded public keys (scheme id ‖ raw), sorted

    def __post_init__(self) -> None:
        members = tuple(sorted(bytes(m) for m in self.members))
        object.__setattr__(self, "members", members)  # canonical order, whatever was given
        n = len(members)
        if not 1 <= n <= MAX_MEMBERS:
            raise CryptoError(f"a multi-sig account has 1 to {MAX_MEMBERS} members, got {n}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) \
                or not 1 <= self.threshold <= n:
            raise CryptoError(f"threshold must be 1 to {n} (the member count), "
                              f"got {self.threshold!r}")
        if len(set(members)) != n:
            raise CryptoError("a multi-sig account lists the same member key twice")
        for m in members:
            Encoded.from_bytes(m, "member public key")
            if len(m) > _MAX_KEY_LEN:
                raise CryptoError(f"member public key of {len(m)} bytes is too long")

    @property
    def address(self) -> bytes:
        return multisig_address(self.to_bytes())

    def member_index(self, encoded_public_key: bytes) -> int | None:
        """The member's position in canonical order (what signatures refer to), or None."""
        try:
            return self.members.index(bytes(encoded_public_key))
        except ValueError:
            return None

    def to_bytes(self) -> bytes:
        parts = [bytes([self.threshold, len(self.members)])]
        for m in self.members:
            parts += [len(m).to_bytes(2, "big"), m]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> MultisigAccount:
        """Parse canonical bytes; anything else (truncated, trailing, unsorted) is refused,
        so one account has exactly one encoding and one address."""
        data = bytes(data)
        if len(data) < 2:
            raise CryptoError("multi-sig descriptor is truncated")
        threshold, n = data[0], data[1]
        members, pos = [], 2
        for _ in range(n):
            if pos + 2 > len(data):
                raise CryptoError("multi-sig descriptor is truncated")
            size = int.from_bytes(data[pos:pos + 2], "big")
            pos += 2
            if pos + size > len(data):
                raise CryptoError("multi-sig descriptor is truncated")
            members.append(data[pos:pos + size])
            pos += size
        if pos != len(data):
            raise CryptoError(f"multi-sig descriptor has {len(data) - pos} trailing byte(s)")
        if members != sorted(members):
            raise CryptoError("multi-sig descriptor is not canonical: members are not sorted")
        return cls(threshold, tuple(members))

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "members": ["0x" + m.hex() for m in self.members],
                "address": format_address(self.address)}

    @classmethod
    def from_json(cls, doc: Any) -> MultisigAccount:
        """Inverse of to_json; an "address", when present, must match the members."""
        if not isinstance(doc, dict) or not isinstance(doc.get("members"), list):
            raise CryptoError("a multi-sig account is an object with threshold and members")
        account = cls(doc.get("threshold"), tuple(_hex(m) for m in doc["members"]))
        if "address" in doc and parse_address(str(doc["address"])) != account.address:
            raise CryptoError("multi-sig address does not match its members")
        return account


def _hex(value: Any) -> bytes:
    try:
        return from_hex(value)
    except ValueError:
        raise CryptoError(f"member public key is not hex: {value!r:.40}") from None
