"""Signing arbitrary messages (`ghost keys sign`), kept apart from transaction signing.

The signed bytes are MESSAGE_DOMAIN ‖ message. Transactions sign a 32-byte hash instead,
so a file handed to `ghost keys sign` can never yield a signature that authorises a
transaction: that would need a transaction hash starting with MESSAGE_DOMAIN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import UsageError
from .scheme import Encoded

if TYPE_CHECKING:
    from .keystore import UnlockedKey

MESSAGE_DOMAIN = b"ghost/message/v1\x00"


def sign_message(key: UnlockedKey, message: bytes) -> bytes:
    """The encoded signature (scheme id ‖ raw) of `message` by `key`."""
    from .schemes import get

    if key.kind != "signing":
        raise UsageError(f"{key.name!r} is a {key.kind} key: it cannot sign")
    scheme = get(key.scheme)
    return Encoded(scheme.id, scheme.sign(key.secret_key, MESSAGE_DOMAIN + message)).to_bytes()


def verify_message(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` (encoded) is the signature of `message` under `public_key`
    (encoded). False for anything malformed or of another scheme; never raises."""
    from .schemes import verify_encoded

    return verify_encoded(public_key, MESSAGE_DOMAIN + message, signature)
