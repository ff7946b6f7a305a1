"""What a node remembers so that a replayed transaction costs it no signature check.

Checking a transaction's signatures is the costly part of refusing it (an ML-DSA verify,
or one per member of a multi-sig account), and a refused transaction pays no gas. Without
memory, anyone holding one signed transaction could send it again and again and make the
node verify it each time for free. Two memories, both plain and I/O-free:

  - the lowest next nonce of each sender seen committed here: a transaction below it was
    already used, so it is refused (`bad_nonce`) before its signatures are looked at.
    Nonces only go up, so a bound learnt from any commit stays true; one learnt late (a
    commit by another node of a shared database) only means a later early refusal.
  - the digests of signed transactions whose signatures held: sent again (a transaction
    refused as `not_found` or `name_taken` keeps its nonce unused), it is not verified
    again. A signature's validity is a function of the bytes alone, so this never lets a
    bad one through; a digest covers the transaction's hash and every byte of its auth.

Both are bounded: past their size the oldest entries go.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from ..chain.transaction import MultisigAuth, SignedTransaction, SingleAuth

#: Entries each memory keeps (32-byte digests, 20-byte senders).
MAX_ENTRIES = 65_536


class Admission:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._next_nonce: OrderedDict[bytes, int] = OrderedDict()
        self._lock = threading.Lock()  # requests arrive on many threads

    def used(self, signed: SignedTransaction) -> bool:
        """The transaction's nonce is below one this node saw committed for its sender."""
        tx = signed.tx
        return tx.nonce < self._next_nonce.get(tx.sender, 0)

    def committed(self, sender: bytes, nonce: int) -> None:
        """A transaction of `sender` with `nonce` was recorded (ran, or ran and failed)."""
        with self._lock:
            if self._next_nonce.get(sender, 0) <= nonce:
                self._next_nonce[sender] = nonce + 1
            self._next_nonce.move_to_end(sender)
            _bound(self._next_nonce, self.max_entries)

    def seen_valid(self, signed: SignedTransaction) -> bool:
        digest = _digest(signed)
        if digest is None:
            return False
        with self._lock:
            if digest in self._verified:
                self._verified.move_to_end(digest)
                return True
            return False

    def valid(self, signed: SignedTransaction) -> None:
        """Its signatures were checked and hold."""
        digest = _digest(signed)
        if digest is None:
            return
        with self._lock:
            self._verified[digest] = None
            _bound(self._verified, self.max_entries)


def _digest(signed: SignedTransaction) -> bytes | None:
    auth = signed.auth
    h = hashlib.sha256(signed.tx.hash)
    if isinstance(auth, SingleAuth):
        h.update(b"\x01")
        _field(h, auth.public_key)
        _field(h, auth.signature)
    elif isinstance(auth, MultisigAuth):
        h.update(b"\x02")
        _field(h, auth.account.to_bytes())
        for index, signature in auth.signatures:
            _field(h, str(index).encode())
            _field(h, signature)
    else:  # unsigned or trusted-local: nothing to remember
        return None
    return h.digest()


def _field(h, data: bytes) -> None:
    h.update(len(data).to_bytes(4, "little"))
    h.update(data)


def _bound(entries: OrderedDict, most: int) -> None:
    while len(entries) > most:
        entries.popitem(last=False)
