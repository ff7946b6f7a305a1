"""Transactions: one canonical byte encoding, the hash signatures cover, and the check
that a transaction is authorised by its sender (one key, or M of N multi-sig members).

Plain, I/O-free code: the executor calls `verify_authorization` before running anything.
The layout is documented in docs/transactions.md; never change it without a new version.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ..crypto.hashing import keccak256
from ..crypto.scheme import Encoded
from ..exceptions import (
    BadSignatureError,
    CryptoError,
    RequestTooLargeError,
    TransactionError,
)
from ..hexbytes import from_hex_digits

MAGIC = b"GHTX"
VERSION = 1
HASH_DOMAIN = b"ghost/tx/v1"
KINDS = {"deploy": 0, "call": 1}
KIND_NAMES = {v: k for k, v in KINDS.items()}
ZERO_ADDRESS = bytes(20)
MAX_FUNCTION_NAME = 255
MAX_LABEL = 255
#: A node's request limits on a transaction, checked before anything else (and so in the
#: sandbox too, which runs a transaction exactly as a node would): its encoding, room for
#: the largest module (512 KiB) and its constructor's arguments, and its call data.
MAX_TX_BYTES = 1024 * 1024
MAX_TX_ARGS = 64 * 1024
#: The most an encoding holds besides args and code: its fixed fields and the longest
#: function name and label.
_MOST_OTHER_BYTES = 4 + 1 + 9 + 20 + 8 + 20 + 1 + MAX_FUNCTION_NAME + 4 + 4 + 1 + MAX_LABEL + 16


@dataclass(frozen=True)
class Transaction:
    chain_id: int
    sender: bytes  # 20 bytes: a key's address or a multi-sig account's address
    nonce: int
    kind: str  # "deploy" | "call"
    gas_limit: int
    expiry: int  # Unix seconds after which the transaction is void
    target: bytes = ZERO_ADDRESS  # the contract called; zero for a deploy
    function: str = ""  # call only
    args: bytes = b""  # call data, ABI-encoded (ghost_cli.abi.encode_call)
    code: bytes = b""  # deploy only: the module
    label: str = ""  # deploy only: the name the network registers the contract under

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TransactionError(f"unknown transaction kind {self.kind!r}")
        if len(self.sender) != 20 or len(self.target) != 20:
            raise TransactionError("sender and target must be 20-byte addresses")
        for name, value in (("chain_id", self.chain_id), ("nonce", self.nonce),
                            ("gas_limit", self.gas_limit), ("expiry", self.expiry)):
            if not 0 <= value < 2**64:
                if name == "gas_limit" and value > 0:  # above the cap, as any over it is
                    from .executor import check_gas_cap

                    check_gas_cap(value)
                raise TransactionError(f"{name} {value} is outside 0..2^64-1")
        try:
            function, label = self.function.encode(), self.label.encode()
        except UnicodeEncodeError:  # a lone surrogate: undecodable bytes from a command line
            raise TransactionError("function name or label is not valid UTF-8") from None
        if len(function) > MAX_FUNCTION_NAME or len(label) > MAX_LABEL:
            raise TransactionError("function name or label longer than 255 bytes")
        if b"\0" in function or b"\0" in label:  # no PostgreSQL store could record it
            raise TransactionError("function name or label holds a NUL character (U+0000)")
        # One encoding per transaction: a field the kind does not use must be empty.
        if self.kind == "deploy" and (self.target != ZERO_ADDRESS or function):
            raise TransactionError("a deploy has a zero target and no function name")
        if self.kind == "call" and (self.code or label):
            raise TransactionError("a call has no code and no label")

    def encode(self) -> bytes:
        """The canonical bytes: fixed field order, big-endian integers, length prefixes."""
        function, label = self.function.encode(), self.label.encode()
        return b"".join((
            MAGIC, bytes([VERSION]),
            struct.pack(">QB", self.chain_id, KINDS[self.kind]),
            self.sender, struct.pack(">Q", self.nonce), self.target,
            bytes([len(function)]), function,
            struct.pack(">I", len(self.args)), self.args,
            struct.pack(">I", len(self.code)), self.code,
            bytes([len(label)]), label,
            struct.pack(">QQ", self.gas_limit, self.expiry),
        ))

    def check_size(self) -> None:
        """Raise RequestTooLargeError (`too_large`) when over a request limit above."""
        if len(self.args) > MAX_TX_ARGS:
            raise RequestTooLargeError(f"call data of {len(self.args)} bytes is over the "
                                       f"limit of {MAX_TX_ARGS} bytes", limit=MAX_TX_ARGS)
        if len(self.args) + len(self.code) + _MOST_OTHER_BYTES <= MAX_TX_BYTES:
            return  # under the limit whatever the rest holds: no encoding on every call
        size = len(self.encode())
        if size > MAX_TX_BYTES:
            raise RequestTooLargeError(f"transaction of {size} bytes is over the limit of "
                                       f"{MAX_TX_BYTES} bytes", limit=MAX_TX_BYTES)

    @cached_property
    def hash(self) -> bytes:
        """What every signature signs: domain-separated, and covering the chain id.
        Computed once per (immutable) transaction: the executor asks several times."""
        return keccak256(HASH_DOMAIN + self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Transaction:
        r = _Reader(data)
        if r.take(4) != MAGIC:
            raise TransactionError("not a ghost transaction (bad magic)")
        version = r.u8()
        if version != VERSION:
            raise TransactionError(f"unsupported transaction version {version}")
        chain_id, kind = r.unpack(">QB")
        if kind not in KIND_NAMES:
            raise TransactionError(f"unknown transaction kind {kind}")
        sender = r.take(20)
        (nonce,) = r.unpack(">Q")
        target = r.take(20)
        function = r.text(r.u8())
        args = r.take(r.unpack(">I")[0])
        code = r.take(r.unpack(">I")[0])
        label = r.text(r.u8())
        gas_limit, expiry = r.unpack(">QQ")
        r.end()
        return cls(chain_id, sender, nonce, KIND_NAMES[kind], gas_limit, expiry, target,
                   function, args, code, label)


# ---- authorisation ------------------------------------------------------------------


@dataclass(frozen=True)
class SingleAuth:
    public_key: bytes  # encoded: scheme id ‖ raw
    signature: bytes  # encoded: scheme id ‖ raw


@dataclass(frozen=True)
class MultisigAuth:
    account: Any  # ghost_cli.crypto.multisig.MultisigAccount
    signatures: tuple[tuple[int, bytes], ...] = ()  # (member index, encoded signature)


@dataclass(frozen=True)
class TrustedLocalAuth:
    """No signature at all: the sandbox's own development account, trusted in-process
    (as anvil impersonates an account). Only an executor given the sender among its
    `trusted_senders` accepts it, and only the sandbox gives any; it has no wire or file
    form (`to_json` refuses it, gRPC sends it as unsigned), so a node never sees one."""


@dataclass(frozen=True)
class SignedTransaction:
    tx: Transaction
    auth: SingleAuth | MultisigAuth | TrustedLocalAuth | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def hash(self) -> bytes:
        return self.tx.hash


def sign_single(tx: Transaction, scheme_secret_key: bytes, public_key: bytes) -> SignedTransaction:
    """Sign with one key. `public_key` is encoded (scheme id ‖ raw)."""
    scheme = _scheme(Encoded.from_bytes(public_key).scheme_id)
    raw_sig = scheme.sign(scheme_secret_key, tx.hash)
    return SignedTransaction(tx, SingleAuth(public_key, Encoded(scheme.id, raw_sig).to_bytes()))


def add_multisig_signature(
    signed: SignedTransaction, secret_key: bytes, public_key: bytes
) -> SignedTransaction:
    """Add one member's signature; members sign in any order, offline."""
    auth = signed.auth
    if not isinstance(auth, MultisigAuth):
        raise TransactionError("this transaction's sender is not a multi-sig account")
    index = auth.account.member_index(public_key)
    if index is None:
        raise BadSignatureError("this key is not a member of the sending multi-sig account")
    if any(i == index for i, _ in auth.signatures):
        raise BadSignatureError(f"member {index} has already signed")
    scheme = _scheme(Encoded.from_bytes(public_key).scheme_id)
    sig = Encoded(scheme.id, scheme.sign(secret_key, signed.tx.hash)).to_bytes()
    sigs = tuple(sorted((*auth.signatures, (index, sig))))
    return replace(signed, auth=replace(auth, signatures=sigs))


def verify_authorization(signed: SignedTransaction,
                         trusted_senders: frozenset[bytes] = frozenset()) -> None:
    """Raise BadSignatureError unless the transaction is authorised by its sender.
    `trusted_senders`: the accounts whose TrustedLocalAuth is accepted (the sandbox's
    development accounts; empty everywhere else)."""
    from ..crypto.address import address_of_public_key

    tx, auth = signed.tx, signed.auth
    if auth is None:
        raise BadSignatureError("transaction is not signed")
    if isinstance(auth, TrustedLocalAuth):
        if tx.sender in trusted_senders:
            return
        raise BadSignatureError("transaction is not signed (an unsigned development-account "
                                "transaction is accepted by the local sandbox only)")
    digest = tx.hash
    if isinstance(auth, SingleAuth):
        try:
            signer = address_of_public_key(auth.public_key)
        except CryptoError as exc:
            raise BadSignatureError(f"signing key: {exc.message}") from exc
        if signer != tx.sender:
            raise BadSignatureError("the signing key does not belong to the sender")
        _check(auth.public_key, auth.signature, digest, "signature")
        return
    account = auth.account
    if account.address != tx.sender:
        raise BadSignatureError("the multi-sig account does not match the sender")
    seen: set[int] = set()
    for index, signature in auth.signatures:
        if index in seen:
            raise BadSignatureError(f"duplicate signature from member {index}")
        if not 0 <= index < len(account.members):
            raise BadSignatureError(f"signature from non-member (index {index})")
        seen.add(index)
        _check(account.members[index], signature, digest, f"signature of member {index}")
    if len(seen) < account.threshold:
        raise BadSignatureError(
            f"{account.threshold} of {len(account.members)} signatures required, "
            f"{len(seen)} given")


def _check(public_key: bytes, signature: bytes, digest: bytes, what: str) -> None:
    try:
        pk, sig = Encoded.from_bytes(public_key), Encoded.from_bytes(signature, "signature")
        scheme = _scheme(pk.scheme_id)
    except CryptoError as exc:
        raise BadSignatureError(f"{what}: {exc.message}") from exc
    if sig.scheme_id != pk.scheme_id:
        raise BadSignatureError(
            f"{what} is of scheme id {sig.scheme_id}, the key is {scheme.name}")
    if not scheme.verify(pk.raw, digest, sig.raw):
        raise BadSignatureError(f"{what} is invalid")


def _scheme(scheme_id: int):
    from ..crypto.schemes import by_id

    return by_id(scheme_id)


# ---- the JSON file form (tx.json) -------------------------------------------------------


def to_json(signed: SignedTransaction) -> dict[str, Any]:
    tx = signed.tx
    if isinstance(signed.auth, TrustedLocalAuth):
        raise TransactionError("a trusted local transaction has no file form: sign it")
    doc: dict[str, Any] = {
        "format": "ghost-tx", "version": VERSION,
        "hash": "0x" + tx.hash.hex(),
        "summary": {
            "kind": tx.kind, "chain_id": tx.chain_id, "sender": "0x" + tx.sender.hex(),
            "nonce": tx.nonce, "target": "0x" + tx.target.hex(), "function": tx.function,
            "gas_limit": tx.gas_limit, "expiry": tx.expiry, "label": tx.label,
        },
        "tx": tx.encode().hex(),
        "auth": None,
    }
    auth = signed.auth
    if isinstance(auth, SingleAuth):
        doc["auth"] = {"kind": "single", "public_key": auth.public_key.hex(),
                       "signature": auth.signature.hex()}
    elif isinstance(auth, MultisigAuth):
        doc["auth"] = {"kind": "multisig", "account": auth.account.to_bytes().hex(),
                       "signatures": [{"member": i, "signature": s.hex()}
                                      for i, s in auth.signatures]}
    return doc


def from_json(doc: dict[str, Any]) -> SignedTransaction:
    """Read a tx.json document: `format` must say what it is; then only `tx` and `auth`
    count (`summary` is for people). Hex may carry a `0x` prefix."""
    from ..crypto.multisig import MultisigAccount

    if not isinstance(doc, dict) or doc.get("format") != "ghost-tx":
        raise TransactionError('not a ghost transaction file (its "format" is not "ghost-tx")')
    tx = Transaction.decode(_hex(doc, "tx", "tx"))
    if "auth" not in doc:  # a file that says nothing of its signatures is not one ghost wrote
        raise TransactionError("malformed transaction file: auth is missing (null when not "
                               "signed yet)")
    auth_doc = doc["auth"]
    auth: SingleAuth | MultisigAuth | None = None
    if auth_doc is None:
        return SignedTransaction(tx, None)
    if not isinstance(auth_doc, dict):
        raise TransactionError("malformed transaction file: auth is not an object (or null)")
    kind = auth_doc.get("kind")
    if kind == "single":
        auth = SingleAuth(_hex(auth_doc, "public_key", "auth.public_key"),
                          _hex(auth_doc, "signature", "auth.signature"))
    elif kind == "multisig":
        signatures = auth_doc.get("signatures")
        if not isinstance(signatures, list):
            raise TransactionError("malformed transaction file: auth.signatures is not a list")
        pairs = []
        for i, entry in enumerate(signatures):
            where = f"auth.signatures[{i}]"
            if not isinstance(entry, dict):
                raise TransactionError(f"malformed transaction file: {where} is not an "
                                       "object")
            member = entry.get("member")
            if member.__class__ is not int:
                raise TransactionError(f"malformed transaction file: {where}.member is not an "
                                       "integer")
            pairs.append((member, _hex(entry, "signature", f"{where}.signature")))
        try:
            account = MultisigAccount.from_bytes(_hex(auth_doc, "account", "auth.account"))
        except CryptoError as exc:  # a malformed file is refused as one, like the rest
            raise TransactionError(f"malformed transaction file: auth.account: "
                                   f"{exc.message}") from None
        auth = MultisigAuth(account, tuple(pairs))
    else:
        raise TransactionError(f"malformed transaction file: unknown auth kind {kind!r}")
    return SignedTransaction(tx, auth)


def _hex(doc: dict[str, Any], key: str, where: str) -> bytes:
    """Member `key` of `doc` as bytes: a hex string, with or without `0x`."""
    value = doc.get(key)
    if value is None:
        raise TransactionError(f"malformed transaction file: {where} is missing")
    if not isinstance(value, str):
        raise TransactionError(f"malformed transaction file: {where} is not a hex string")
    if value[:2] in ("0x", "0X"):
        value = value[2:]
    raw = from_hex_digits(value)
    if raw is None:
        raise TransactionError(f"malformed transaction file: {where} is not hex")
    return raw


def dumps(signed: SignedTransaction) -> str:
    return json.dumps(to_json(signed), indent=2) + "\n"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = bytes(data), 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise TransactionError("transaction bytes are truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def text(self, n: int) -> str:
        try:
            return self.take(n).decode()
        except UnicodeDecodeError as exc:
            raise TransactionError("transaction text is not UTF-8") from exc

    def end(self) -> None:
        if self.pos != len(self.data):
            raise TransactionError(f"{len(self.data) - self.pos} trailing bytes after transaction")
