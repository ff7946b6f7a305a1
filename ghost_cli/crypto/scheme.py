"""The one interface every signature scheme implements, and the scheme table.

Scheme ids are part of every encoded public key and signature (`scheme id ‖ raw bytes`),
so a signature of one scheme can never be checked as another. Ids are stable: never
renumber a row, only add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..exceptions import CryptoError


class SignatureScheme(Protocol):
    id: int  # one byte, stable
    name: str  # e.g. "ml-dsa-65": what users type after --scheme
    public_key_size: int | None  # None: variable
    signature_size: int | None

    def keygen(self, seed: bytes | None = None) -> tuple[bytes, bytes]:
        """(secret key, public key). With `seed` (32 bytes), deterministic where the scheme
        allows it; schemes that cannot derive keys from a seed raise CryptoError."""
        ...

    def sign(self, secret_key: bytes, message: bytes) -> bytes: ...

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """True or False; never raises for malformed keys or signatures."""
        ...


@dataclass(frozen=True)
class Encoded:
    """`scheme id ‖ raw`: how public keys and signatures travel and are stored."""

    scheme_id: int
    raw: bytes

    def to_bytes(self) -> bytes:
        return bytes([self.scheme_id]) + self.raw

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "key") -> Encoded:
        if len(data) < 2:
            raise CryptoError(f"{what} is empty or truncated ({len(data)} bytes)")
        return cls(data[0], bytes(data[1:]))
