"""Keystore files that are dangerous to use: too open (like ssh, a secret others can read is
refused), crafted to make Argon2id exhaust the machine, or corrupt among good ones. Both the
library and `ghost keys` as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghost_cli.crypto import keystore as keystore_mod
from ghost_cli.crypto.keystore import BrokenKey, KdfParams, Keystore
from ghost_cli.exceptions import KeystoreError, KeystorePermissionError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

CHEAP = KdfParams(memory_kib=64, iterations=1, parallelism=1)
PW = "correct horse battery staple"


@pytest.fixture
def ks(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "home", kdf_params=CHEAP)


def ghost_keys(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(home), "GHOST_PASSPHRASE": PW}
    for leak in ("GHOST_JSON", "GHOST_PASSWORD_FILE"):
        env.pop(leak, None)
    return subprocess.run([sys.executable, "-m", "ghost_cli", "keys", *args],
                          capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


# ---- permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
@pytest.mark.parametrize("plaintext", [False, True])
def test_secret_key_open_to_others_is_refused(ks, mode, plaintext):
    ks.create("alice", "ed25519", None if plaintext else PW)
    path = ks.path("alice")
    path.chmod(mode)
    for use in (lambda: ks.get("alice"), lambda: ks.unlock("alice", PW)):
        with pytest.raises(KeystorePermissionError) as caught:
            use()
        message = caught.value.message
        assert f"mode {mode:04o}" in message and f"chmod 600 {path}" in message
        assert caught.value.exit_code == 11 and caught.value.code == "insecure_permissions"
    path.chmod(0o600)  # the hint is the whole fix
    assert ks.unlock("alice", PW).name == "alice"


def test_public_key_may_be_readable_but_not_writable_by_others(ks, tmp_path):
    ks.create("alice", "ed25519", PW)
    doc = ks.export("alice")
    (tmp_path / "alice.pub.json").write_text(json.dumps(doc))
    public = Keystore(tmp_path / "other", kdf_params=CHEAP)
    public.import_file(tmp_path / "alice.pub.json")
    public.path("alice").chmod(0o644)
    assert public.get("alice").has_secret is False
    public.path("alice").chmod(0o664)
    with pytest.raises(KeystorePermissionError, match="writable by other users"):
        public.get("alice")


def test_keys_directory_writable_by_others_is_refused_readable_warns(ks):
    ks.create("alice", "ed25519", PW)
    assert ks.dir_warning() is None
    ks.dir.chmod(0o755)
    assert "chmod 700" in ks.dir_warning() and "0755" in ks.dir_warning()
    assert ks.get("alice").name == "alice"  # readable: a warning only
    for writable in (0o777, 0o775, 0o757):
        ks.dir.chmod(writable)
        assert ks.dir_warning() is None  # the error below says it all
        with pytest.raises(KeystorePermissionError, match=r"writable by other users.*chmod 700"):
            ks.get("alice")
        with pytest.raises(KeystorePermissionError):
            ks.scan()
    ks.dir.chmod(0o700)


def test_cli_refuses_an_open_key_file_and_warns_about_the_directory(tmp_path):
    home = tmp_path / "home"
    assert ghost_keys(home, "new", "dev", "--scheme", "ed25519", "--plaintext").returncode == 0
    key_file = home / "keys" / "dev.json"
    key_file.chmod(0o644)
    (tmp_path / "m").write_text("m")
    r = ghost_keys(home, "sign", "dev", str(tmp_path / "m"), "--json")
    assert r.returncode == 11
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "insecure_permissions"
    assert error["message"] == (f"key file {key_file} holds a secret key and is open to other "
                                f"users (mode 0644): run `chmod 600 {key_file}`")
    assert r.stderr.count("\n") == 1 and "chmod 600" in r.stderr
    key_file.chmod(0o600)
    (home / "keys").chmod(0o755)
    r = ghost_keys(home, "show", "dev")
    assert r.returncode == 0
    assert f"warning: keys directory {home / 'keys'} is open to other users" in r.stderr


@pytest.mark.parametrize("command", [("list",), ("show", "dev")])
def test_cli_writable_directory_is_one_error_without_the_warning(tmp_path, command):
    home = tmp_path / "home"
    assert ghost_keys(home, "new", "dev", "--scheme", "ed25519", "--plaintext").returncode == 0
    keys_dir = home / "keys"
    keys_dir.chmod(0o775)
    r = ghost_keys(home, *command)
    assert r.returncode == 11
    assert r.stderr == (f"error: keys directory {keys_dir} is writable by other users (mode "
                        f"0775), so its key files cannot be trusted: run `chmod 700 "
                        f"{keys_dir}`\n")


# ---- Argon2id bounds -----------------------------------------------------------------------


def _crafted(ks: Keystore, name: str, **params: int) -> Path:
    """A sealed key file whose kdf_params are replaced (the rest stays well formed)."""
    ks.create(name, "ed25519", PW)
    path = ks.path(name)
    doc = json.loads(path.read_text())
    doc["crypto"]["kdf_params"].update(params)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("params", [
    {"memory_kib": 4 * 1024 * 1024, "iterations": 64, "parallelism": 64},  # the old maximum
    {"memory_kib": keystore_mod.MAX_MEMORY_KIB + 1},
    {"iterations": keystore_mod.MAX_ITERATIONS + 1},
    {"parallelism": keystore_mod.MAX_PARALLELISM + 1},
    {"memory_kib": keystore_mod.MAX_MEMORY_KIB, "iterations": 5},  # over memory x passes
])
def test_kdf_parameters_beyond_the_bounds_are_refused_before_any_work(ks, monkeypatch, params):
    _crafted(ks, "big", **params)

    def no_derivation(*args):
        raise AssertionError("Argon2id ran on parameters it should have refused")

    monkeypatch.setattr(keystore_mod, "_derive", no_derivation)
    for use in (lambda: ks.get("big"), lambda: ks.unlock("big", PW),
                lambda: ks.read_file(ks.path("big"))):
        with pytest.raises(KeystoreError, match="Argon2id parameters out of range"):
            use()


def test_the_bounds_themselves_are_accepted():
    KdfParams(keystore_mod.MAX_MEMORY_KIB, keystore_mod.MAX_MEMORY_PASSES_KIB
              // keystore_mod.MAX_MEMORY_KIB, keystore_mod.MAX_PARALLELISM)
    KdfParams(keystore_mod.MAX_MEMORY_PASSES_KIB // keystore_mod.MAX_ITERATIONS,
              keystore_mod.MAX_ITERATIONS, 1)
    default = KdfParams()
    assert default.memory_kib * default.iterations * 20 < keystore_mod.MAX_MEMORY_PASSES_KIB


def test_cli_refuses_the_crafted_file_without_asking_for_a_passphrase(tmp_path):
    home = tmp_path / "home"
    ks = Keystore(home, kdf_params=CHEAP)
    _crafted(ks, "big", memory_kib=4 * 1024 * 1024, iterations=64, parallelism=64)
    (tmp_path / "m").write_text("m")
    r = ghost_keys(home, "sign", "big", str(tmp_path / "m"), "--json")  # answers at once
    assert r.returncode == 11
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "keystore"
    assert error["message"].startswith("keystore big.json is corrupt: Argon2id parameters out "
                                       "of range (memory_kib=4194304, iterations=64")


# ---- listing with a broken file ------------------------------------------------------------


def test_scan_lists_a_broken_file_beside_the_good_ones(ks):
    ks.create("alice", "ed25519", PW)
    ks.create("carol", "ed25519", PW)
    ks.create("bob", "ed25519", PW)
    ks.path("bob").write_bytes(b"{ not json")
    entries = ks.scan()
    assert [e.name for e in entries] == ["alice", "bob", "carol"]
    broken = entries[1]
    assert isinstance(broken, BrokenKey) and broken.path == ks.path("bob")
    assert broken.error.message.startswith("keystore bob.json is corrupt: not JSON")
    assert broken.to_json()["error"]["code"] == "keystore"
    assert [e.scheme for e in (entries[0], entries[2])] == ["ed25519", "ed25519"]


def test_cli_list_shows_broken_files_in_the_table_and_json(tmp_path):
    home = tmp_path / "home"
    for name in ("alice", "bob", "carol"):
        assert ghost_keys(home, "new", name, "--scheme", "ed25519",
                          "--plaintext").returncode == 0
    (home / "keys" / "bob.json").write_text('{"version": 1, "name": "bob"')
    (home / "keys" / "carol.json").chmod(0o644)

    r = ghost_keys(home, "list", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [k["name"] for k in doc["keys"]] == ["alice"]
    assert [(b["name"], b["error"]["code"]) for b in doc["broken"]] == [
        ("bob", "keystore"), ("carol", "insecure_permissions")]
    assert doc["broken"][0]["path"] == str(home / "keys" / "bob.json")

    table = ghost_keys(home, "list")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["name", "alice", "bob", "carol"]
    assert lines[2].split()[1] == "BROKEN" and "keystore bob.json is corrupt" in lines[2]
    assert lines[3].split()[1] == "BROKEN" and "chmod 600" in lines[3]


def _huge_version(path: Path) -> None:
    """A version of 5000 digits: past int()'s 4300-digit limit, which json.loads hits."""
    path.write_bytes(path.read_bytes().replace(b'"version": 1', b'"version": ' + b"9" * 5000))


def test_a_number_too_long_to_read_is_a_corrupt_file(ks):
    for name in ("alice", "bob", "carol"):
        ks.create(name, "ed25519", PW)
    _huge_version(ks.path("bob"))
    expected = ("keystore bob.json is corrupt: not JSON (Exceeds the limit (4300 digits) for "
                "integer string conversion)")
    for use in (lambda: ks.get("bob"), lambda: ks.unlock("bob", PW),
                lambda: ks.read_file(ks.path("bob"))):
        with pytest.raises(KeystoreError) as caught:
            use()
        assert caught.value.message == expected
    entries = ks.scan()
    assert [type(e).__name__ for e in entries] == ["KeyInfo", "BrokenKey", "KeyInfo"]
    assert entries[1].error.message == expected


def test_scan_turns_an_unexpected_parse_failure_into_a_broken_row(ks, monkeypatch):
    ks.create("alice", "ed25519", PW)
    ks.create("bob", "ed25519", PW)
    parse = keystore_mod._parse_document

    def gap(data, expected_name, path):  # a file the parser has no answer for
        if expected_name == "bob":
            raise TypeError("unhashable type: 'list'")
        return parse(data, expected_name, path)

    monkeypatch.setattr(keystore_mod, "_parse_document", gap)
    alice, bob = ks.scan()
    assert alice.name == "alice" and alice.scheme == "ed25519"
    assert isinstance(bob, BrokenKey) and bob.error.code == "keystore"
    assert bob.error.message == ("keystore bob.json cannot be read: TypeError: unhashable "
                                 "type: 'list'")


def test_cli_lists_beside_a_number_too_long_to_read(tmp_path):
    home = tmp_path / "home"
    for name in ("alice", "bob"):
        assert ghost_keys(home, "new", name, "--scheme", "ed25519",
                          "--plaintext").returncode == 0
    _huge_version(home / "keys" / "bob.json")
    r = ghost_keys(home, "list", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [k["name"] for k in doc["keys"]] == ["alice"]
    assert [b["name"] for b in doc["broken"]] == ["bob"]
    r = ghost_keys(home, "show", "bob")
    assert r.returncode == 11
    assert r.stderr == ("error: keystore bob.json is corrupt: not JSON (Exceeds the limit "
                        "(4300 digits) for integer string conversion)\n")


def test_a_keys_directory_that_is_a_file_is_refused_not_listed_as_empty(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "keys").write_text("not a directory\n")
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "keys", "list"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GHOST_HOME": str(home), "NO_COLOR": "1"})
    assert done.returncode == 11
    assert done.stderr == f"error: keys directory {home / 'keys'} is not a directory\n"


def test_a_ghost_home_that_is_a_file_is_refused_not_listed_as_empty(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a directory\n")
    done = subprocess.run([sys.executable, "-m", "ghost_cli", "keys", "list"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GHOST_HOME": str(home), "NO_COLOR": "1"})
    assert done.returncode == 11
    assert done.stderr == f"error: keys directory {home / 'keys'}: {home} is not a directory\n"
