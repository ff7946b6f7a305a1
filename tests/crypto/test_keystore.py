"""The keystore library: sealed round trips per scheme family, the file format, tampering,
imports and exports, multi-sig entries, and where passphrases come from.

Argon2id runs with cheap parameters here (Keystore(home, kdf_params=...)); the CLI tests
exercise the production defaults."""

from __future__ import annotations

import errno
import json
import os
import stat
import unicodedata
from pathlib import Path

import pytest

from ghost_cli.crypto import kem
from ghost_cli.crypto.address import address_of_public_key, format_address
from ghost_cli.crypto.keystore import KdfParams, Keystore
from ghost_cli.crypto.message import MESSAGE_DOMAIN, sign_message, verify_message
from ghost_cli.crypto.passphrase import read_passphrase
from ghost_cli.crypto.schemes import get
from ghost_cli.exceptions import (
    CryptoError,
    KeystoreError,
    NotFoundError,
    UsageError,
    WrongPassphraseError,
)

CHEAP = KdfParams(memory_kib=64, iterations=1, parallelism=1)
PW = "correct horse battery staple"
SEED = bytes(range(32))


@pytest.fixture
def ks(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "home", kdf_params=CHEAP)


def _doc(ks: Keystore, name: str) -> dict:
    return json.loads(ks.path(name).read_text())


def _rewrite(ks: Keystore, name: str, doc: dict) -> None:
    ks.path(name).write_text(json.dumps(doc))


# ---- round trips ---------------------------------------------------------------------------

SIGNING = ["ml-dsa-44", "ml-dsa-65", "slh-dsa-sha2-128f", "ed25519", "schnorr-secp256k1",
           "bls12-381"]


@pytest.mark.parametrize("scheme", SIGNING)
def test_signing_key_round_trip(ks, tmp_path, scheme):
    info = ks.create("alice", scheme, PW)
    assert (info.kind, info.scheme, info.encrypted, info.has_secret) == (
        "signing", scheme, True, True)
    assert info.public_key[0] == get(scheme).id
    assert info.address == address_of_public_key(info.public_key)
    # A fresh Keystore object reads what the first wrote.
    again = Keystore(tmp_path / "home")
    assert again.get("alice") == info
    key = again.unlock("alice", PW)
    assert (key.public_key, key.address, key.scheme) == (info.public_key, info.address, scheme)
    signature = sign_message(key, b"hello")
    assert verify_message(info.public_key, b"hello", signature)
    assert not verify_message(info.public_key, b"hello!", signature)
    assert "secret" not in repr(key) and key.secret_key.hex() not in repr(key)


def test_kem_key_round_trip(ks):
    info = ks.create("box", "ml-kem-768", PW)
    assert (info.kind, info.address) == ("kem", None)
    assert "address" not in _doc(ks, "box")
    key = ks.unlock("box", PW)
    blob = kem.encrypt(info.public_key[1:], b"for the box only", kem=info.scheme)
    assert kem.decrypt(key.secret_key, blob) == b"for the box only"
    with pytest.raises(UsageError, match="cannot sign"):
        sign_message(key, b"x")


def test_message_signatures_are_domain_separated(ks):
    # `ghost keys sign` must never produce a signature over bytes a transaction could use.
    key = ks.unlock(ks.create("alice", "ed25519", None, seed=SEED).name, None)
    signature = sign_message(key, b"m")
    assert get("ed25519").verify(key.public_key[1:], MESSAGE_DOMAIN + b"m", signature[1:])
    assert not get("ed25519").verify(key.public_key[1:], b"m", signature[1:])


def test_seeded_keys_are_reproducible(tmp_path):
    a = Keystore(tmp_path / "a", CHEAP).create("k", "ed25519", PW, seed=SEED)
    b = Keystore(tmp_path / "b", CHEAP).create("k", "ed25519", None, seed=SEED)
    assert a.public_key == b.public_key and a.address == b.address


def test_unknown_scheme_and_bad_seed(ks):
    with pytest.raises(CryptoError, match="unknown scheme 'rsa'.*ml-dsa-65.*ml-kem-768"):
        ks.create("alice", "rsa", PW)
    with pytest.raises(CryptoError, match="seed must be 32 bytes"):
        ks.create("alice", "ed25519", PW, seed=b"short")
    assert ks.list() == []


# ---- the file ------------------------------------------------------------------------------


def test_file_format_and_modes(ks):
    info = ks.create("alice", "ed25519", PW, seed=SEED)
    path = ks.path("alice")
    assert path == ks.dir / "alice.json" and info.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ks.dir.stat().st_mode) == 0o700
    doc = _doc(ks, "alice")
    assert list(doc) == ["version", "name", "kind", "scheme", "public_key", "address", "crypto"]
    assert doc["version"] == 1 and doc["name"] == "alice" and doc["kind"] == "signing"
    assert doc["public_key"] == "0x" + info.public_key.hex()
    assert doc["address"] == format_address(info.address)
    crypto = doc["crypto"]
    assert crypto["kdf"] == "argon2id" and crypto["cipher"] == "chacha20-poly1305"
    assert crypto["kdf_params"] == {"memory_kib": 64, "iterations": 1, "parallelism": 1,
                                    "salt": crypto["kdf_params"]["salt"]}
    assert len(bytes.fromhex(crypto["nonce"])) == 12
    # 32-byte seed + 16-byte tag; the secret itself appears nowhere in the file.
    assert len(bytes.fromhex(crypto["ciphertext"])) == 48
    assert SEED.hex() not in path.read_text()


def test_loose_keys_directory_is_tightened(ks):
    ks.dir.mkdir(parents=True, mode=0o755)
    ks.dir.chmod(0o755)
    ks.create("alice", "ed25519", None)
    assert stat.S_IMODE(ks.dir.stat().st_mode) == 0o700


def test_production_kdf_defaults():
    params = Keystore(Path("/nonexistent")).kdf_params
    assert (params.memory_kib, params.iterations) == (64 * 1024, 3)


def test_plaintext_key(ks):
    info = ks.create("dev", "ed25519", None, seed=SEED)
    assert (info.encrypted, info.has_secret) == (False, True)
    assert _doc(ks, "dev")["crypto"] == {"cipher": "none", "secret_key": SEED.hex()}
    assert ks.unlock("dev", None).secret_key == SEED
    assert ks.unlock("dev", "ignored").secret_key == SEED


def test_encrypted_key_needs_its_passphrase(ks):
    ks.create("alice", "ed25519", PW)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase for key 'alice'") as e:
        ks.unlock("alice", "wrong")
    assert e.value.exit_code == 12
    with pytest.raises(UsageError, match="a passphrase is needed"):
        ks.unlock("alice", None)
    with pytest.raises(UsageError, match="empty passphrase"):
        ks.create("bob", "ed25519", "")


def test_passphrase_is_unicode_normalised(ks):
    composed = "caf\u00e9-pässword"
    ks.create("alice", "ed25519", composed)
    assert ks.unlock("alice", unicodedata.normalize("NFD", composed)).scheme == "ed25519"


# ---- tampering -----------------------------------------------------------------------------


def test_flipped_ciphertext_byte_is_corruption_not_a_wrong_passphrase(ks):
    ks.create("alice", "ed25519", PW)
    doc = _doc(ks, "alice")
    ct = bytearray.fromhex(doc["crypto"]["ciphertext"])
    ct[5] ^= 0x01
    doc["crypto"]["ciphertext"] = ct.hex()
    _rewrite(ks, "alice", doc)
    with pytest.raises(KeystoreError, match=r"keystore alice\.json is corrupt: .*modified") as e:
        ks.unlock("alice", PW)
    assert e.value.exit_code == 11
    with pytest.raises(WrongPassphraseError):  # a wrong passphrase still says so
        ks.unlock("alice", "wrong")


def test_swapped_public_key_is_detected(ks, tmp_path):
    ks.create("alice", "ed25519", PW)
    other = Keystore(tmp_path / "other", CHEAP).create("mallory", "ed25519", None)
    doc = _doc(ks, "alice")
    # Public key and address both replaced consistently: only the sealed header catches it.
    doc["public_key"] = "0x" + other.public_key.hex()
    doc["address"] = format_address(other.address)
    _rewrite(ks, "alice", doc)
    assert ks.get("alice").address == other.address  # reads fine without the passphrase ...
    with pytest.raises(KeystoreError, match="alice.json is corrupt"):
        ks.unlock("alice", PW)  # ... but cannot be used


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d.update(public_key=d["public_key"][:-2] + "00"), "address does not match"),
    (lambda d: d.update(public_key=d["public_key"][:40]),
     "public_key has 18 bytes; ed25519 public keys have 32"),
    (lambda d: d.update(public_key="0x11" + d["public_key"][4:]), "not an encoded ed25519"),
    (lambda d: d.update(name="bob"), "it names key 'bob'"),
    (lambda d: d.update(scheme="ml-dsa-44"), "not an encoded ml-dsa-44"),
    (lambda d: d.update(scheme="ml-kem-768"), "is a kem scheme"),
    (lambda d: d.update(kind="weird"), "unknown kind"),
    (lambda d: d.update(version=2), "version 2; this ghost reads version 1"),
    (lambda d: d.update(version=True), "version True; this ghost reads version 1"),
    (lambda d: d.update(address="0x" + "00" * 20), "address does not match"),
    (lambda d: d["crypto"].update(nonce="00"), "wrong length"),
    (lambda d: d["crypto"].update(ciphertext="zz"), "ciphertext is not hex"),
    (lambda d: d["crypto"].update(cipher="aes"), "unknown cipher 'aes'"),
    (lambda d: d["crypto"]["kdf_params"].update(memory_kib=2**40), "out of range"),
    (lambda d: d["crypto"]["kdf_params"].update(iterations="3"), "not integers"),
])
def test_edited_fields_are_reported_as_corrupt(ks, edit, match):
    ks.create("alice", "ed25519", PW, seed=SEED)
    doc = _doc(ks, "alice")
    edit(doc)
    _rewrite(ks, "alice", doc)
    with pytest.raises(KeystoreError, match=rf"keystore alice\.json is corrupt: .*{match}"):
        ks.get("alice")


def test_truncated_file_is_corrupt_and_listing_says_which(ks):
    ks.create("alice", "ed25519", PW)
    ks.path("alice").write_bytes(ks.path("alice").read_bytes()[:100])
    with pytest.raises(KeystoreError, match=r"keystore alice\.json is corrupt: not JSON"):
        ks.get("alice")
    with pytest.raises(KeystoreError, match="alice.json"):
        ks.list()
    ks.delete("alice")  # a corrupt file can still be removed
    assert ks.list() == []


# ---- names, listing, deleting --------------------------------------------------------------


def test_missing_key_lists_the_names(ks):
    with pytest.raises(NotFoundError, match="no key named 'carol' .*create one"):
        ks.get("carol")
    ks.create("alice", "ed25519", None)
    ks.create("bob", "ed25519", None)
    with pytest.raises(NotFoundError, match=r"no key named 'carol' \(keys: alice, bob\)"):
        ks.unlock("carol", PW)
    with pytest.raises(NotFoundError):
        ks.delete("carol")


def test_names(ks):
    ks.create("a.b-c_9", "ed25519", None)
    with pytest.raises(UsageError, match="already exists"):
        ks.create("a.b-c_9", "ed25519", None)
    for bad in ["", "a/b", "../x", "x" * 65, "sp ace", "é"]:
        with pytest.raises(UsageError, match="bad key name"):
            ks.create(bad, "ed25519", None)


def test_list_and_delete(ks):
    for name in ("carol", "alice", "bob"):
        ks.create(name, "ed25519", None)
    (ks.dir / "notes.txt").write_text("not a key")
    assert [k.name for k in ks.list()] == ["alice", "bob", "carol"]
    ks.delete("bob")
    assert [k.name for k in ks.list()] == ["alice", "carol"]
    assert Keystore(ks.dir.parent / "empty").list() == []


def test_full_disk_leaves_nothing_behind(ks, monkeypatch):
    ks.create("alice", "ed25519", None)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("ghost_cli.fsutil.os.fsync", no_space)
    with pytest.raises(KeystoreError, match="cannot write keystore .*bob.json: No space"):
        ks.create("bob", "ed25519", PW)
    assert sorted(p.name for p in ks.dir.iterdir()) == ["alice.json"]


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_key_written_meanwhile_is_never_replaced(ks, monkeypatch, hard_links):
    """Another process creates `alice` after this one checked the name was free: the
    write refuses instead of replacing that key (whose secret would be lost for good)."""
    ks.create("alice", "ed25519", None)
    theirs = ks.path("alice").read_bytes()
    monkeypatch.setattr(Keystore, "new_path", Keystore.path)  # the check passed earlier
    if not hard_links:
        def no_link(src, dst):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        monkeypatch.setattr("ghost_cli.crypto.keystore.os.link", no_link)
    with pytest.raises(UsageError, match="a key named 'alice' already exists"):
        ks.create("alice", "ed25519", PW)
    assert ks.path("alice").read_bytes() == theirs
    assert sorted(p.name for p in ks.dir.iterdir()) == ["alice.json"]
    ks.create("bob", "ed25519", PW)  # a free name is written either way
    assert ks.get("bob").encrypted


def test_a_document_nested_too_deeply_is_corrupt(ks, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(KeystoreError, match="deep.json is corrupt: JSON nested too deeply"):
        ks.import_file(tmp_path / "deep.json")


def test_unwritable_home_is_a_keystore_error(tmp_path):
    (tmp_path / "keys").write_text("a file where the directory should be")
    with pytest.raises(KeystoreError, match=f"keys directory {tmp_path}/keys is not a dir"):
        Keystore(tmp_path, CHEAP).create("alice", "ed25519", PW)


# ---- export and import ---------------------------------------------------------------------


def test_public_export_imports_as_a_public_key(ks, tmp_path):
    info = ks.create("alice", "ed25519", PW)
    doc = ks.export("alice")
    assert "crypto" not in doc and doc["address"] == format_address(info.address)
    file = tmp_path / "alice.pub.json"
    file.write_text(json.dumps(doc))
    theirs = Keystore(tmp_path / "theirs", CHEAP)
    imported = theirs.import_file(file)
    assert (imported.name, imported.has_secret, imported.address) == ("alice", False,
                                                                       info.address)
    assert stat.S_IMODE(theirs.path("alice").stat().st_mode) == 0o600
    with pytest.raises(UsageError, match="public key only"):
        theirs.unlock("alice", PW)
    # The imported public key checks signatures made with the original.
    sig = sign_message(ks.unlock("alice", PW), b"m")
    assert verify_message(theirs.get("alice").public_key, b"m", sig)


def test_secret_export_is_sealed_and_needs_the_passphrase(ks, tmp_path):
    ks.create("alice", "ed25519", PW)
    with pytest.raises(UsageError, match="needs its passphrase"):
        ks.export("alice", public=False)
    with pytest.raises(WrongPassphraseError):
        ks.export("alice", public=False, passphrase="wrong")
    doc = ks.export("alice", public=False, passphrase=PW)
    assert doc == _doc(ks, "alice")
    # A plaintext key leaves sealed under the given passphrase, never as raw bytes.
    ks.create("dev", "ed25519", None, seed=SEED)
    sealed = ks.export("dev", public=False, passphrase="trip")
    assert sealed["crypto"]["cipher"] == "chacha20-poly1305" and SEED.hex() not in str(sealed)
    file = tmp_path / "dev.json"
    file.write_text(json.dumps(sealed))
    other = Keystore(tmp_path / "other", CHEAP)
    other.import_file(file)
    assert other.unlock("dev", "trip").secret_key == SEED


def test_import_with_a_new_name_reseals(ks, tmp_path):
    ks.create("alice", "ed25519", PW)
    file = tmp_path / "alice.json"
    file.write_text(json.dumps(ks.export("alice", public=False, passphrase=PW)))
    other = Keystore(tmp_path / "other", CHEAP)
    assert other.read_file(file).name == "alice"
    with pytest.raises(UsageError, match="re-seals .* a passphrase is needed"):
        other.import_file(file, name="work")
    with pytest.raises(WrongPassphraseError):
        other.import_file(file, name="work", passphrase="wrong")
    info = other.import_file(file, name="work", passphrase=PW)
    assert info.name == "work" and _doc(other, "work")["name"] == "work"
    assert other.unlock("work", PW).public_key == ks.get("alice").public_key
    other.import_file(file)  # under its own name: a byte-for-byte sealed copy
    with pytest.raises(UsageError, match="already exists"):
        other.import_file(file)


@pytest.mark.parametrize(
    "scheme", ["ed25519", "schnorr-secp256k1", "bls12-381", "ml-dsa-44", "ml-kem-768"])
def test_a_plaintext_secret_of_another_key_is_refused_at_import(ks, tmp_path, scheme):
    size = 64 if scheme.startswith("ml-kem") else 32
    seed, other_seed = b"\x02" * size, b"\x03" * size
    ks.create("mine", scheme, None, seed=seed)
    ks.create("other", scheme, None, seed=other_seed)
    doc = _doc(ks, "mine")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc))
    doc["crypto"]["secret_key"] = _doc(ks, "other")["crypto"]["secret_key"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    target = Keystore(tmp_path / "target", CHEAP)
    with pytest.raises(KeystoreError, match="secret_key is not the secret of its public_key"):
        target.import_file(bad)
    doc["crypto"]["secret_key"] = "00"  # one byte: no scheme's secret
    bad.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match="secret_key is not the secret"):
        target.import_file(bad)
    assert target.list() == []
    assert target.import_file(good).public_key == ks.get("mine").public_key


def test_import_refuses_truncated_and_missing_files(ks, tmp_path):
    ks.create("alice", "ml-dsa-44", PW)
    text = ks.path("alice").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(KeystoreError, match=r"keystore cut\.json is corrupt: not JSON"):
        ks.import_file(cut, name="copy")
    doc = json.loads(text)
    doc["public_key"] = doc["public_key"][:1000]  # a key cut short by a copy-paste
    cut.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match="public_key has 498 bytes; ml-dsa-44 public keys "
                                            "have 1312"):
        ks.import_file(cut, name="copy")
    with pytest.raises(KeystoreError, match="cannot read keystore file .*nope.json"):
        ks.import_file(tmp_path / "nope.json")
    assert [k.name for k in ks.list()] == ["alice"]


# ---- multi-sig -----------------------------------------------------------------------------


def test_multisig_account_entries(ks, tmp_path):
    for name, scheme in (("a", "ed25519"), ("b", "ml-dsa-44"), ("c", "schnorr-secp256k1")):
        ks.create(name, scheme, None)
    one = ks.create_multisig("team", 2, ["a", "b", "c"])
    two = ks.create_multisig("team2", 2, ["c", "a", "b"])
    assert one.address == two.address == one.multisig.address
    assert (one.kind, one.scheme, one.has_secret) == ("multisig", "multisig", False)
    assert one.public_key == one.multisig.to_bytes()
    assert dict(zip(one.multisig.members, one.member_names, strict=True)) == {
        ks.get(n).public_key: n for n in "abc"}
    assert Keystore(ks.dir.parent).get("team") == one
    doc = _doc(ks, "team")
    assert "crypto" not in doc and doc["multisig"]["threshold"] == 2
    assert [m["name"] for m in doc["multisig"]["members"]] == list(one.member_names)
    assert ks.create_multisig("team3", 3, ["a", "b", "c"]).address != one.address
    with pytest.raises(UsageError, match="multi-sig account"):
        ks.unlock("team", PW)
    json_form = one.to_json()
    assert json_form["threshold"] == 2 and len(json_form["members"]) == 3
    # Imported public keys can be members: a multi-sig of other people's keys.
    pub = tmp_path / "a.pub.json"
    pub.write_text(json.dumps(ks.export("a")))
    ks.import_file(pub, name="a-public")
    with pytest.raises(UsageError, match="'a-public' and 'a' are the same key"):
        ks.create_multisig("dup", 1, ["a", "a-public"])


@pytest.mark.parametrize(("threshold", "members", "error", "match"), [
    (3, ["a", "b"], UsageError, "threshold must be 1 to 2"),
    (0, ["a"], UsageError, "threshold must be 1 to 1"),
    (1, ["a", "a"], UsageError, "listed twice"),
    (1, ["a", "box"], UsageError, "'box' is a kem entry"),
    (1, ["a", "zed"], NotFoundError, "no key named 'zed'"),
])
def test_multisig_refusals(ks, threshold, members, error, match):
    ks.create("a", "ed25519", None)
    ks.create("b", "ed25519", None)
    ks.create("box", "ml-kem-768", None)
    with pytest.raises(error, match=match):
        ks.create_multisig("team", threshold, members)
    assert not ks.path("team").exists()


def test_edited_multisig_entry_is_corrupt(ks):
    ks.create("a", "ed25519", None)
    ks.create("b", "ed25519", None)
    ks.create_multisig("team", 1, ["a", "b"])
    doc = _doc(ks, "team")
    doc["multisig"]["threshold"] = 2
    _rewrite(ks, "team", doc)
    with pytest.raises(KeystoreError, match="team.json is corrupt: multisig members do not "
                                            "match"):
        ks.get("team")


# ---- passphrase sources --------------------------------------------------------------------


def test_password_file_wins_and_loses_one_newline(tmp_path):
    f = tmp_path / "pw"
    f.write_text("from file\n")
    assert read_passphrase("k", password_file=f, environ={"GHOST_PASSPHRASE": "env"}) == \
        "from file"
    f.write_text("two newlines\n\n")
    assert read_passphrase("k", password_file=f, environ={}) == "two newlines\n"
    f.write_text("windows\r\n")
    assert read_passphrase("k", password_file=f, environ={}) == "windows"
    f.write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        read_passphrase("k", password_file=f, environ={})
    with pytest.raises(UsageError, match="cannot read password file"):
        read_passphrase("k", password_file=tmp_path / "missing", environ={})
    f.write_bytes(b"caf\xe9 secret\n")  # Latin-1: the error names no byte of it
    with pytest.raises(UsageError) as refused:
        read_passphrase("k", password_file=f, environ={})
    assert refused.value.message == f"cannot read password file {f}: not UTF-8 text"


def test_environment_then_prompt():
    assert read_passphrase("k", environ={"GHOST_PASSPHRASE": "env"}, interactive=False) == "env"
    answers = iter(["typed", "typed"])
    assert read_passphrase("k", environ={}, interactive=True, confirm=True,
                           prompt=lambda _: next(answers)) == "typed"
    answers = iter(["typed", "typo"])
    with pytest.raises(UsageError, match="do not match"):
        read_passphrase("k", environ={}, interactive=True, confirm=True,
                        prompt=lambda _: next(answers))
    with pytest.raises(UsageError, match="empty passphrase"):
        read_passphrase("k", environ={}, interactive=True, prompt=lambda _: "")


def test_end_of_input_at_the_prompt_is_no_passphrase():
    def ctrl_d(_):
        raise EOFError

    with pytest.raises(UsageError, match=r"no passphrase given for key 'alice' \(end of input"):
        read_passphrase("key 'alice'", environ={}, interactive=True, prompt=ctrl_d)


def test_no_source_when_not_interactive_names_the_options():
    with pytest.raises(UsageError, match="--password-file FILE, set GHOST_PASSPHRASE, or run "
                                         "in a terminal"):
        read_passphrase("key 'alice'", environ={"GHOST_PASSPHRASE": ""}, interactive=False)
