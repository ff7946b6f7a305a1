"""A key pair in memory: what signs a transaction."""

from __future__ import annotations

from dataclasses import dataclass

from .scheme import Encoded


@dataclass(frozen=True, repr=False)
class KeyPair:
    scheme: str
    secret_key: bytes  # raw, as the scheme's library takes it
    public_key: bytes  # encoded: scheme id ‖ raw
    address: bytes

    def __repr__(self) -> str:  # never show the secret
        return f"KeyPair({self.scheme}, 0x{self.address.hex()})"

    @classmethod
    def generate(cls, scheme_name: str, seed: bytes | None = None) -> KeyPair:
        from .address import address_of_public_key
        from .schemes import get

        scheme = get(scheme_name)
        secret, public = scheme.keygen(seed)
        encoded = Encoded(scheme.id, public).to_bytes()
        return cls(scheme.name, secret, encoded, address_of_public_key(encoded))
