"""The keystore: one JSON file per key under GHOST_HOME/keys/, secret keys encrypted.

    {"version": 1, "name": "alice", "kind": "signing" | "kem" | "multisig",
     "scheme": "ml-dsa-65", "public_key": "0x<scheme id ‖ raw>", "address": "0x<checksummed>",
     "crypto": {"kdf": "argon2id",
                "kdf_params": {"memory_kib", "iterations", "parallelism", "salt"},
                "cipher": "chacha20-poly1305", "nonce", "ciphertext", "check"}}

The secret key is sealed with ChaCha20-Poly1305 under a key from Argon2id; the header
(version, name, kind, scheme, public key) is the associated data, so editing any of it is
detected. Argon2id gives 64 bytes: the first half is the cipher key, a hash of the second
half is stored as "check", which tells a wrong passphrase (check differs) from a modified
file (check matches, the cipher refuses). Guessing through "check" costs one Argon2id
per guess, as guessing through the cipher does.

Entries without "crypto" hold a public key only (imported from someone else); kind
"multisig" holds an account descriptor and never a secret. `"crypto": {"cipher": "none",
"secret_key": ...}` is a plaintext key, written only when asked for explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..exceptions import (
    CryptoError,
    GhostError,
    KeystoreError,
    KeystorePermissionError,
    NotFoundError,
    UsageError,
    WrongPassphraseError,
)
from ..fsutil import write_new
from .address import address_of_public_key, format_address, from_hex, parse_address
from .multisig import MultisigAccount
from .scheme import Encoded

VERSION = 1
KINDS = ("signing", "kem", "multisig")
MULTISIG = "multisig"  # the scheme name of multi-sig entries
CIPHER = "chacha20-poly1305"
PLAINTEXT = "none"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_AD_DOMAIN = b"ghost/keystore/v1\n"
_CHECK_DOMAIN = b"ghost/keystore/check"
_SALT_LEN, _NONCE_LEN, _TAG_LEN = 16, 12, 16
# Loading refuses parameters beyond these, before any Argon2id work: a crafted or imported
# file must not exhaust the machine's memory or stall an unlock. The defaults (64 MiB x 3
# passes) sit far inside; the largest file accepted costs about 20 times the default.
MAX_MEMORY_KIB = 1024 * 1024  # 1 GiB
MAX_ITERATIONS = 16
MAX_PARALLELISM = 16
MAX_MEMORY_PASSES_KIB = 4 * 1024 * 1024  # memory_kib x iterations: 4 GiB-passes


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The defaults (64 MiB, 3 passes) take ~0.2 s on a laptop."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    parallelism: int = 4

    def __post_init__(self) -> None:
        if not (1 <= self.parallelism <= MAX_PARALLELISM
                and 8 * self.parallelism <= self.memory_kib <= MAX_MEMORY_KIB
                and 1 <= self.iterations <= MAX_ITERATIONS
                and self.memory_kib * self.iterations <= MAX_MEMORY_PASSES_KIB):
            raise KeystoreError(
                f"Argon2id parameters out of range (memory_kib={self.memory_kib}, "
                f"iterations={self.iterations}, parallelism={self.parallelism}); allowed: "
                f"memory_kib 8*parallelism..{MAX_MEMORY_KIB}, iterations 1..{MAX_ITERATIONS}, "
                f"parallelism 1..{MAX_PARALLELISM}, memory_kib*iterations at most "
                f"{MAX_MEMORY_PASSES_KIB}")


@dataclass(frozen=True)
class KeyInfo:
    """What the keystore knows about a key without its passphrase."""

    name: str
    kind: str  # "signing" | "kem" | "multisig"
    scheme: str  # a scheme name, or "multisig"
    public_key: bytes  # encoded (scheme id ‖ raw); a multi-sig account's canonical bytes
    address: bytes | None  # None for KEM keys, which never send transactions
    encrypted: bool  # the secret key is sealed under a passphrase
    has_secret: bool  # False: someone else's public key, or a multi-sig account
    path: Path
    multisig: MultisigAccount | None = None
    member_names: tuple[str | None, ...] = ()  # aligned with multisig.members

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "scheme": self.scheme,
            "address": format_address(self.address) if self.address else None,
            "public_key": "0x" + self.public_key.hex(),
            "encrypted": self.encrypted, "has_secret": self.has_secret, "path": str(self.path),
        }
        if self.multisig is not None:
            out["threshold"] = self.multisig.threshold
            out["members"] = [
                {"name": n, "address": format_address(address_of_public_key(pk)),
                 "public_key": "0x" + pk.hex()}
                for pk, n in zip(self.multisig.members, self.member_names, strict=True)]
        return out


@dataclass(frozen=True)
class BrokenKey:
    """A key file that cannot be used (corrupt, unreadable, too open), as a listing shows it."""

    name: str
    path: Path
    error: GhostError

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "error": self.error.to_json()}


@dataclass(frozen=True, repr=False)
class UnlockedKey:
    name: str
    kind: str  # "signing" | "kem"
    scheme: str
    secret_key: bytes  # raw, as the scheme's library takes it
    public_key: bytes  # encoded: scheme id ‖ raw
    address: bytes | None

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"UnlockedKey({self.name!r}, {self.scheme})"


@dataclass(frozen=True, repr=False)
class _Crypto:
    """The "crypto" object of a file: sealed (with KDF parameters) or plaintext."""

    cipher: str
    kdf: KdfParams | None = None
    salt: bytes = b""
    nonce: bytes = b""
    ciphertext: bytes = b""
    check: bytes = b""
    secret_key: bytes = b""  # plaintext entries only

    def to_json(self) -> dict[str, Any]:
        if self.cipher == PLAINTEXT:
            return {"cipher": PLAINTEXT, "secret_key": self.secret_key.hex()}
        assert self.kdf is not None
        return {
            "kdf": "argon2id",
            "kdf_params": {"memory_kib": self.kdf.memory_kib, "iterations": self.kdf.iterations,
                           "parallelism": self.kdf.parallelism, "salt": self.salt.hex()},
            "cipher": CIPHER, "nonce": self.nonce.hex(), "ciphertext": self.ciphertext.hex(),
            "check": self.check.hex(),
        }


@dataclass(frozen=True)
class _Entry:
    info: KeyInfo
    crypto: _Crypto | None = field(default=None, repr=False)


class Keystore:
    """Keys under `home`/keys. `kdf_params` sets the cost of newly sealed keys (tests use
    cheap ones); files record their own parameters, so any file opens with any setting."""

    def __init__(self, home: Path, kdf_params: KdfParams | None = None) -> None:
        self.dir = Path(home) / "keys"
        self.kdf_params = kdf_params or KdfParams()

    # ---- reading ---------------------------------------------------------------------

    def list(self) -> list[KeyInfo]:
        """Every key; the first file that cannot be read raises (see `scan`)."""
        return [self._load(name).info for name in self._names()]

    def scan(self) -> list[KeyInfo | BrokenKey]:
        """Every key file in name order: its KeyInfo, or a BrokenKey saying why it cannot be
        used, so one bad file does not hide the others. A keys directory others may write
        to raises: no file in it can be trusted."""
        self._check_dir()
        return [self._scan_one(name) for name in self._names()]

    def _scan_one(self, name: str) -> KeyInfo | BrokenKey:
        path = self.path(name)
        try:
            return self._load(name).info
        except GhostError as exc:  # corrupt, too open, unreadable, deleted meanwhile
            return BrokenKey(name, path, exc)
        except Exception as exc:  # a parser gap: this file's row says so, the others list
            return BrokenKey(name, path, KeystoreError(
                f"keystore {path.name} cannot be read: {type(exc).__name__}: {exc}"))

    def dir_warning(self) -> str | None:
        """A warning when others may list the keys directory (they still cannot read a
        key file: those are checked one by one). None when they may also write to it:
        reading a key there is refused (`_check_dir`), and that error says the same."""
        mode = _mode(self.dir)
        if mode is None or not mode & 0o077 or mode & 0o022 or not self.dir.is_dir():
            return None
        return (f"warning: keys directory {self.dir} is open to other users (mode "
                f"{mode:04o}): run `chmod 700 {self.dir}`")

    def get(self, name: str) -> KeyInfo:
        return self._load(name).info

    def unlock(self, name: str, passphrase: str | None) -> UnlockedKey:
        """The secret key. `passphrase` may be None only for a plaintext key."""
        entry = self._load(name)
        info = entry.info
        if entry.crypto is None:
            raise UsageError(_no_secret(info))
        if entry.crypto.cipher == PLAINTEXT:
            secret = entry.crypto.secret_key
        else:
            if passphrase is None:
                raise UsageError(f"key {name!r} is encrypted: a passphrase is needed")
            secret = _open(entry.crypto, _associated_data(info), passphrase, info.path.name,
                           name)
        return UnlockedKey(name, info.kind, info.scheme, secret, info.public_key, info.address)

    def export(self, name: str, public: bool = True,
               passphrase: str | None = None) -> dict[str, Any]:
        """A keystore document for another machine. Public: no "crypto" at all. With the
        secret: proves the passphrase first and always returns it sealed (a plaintext key
        is sealed under `passphrase` for the trip), never as raw bytes."""
        entry = self._load(name)
        if public:
            return _document(entry.info, None)
        if entry.crypto is None:
            raise UsageError(_no_secret(entry.info))
        if passphrase is None:
            raise UsageError(f"exporting the secret of key {name!r} needs its passphrase")
        unlocked = self.unlock(name, passphrase)
        crypto = entry.crypto
        if crypto.cipher == PLAINTEXT:
            crypto = _seal(unlocked.secret_key, _associated_data(entry.info), self.kdf_params,
                           passphrase)
        return _document(entry.info, crypto)

    # ---- writing ---------------------------------------------------------------------

    def create(self, name: str, scheme: str, passphrase: str | None,
               seed: bytes | None = None) -> KeyInfo:
        """A new key pair. `passphrase` None stores the secret in plaintext (ask for it
        explicitly at the CLI). `seed` (the scheme's seed size: 32 bytes, 64 for ML-KEM) makes
        the key reproducible: development and tests only."""
        path = self.new_path(name)
        kind, impl = resolve_scheme(scheme)
        if passphrase is not None and not passphrase:
            raise UsageError("empty passphrase (pass None to store the key unencrypted)")
        secret, raw_public = impl.keygen(seed)
        public_key = Encoded(impl.id, raw_public).to_bytes()
        info = KeyInfo(name, kind, impl.name, public_key,
                       address_of_public_key(public_key) if kind == "signing" else None,
                       encrypted=passphrase is not None, has_secret=True, path=path)
        crypto = (_Crypto(PLAINTEXT, secret_key=secret) if passphrase is None
                  else _seal(secret, _associated_data(info), self.kdf_params, passphrase))
        self._write(info, crypto)
        return info

    def create_multisig(self, name: str, threshold: int, member_names: list[str]) -> KeyInfo:
        """An M-of-N account over signing keys already in the keystore (own or imported)."""
        path = self.new_path(name)
        by_key: dict[bytes, str] = {}
        for member in member_names:
            if member in by_key.values():
                raise UsageError(f"member {member!r} is listed twice")
            info = self.get(member)
            if info.kind != "signing":
                raise UsageError(f"{member!r} is a {info.kind} entry; multi-sig members are "
                                 "signing keys")
            if info.public_key in by_key:
                raise UsageError(f"{member!r} and {by_key[info.public_key]!r} are the same key")
            by_key[info.public_key] = member
        try:
            account = MultisigAccount(threshold, tuple(by_key))
        except CryptoError as exc:  # the command line's fault: threshold or member count
            raise UsageError(exc.message) from exc
        info = KeyInfo(name, "multisig", MULTISIG, account.to_bytes(), account.address,
                       encrypted=False, has_secret=False, path=path, multisig=account,
                       member_names=tuple(by_key[m] for m in account.members))
        self._write(info, None)
        return info

    def read_file(self, path: Path | bytes) -> KeyInfo:
        """What a keystore document outside the keystore holds (before importing it):
        a file, or (bytes) the document itself, read from stdin say."""
        return _read_document(path).info

    def import_file(self, path: Path | bytes, name: str | None = None,
                    passphrase: str | None = None) -> KeyInfo:
        """Add a keystore document (a public export, a sealed or plaintext key, a multi-sig
        account): a file, or (bytes) the document itself. Renaming a sealed key re-seals
        it, since its name is authenticated: that needs `passphrase`."""
        entry = _read_document(path)
        target = self.new_path(name or entry.info.name)
        info = replace(entry.info, name=target.stem, path=target)
        crypto = entry.crypto
        if crypto is not None and crypto.cipher == PLAINTEXT:
            _check_pair(info, crypto.secret_key, _label(path))
        if crypto is not None and crypto.cipher == CIPHER and info.name != entry.info.name:
            if passphrase is None:
                raise UsageError(f"importing key {entry.info.name!r} as {info.name!r} re-seals "
                                 "it under the new name: a passphrase is needed")
            secret = _open(crypto, _associated_data(entry.info), passphrase,
                           _label(path), entry.info.name)
            _check_pair(info, secret, _label(path))
            crypto = _seal(secret, _associated_data(info), crypto.kdf, passphrase)
        self._write(info, crypto)
        return info

    def delete(self, name: str) -> None:
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise self._not_found(name) from None
        except OSError as exc:
            raise KeystoreError(f"cannot delete {path}: {exc.strerror or exc}") from None

    # ---- files -----------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """The file of key `name` (which may not exist); UsageError for a bad name."""
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise UsageError(f"bad key name {name!r}: 1 to 64 of A-Z a-z 0-9 _ . -")
        return self.dir / f"{name}.json"

    def new_path(self, name: str) -> Path:
        """The file a new key `name` gets; UsageError when the name is bad or taken."""
        path = self.path(name)
        if path.exists():
            raise UsageError(f"a key named {name!r} already exists ({path})")
        return path

    def _names(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(p.stem for p in self.dir.glob("*.json") if NAME_PATTERN.fullmatch(p.stem))

    def _not_found(self, name: str) -> NotFoundError:
        names = self._names()
        known = ", ".join(names) if names else "none yet: create one with `ghost keys new NAME`"
        return NotFoundError(f"no key named {name!r} (keys: {known})")

    def _load(self, name: str) -> _Entry:
        path = self.path(name)
        self._check_dir()
        try:
            with path.open("rb") as f:
                mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
                data = f.read()
        except FileNotFoundError:
            raise self._not_found(name) from None
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore {path}: {exc.strerror or exc}") from None
        entry = _parse(data, path.name, expected_name=name, path=path)
        _check_file_mode(path, mode, holds_secret=entry.crypto is not None)
        return entry

    def _check_dir(self) -> None:
        self._check_is_dir()
        mode = _mode(self.dir)
        if mode is not None and mode & 0o022:
            raise KeystorePermissionError(
                f"keys directory {self.dir} is writable by other users (mode {mode:04o}), so "
                f"its key files cannot be trusted: run `chmod 700 {self.dir}`")

    def _check_is_dir(self) -> None:
        if self.dir.exists() and not self.dir.is_dir():  # else it lists as empty
            raise KeystoreError(f"keys directory {self.dir} is not a directory")
        # GHOST_HOME a file: the keys directory cannot exist, so it would list as empty too
        above = next((p for p in self.dir.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise KeystoreError(f"keys directory {self.dir}: {above} is not a directory")

    def _write(self, info: KeyInfo, crypto: _Crypto | None) -> None:
        """Write a NEW key file: whole or not at all, and never over an existing file (a
        key of the same name written since `new_path` checked, by another process, stays)."""
        data = (json.dumps(_document(info, crypto), indent=2) + "\n").encode()
        self._check_is_dir()
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.dir.stat().st_mode & 0o077:  # made earlier, or by a looser umask
                self.dir.chmod(0o700)
            if not write_new(info.path, data):
                raise UsageError(f"a key named {info.name!r} already exists ({info.path})")
        except OSError as exc:  # full disk, read-only home: nothing partial is left behind
            raise KeystoreError(f"cannot write keystore {info.path}: "
                                f"{exc.strerror or exc}") from None


def _mode(path: Path) -> int | None:
    """Permission bits on POSIX; None elsewhere (or when `path` is missing)."""
    if os.name != "posix":
        return None
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _check_file_mode(path: Path, mode: int, *, holds_secret: bool) -> None:
    """As ssh does with private keys: a secret others can read is refused, and so is any key
    file others can write (they could swap the key a payment is encrypted or sent to)."""
    if os.name != "posix":
        return
    if holds_secret and mode & 0o077:
        problem = "holds a secret key and is open to other users"
    elif mode & 0o022:
        problem = "is writable by other users"
    else:
        return
    raise KeystorePermissionError(f"key file {path} {problem} (mode {mode:04o}): run "
                                  f"`chmod 600 {path}`")


# ---- schemes ---------------------------------------------------------------------------


def resolve_scheme(name: str) -> tuple[str, Any]:
    """("signing" | "kem", the scheme object) for a scheme name."""
    from . import kem, schemes

    if name in schemes.SCHEMES:
        return "signing", schemes.SCHEMES[name]
    if name in kem.KEM_SCHEMES:
        return "kem", kem.KEM_SCHEMES[name]
    raise CryptoError(f"unknown scheme {name!r}; signature: {', '.join(schemes.SCHEMES)}; "
                      f"encryption: {', '.join(kem.KEM_SCHEMES)}")


def _check_pair(info: KeyInfo, secret: bytes, label: str) -> None:
    """A secret imported in the clear must be the public key's own: a key whose secret
    belongs to another (or to none) would sign what never verifies, or decrypt nothing.
    Checked once, at import, by a signature or an encapsulation round trip."""
    kind, impl = resolve_scheme(info.scheme)
    raw_public = info.public_key[1:]
    try:
        if kind == "signing":
            matches = impl.verify(raw_public, _PAIR_CHECK, impl.sign(secret, _PAIR_CHECK))
        else:
            ciphertext, shared = impl.encaps(raw_public)
            matches = impl.decaps(secret, ciphertext) == shared
    except (CryptoError, ValueError, TypeError):  # a secret the scheme cannot even parse
        matches = False
    if not matches:
        raise KeystoreError(f"keystore {label} is corrupt: its secret_key is not the secret "
                            "of its public_key")


_PAIR_CHECK = b"ghost keystore: secret and public key belong together"


# ---- the document ----------------------------------------------------------------------


def _read_document(source: Path | bytes) -> _Entry:
    if isinstance(source, bytes):
        return _parse(source, _label(source), expected_name=None, path=Path("-"))
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore file {path}: {exc.strerror or exc}") from None
    return _parse(data, path.name, expected_name=None, path=path)


def _label(source: Path | bytes) -> str:
    """How messages name a document: its file name, or stdin's."""
    return "(stdin)" if isinstance(source, bytes) else Path(source).name


def _document(info: KeyInfo, crypto: _Crypto | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": VERSION, "name": info.name, "kind": info.kind,
                           "scheme": info.scheme, "public_key": "0x" + info.public_key.hex()}
    if info.address is not None:
        doc["address"] = format_address(info.address)
    if info.multisig is not None:
        doc["multisig"] = {
            "threshold": info.multisig.threshold,
            "members": [{"name": n, "public_key": "0x" + pk.hex()}
                        for pk, n in zip(info.multisig.members, info.member_names, strict=True)],
        }
    if crypto is not None:
        doc["crypto"] = crypto.to_json()
    return doc


def _associated_data(info: KeyInfo) -> bytes:
    """The authenticated header: what a sealed secret key is bound to."""
    header = {"version": VERSION, "name": info.name, "kind": info.kind, "scheme": info.scheme,
              "public_key": info.public_key.hex()}
    return _AD_DOMAIN + json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _parse(data: bytes, label: str, *, expected_name: str | None, path: Path) -> _Entry:
    try:
        return _parse_document(data, expected_name, path)
    except _Corrupt as exc:
        raise KeystoreError(f"keystore {label} is corrupt: {exc}") from None


class _Corrupt(Exception):
    pass


def _parse_document(data: bytes, expected_name: str | None, path: Path) -> _Entry:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Corrupt(f"not JSON ({exc})") from None
    except ValueError as exc:  # a number past int()'s digit limit (4300 by default)
        raise _Corrupt(f"not JSON ({str(exc).partition(':')[0]})") from None
    except RecursionError:  # a crafted file nested thousands deep
        raise _Corrupt("JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise _Corrupt("not a JSON object")
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        raise _Corrupt(f"version {doc.get('version')!r}; this ghost reads version {VERSION}")
    name, kind, scheme = doc.get("name"), doc.get("kind"), doc.get("scheme")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise _Corrupt(f"bad name {name!r}")
    if expected_name is not None and name != expected_name:
        raise _Corrupt(f"it names key {name!r}")
    if kind not in KINDS:
        raise _Corrupt(f"unknown kind {kind!r}")
    if not isinstance(scheme, str):
        raise _Corrupt("no scheme")
    public_key = _hex(doc.get("public_key"), "public_key")
    multisig, member_names = None, ()
    if kind == MULTISIG:
        if scheme != MULTISIG:
            raise _Corrupt(f"a multisig entry with scheme {scheme!r}")
        multisig, member_names = _parse_multisig(doc.get("multisig"), public_key)
        address: bytes | None = multisig.address
    else:
        try:
            actual_kind, impl = resolve_scheme(scheme)
        except CryptoError as exc:
            raise _Corrupt(exc.message) from None
        if actual_kind != kind:
            raise _Corrupt(f"{scheme} is a {actual_kind} scheme, not {kind}")
        if len(public_key) < 2 or public_key[0] != impl.id:
            raise _Corrupt(f"public_key is not an encoded {scheme} key")
        size = impl.public_key_size
        if size is not None and len(public_key) - 1 != size:
            raise _Corrupt(f"public_key has {len(public_key) - 1} bytes; {scheme} public keys "
                           f"have {size}")
        address = address_of_public_key(public_key) if kind == "signing" else None
    if address is not None:
        try:
            stated = parse_address(str(doc.get("address")))
        except CryptoError as exc:
            raise _Corrupt(exc.message) from None
        if stated != address:
            raise _Corrupt("address does not match the public key")
    elif "address" in doc:
        raise _Corrupt(f"a {kind} entry has no address")
    crypto = None
    if "crypto" in doc:
        if kind == MULTISIG:
            raise _Corrupt("a multisig entry holds no secret")
        crypto = _parse_crypto(doc["crypto"])
    info = KeyInfo(name, kind, scheme, public_key, address,
                   encrypted=crypto is not None and crypto.cipher == CIPHER,
                   has_secret=crypto is not None, path=path, multisig=multisig,
                   member_names=member_names)
    return _Entry(info, crypto)


def _parse_multisig(section: Any, public_key: bytes) -> tuple[MultisigAccount, tuple]:
    if not isinstance(section, dict) or not isinstance(section.get("members"), list):
        raise _Corrupt("no multisig section")
    members = section["members"]
    if not all(isinstance(m, dict) for m in members):
        raise _Corrupt("multisig members are not objects")
    keys = [_hex(m.get("public_key"), "member public_key") for m in members]
    names = {k: m.get("name") for k, m in zip(keys, members, strict=True)}
    if not all(n is None or isinstance(n, str) for n in names.values()):
        raise _Corrupt("multisig member names are not strings")
    try:
        account = MultisigAccount.from_bytes(public_key)
        listed = MultisigAccount(section.get("threshold"), tuple(keys))
    except CryptoError as exc:
        raise _Corrupt(exc.message) from None
    if listed != account:
        raise _Corrupt("multisig members do not match the public_key descriptor")
    return account, tuple(names[m] for m in account.members)


def _parse_crypto(section: Any) -> _Crypto:
    if not isinstance(section, dict):
        raise _Corrupt("crypto is not an object")
    cipher = section.get("cipher")
    if cipher == PLAINTEXT:
        secret = _hex(section.get("secret_key"), "secret_key")
        if not secret:
            raise _Corrupt("empty secret_key")
        return _Crypto(PLAINTEXT, secret_key=secret)
    if cipher != CIPHER:
        raise _Corrupt(f"unknown cipher {cipher!r}")
    if section.get("kdf") != "argon2id":
        raise _Corrupt(f"unknown kdf {section.get('kdf')!r}")
    params = section.get("kdf_params")
    if not isinstance(params, dict):
        raise _Corrupt("no kdf_params")
    values = [params.get(k) for k in ("memory_kib", "iterations", "parallelism")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise _Corrupt("kdf_params are not integers")
    try:
        kdf = KdfParams(*values)
    except KeystoreError as exc:
        raise _Corrupt(exc.message) from None
    crypto = _Crypto(CIPHER, kdf, salt=_hex(params.get("salt"), "salt"),
                     nonce=_hex(section.get("nonce"), "nonce"),
                     ciphertext=_hex(section.get("ciphertext"), "ciphertext"),
                     check=_hex(section.get("check"), "check"))
    if len(crypto.salt) < 8 or len(crypto.nonce) != _NONCE_LEN or len(crypto.check) != 32:
        raise _Corrupt("salt, nonce or check has the wrong length")
    if len(crypto.ciphertext) <= _TAG_LEN:
        raise _Corrupt("ciphertext is truncated")
    return crypto


def _hex(value: Any, what: str) -> bytes:
    if value is None:
        raise _Corrupt(f"{what} is missing")
    try:
        return from_hex(value)
    except ValueError:
        raise _Corrupt(f"{what} is not hex") from None


# ---- sealing ---------------------------------------------------------------------------


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    # NFC: the same passphrase typed on macOS (NFD input) and elsewhere gives the same key.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    out = Argon2id(salt=salt, length=64, iterations=params.iterations,
                   lanes=params.parallelism, memory_cost=params.memory_kib).derive(secret)
    return out[:32], hashlib.sha256(_CHECK_DOMAIN + out[32:]).digest()


def _seal(secret: bytes, associated_data: bytes, params: KdfParams, passphrase: str) -> _Crypto:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if not passphrase:
        raise UsageError("empty passphrase")
    salt, nonce = os.urandom(_SALT_LEN), os.urandom(_NONCE_LEN)
    key, check = _derive(passphrase, salt, params)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, secret, associated_data)
    return _Crypto(CIPHER, params, salt, nonce, ciphertext, check)


def _open(crypto: _Crypto, associated_data: bytes, passphrase: str, label: str,
          name: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    assert crypto.kdf is not None
    key, check = _derive(passphrase, crypto.salt, crypto.kdf)
    if not hmac.compare_digest(check, crypto.check):
        raise WrongPassphraseError(f"wrong passphrase for key {name!r}")
    try:
        return ChaCha20Poly1305(key).decrypt(crypto.nonce, crypto.ciphertext, associated_data)
    except InvalidTag:
        raise KeystoreError(f"keystore {label} is corrupt: the sealed key or its header "
                            "(name, kind, scheme, public key) was modified") from None


def _no_secret(info: KeyInfo) -> str:
    if info.kind == MULTISIG:
        return f"{info.name!r} is a multi-sig account: its members sign, it has no secret key"
    return f"key {info.name!r} is a public key only: its secret key is not in this keystore"
