"""`ghost keys` end to end, as processes: GHOST_HOME in a temporary directory, the
passphrase from GHOST_PASSPHRASE or --password-file, production Argon2id parameters."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PW = "s3cret passphrase"


@dataclass
class Run:
    code: int
    stdout: bytes
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def text(self) -> str:
        return self.stdout.decode()


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "ghost-home"


@pytest.fixture
def keys(home, tmp_path):
    """keys("new", "alice", ...) runs `ghost keys new alice ...`. stdin is never a terminal,
    so nothing waits at a prompt."""

    def run(*args: str, input: bytes = b"", passphrase: str | None = PW,
            home: Path = home) -> Run:
        env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(home),
               "GHOST_PASSPHRASE": passphrase or ""}
        for leak in ("GHOST_JSON", "GHOST_PASSWORD_FILE"):
            env.pop(leak, None)
        proc = subprocess.run([sys.executable, "-m", "ghost_cli", "keys", *args], input=input,
                              capture_output=True, cwd=tmp_path, env=env, timeout=120)
        return Run(proc.returncode, proc.stdout, proc.stderr.decode())

    return run


def test_new_list_show(keys, home):
    r = keys("new", "alice", "--scheme", "ed25519", "--json")
    assert r.code == 0, r.stderr
    key = r.json["key"]
    assert (key["name"], key["kind"], key["scheme"], key["encrypted"]) == (
        "alice", "signing", "ed25519", True)
    path = home / "keys" / "alice.json"
    assert key["path"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys("new", "bob", "--json").json["key"]["scheme"] == "ml-dsa-65"  # the default

    listed = keys("list", "--json").json["keys"]
    assert [k["name"] for k in listed] == ["alice", "bob"]
    shown = keys("show", "alice", "--json").json["key"]
    assert shown == key
    # Addresses print with their checksum, and the plain listing shows them whole.
    assert key["address"] != key["address"].lower()
    assert key["address"] in keys("list").text


def test_new_refuses_a_taken_name_and_unknown_scheme(keys):
    assert keys("new", "alice", "--scheme", "ed25519").code == 0
    r = keys("new", "alice", "--scheme", "ed25519", "--json")
    assert r.code == 2 and "already exists" in r.json["error"]["message"]
    r = keys("new", "carol", "--scheme", "rsa")
    assert r.code == 11 and "unknown scheme 'rsa'" in r.stderr


def test_missing_key_is_not_found(keys):
    keys("new", "alice", "--scheme", "ed25519", "--plaintext")
    r = keys("show", "carol")
    assert r.code == 7 and "no key named 'carol' (keys: alice)" in r.stderr


def test_sign_and_verify(keys, tmp_path):
    assert keys("new", "alice", "--scheme", "ml-dsa-44").code == 0
    msg = tmp_path / "msg.txt"
    msg.write_bytes(b"pay bob 5")
    r = keys("sign", "alice", str(msg))
    assert r.code == 0, r.stderr
    sig_hex = tmp_path / "msg.sig"
    sig_hex.write_bytes(r.stdout)
    assert bytes.fromhex(r.text.strip())[0] == 1  # scheme id of ml-dsa-44 leads the bytes

    r = keys("verify", "alice", str(msg), str(sig_hex), "--json")
    assert r.code == 0 and r.json["valid"] is True

    # Binary signatures from --out verify too.
    sig_bin = tmp_path / "msg.bin"
    assert keys("sign", "alice", str(msg), "--out", str(sig_bin)).code == 0
    assert sig_bin.read_bytes()[0] == 1 and len(sig_bin.read_bytes()) == 1 + 2420
    assert keys("verify", "alice", str(msg), str(sig_bin)).code == 0

    msg.write_bytes(b"pay bob 500")
    r = keys("verify", "alice", str(msg), str(sig_hex))
    assert r.code == 11 and "signature invalid" in r.stderr
    r = keys("verify", "alice", str(msg), str(sig_hex), "--json")
    assert r.code == 11 and r.json["error"]["message"] == "signature invalid"


def test_sign_reads_stdin_and_verify_needs_no_passphrase(keys, tmp_path):
    keys("new", "alice", "--scheme", "ed25519")
    r = keys("sign", "alice", "-", "--json", input=b"from a pipe")
    assert r.code == 0, r.stderr
    sig = tmp_path / "sig"
    sig.write_text(r.json["signature"])  # 0x-prefixed hex is accepted
    msg = tmp_path / "msg"
    msg.write_bytes(b"from a pipe")
    assert keys("verify", "alice", str(msg), str(sig), passphrase=None).code == 0


def test_wrong_passphrase_exits_12(keys, tmp_path):
    keys("new", "alice", "--scheme", "ed25519")
    (tmp_path / "m").write_bytes(b"m")
    r = keys("sign", "alice", str(tmp_path / "m"), passphrase="not it")
    assert r.code == 12 and "wrong passphrase for key 'alice'" in r.stderr and r.stdout == b""
    r = keys("sign", "alice", str(tmp_path / "m"), "--json", passphrase="not it")
    assert r.json["error"]["code"] == "wrong_passphrase"


def test_password_file_and_no_source(keys, tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("from a file\n")
    assert keys("new", "alice", "--scheme", "ed25519", "--password-file", str(pw),
                passphrase=None).code == 0
    (tmp_path / "m").write_bytes(b"m")
    assert keys("sign", "alice", str(tmp_path / "m"), "--password-file", str(pw),
                passphrase="the env is not used").code == 0
    assert keys("sign", "alice", str(tmp_path / "m"), passphrase="from a file").code == 0
    r = keys("sign", "alice", str(tmp_path / "m"), passphrase=None)
    assert r.code == 2
    assert "--password-file FILE, set GHOST_PASSPHRASE, or run in a terminal" in r.stderr
    r = keys("new", "bob", passphrase=None)
    assert r.code == 2 and "GHOST_PASSPHRASE" in r.stderr


def test_plaintext_keys_warn_and_need_no_passphrase(keys, home, tmp_path):
    r = keys("new", "dev", "--scheme", "ed25519", "--plaintext", "--seed", "01" * 32,
             "--json", passphrase=None)
    assert r.code == 0, r.stderr
    assert "unencrypted" in r.stderr and "development only" in r.stderr
    assert r.json["key"]["encrypted"] is False
    doc = json.loads((home / "keys" / "dev.json").read_text())
    assert doc["crypto"] == {"cipher": "none", "secret_key": "01" * 32}
    (tmp_path / "m").write_bytes(b"m")
    assert keys("sign", "dev", str(tmp_path / "m"), passphrase=None).code == 0
    # The secret never reaches stdout: exporting it seals it under a passphrase first.
    r = keys("export", "dev", "--secret", "--json")
    assert r.code == 0 and "01" * 32 not in r.text
    assert r.json["keystore"]["crypto"]["cipher"] == "chacha20-poly1305"


def test_corrupted_keystore_file(keys, home, tmp_path):
    keys("new", "alice", "--scheme", "ed25519")
    path = home / "keys" / "alice.json"
    doc = json.loads(path.read_text())
    ct = bytearray.fromhex(doc["crypto"]["ciphertext"])
    ct[0] ^= 0x80
    doc["crypto"]["ciphertext"] = ct.hex()
    path.write_text(json.dumps(doc))
    (tmp_path / "m").write_bytes(b"m")
    r = keys("sign", "alice", str(tmp_path / "m"), "--json")
    assert r.code == 11
    assert r.json["error"]["code"] == "keystore"
    assert r.json["error"]["message"].startswith("keystore alice.json is corrupt:")


def test_export_import_between_homes(keys, tmp_path):
    keys("new", "alice", "--scheme", "schnorr-secp256k1")
    exported = keys("export", "alice")
    assert exported.code == 0 and "crypto" not in exported.json  # public by default
    pub = tmp_path / "alice.pub.json"
    pub.write_bytes(exported.stdout)
    other = tmp_path / "other-home"
    r = keys("import", str(pub), "--json", home=other)
    assert r.code == 0 and r.json["key"]["has_secret"] is False

    msg, sig = tmp_path / "m", tmp_path / "sig"
    msg.write_bytes(b"signed at home")
    sig.write_bytes(keys("sign", "alice", str(msg)).stdout)
    assert keys("verify", "alice", str(msg), str(sig), home=other).code == 0
    r = keys("sign", "alice", str(msg), home=other)
    assert r.code == 2 and "public key only" in r.stderr

    # The secret travels sealed, and a rename re-seals it under the new name.
    secret = tmp_path / "alice.secret.json"
    r = keys("export", "alice", "--secret")
    assert r.code == 0
    secret.write_bytes(r.stdout)
    assert json.loads(r.stdout)["crypto"]["cipher"] == "chacha20-poly1305"
    assert keys("export", "alice", "--secret", passphrase="nope").code == 12
    r = keys("import", str(secret), "--name", "alice2", "--json", home=other)
    assert r.code == 0, r.stderr
    assert keys("sign", "alice2", str(msg), home=other).code == 0
    # `-` reads the document from stdin (keys.md), renamed and re-sealed as from a file.
    r = keys("import", "-", "--name", "alice3", "--json", input=secret.read_bytes(), home=other)
    assert r.code == 0 and r.json["key"]["has_secret"] is True, r.stderr
    assert keys("sign", "alice3", str(msg), home=other).code == 0
    r = keys("import", "-", "--name", "junk", input=b"{", home=other)
    assert r.code == 11 and "keystore (stdin) is corrupt: not JSON" in r.stderr


def test_import_of_a_truncated_file(keys, tmp_path, home):
    keys("new", "alice", "--scheme", "ed25519")
    text = (home / "keys" / "alice.json").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[:-40])
    r = keys("import", str(cut), "--name", "copy")
    assert r.code == 11 and "keystore cut.json is corrupt: not JSON" in r.stderr
    r = keys("import", str(tmp_path / "absent.json"))
    assert r.code == 11 and "cannot read keystore file" in r.stderr


def test_multisig_create(keys):
    for name, scheme in (("a", "ed25519"), ("b", "ml-dsa-44"), ("c", "ed25519")):
        assert keys("new", name, "--scheme", scheme, "--plaintext").code == 0
    one = keys("multisig", "create", "team", "--threshold", "2", "a", "b", "c", "--json")
    assert one.code == 0, one.stderr
    two = keys("multisig", "create", "team2", "-m", "2", "c", "b", "a", "--json")
    assert one.json["key"]["address"] == two.json["key"]["address"]
    assert one.json["key"]["threshold"] == 2
    assert sorted(m["name"] for m in one.json["key"]["members"]) == ["a", "b", "c"]
    r = keys("multisig", "create", "bad", "--threshold", "4", "a", "b", "c")
    assert r.code == 2 and "threshold must be 1 to 3" in r.stderr


def test_encrypt_decrypt(keys, tmp_path):
    keys("new", "box", "--scheme", "ml-kem-768")
    keys("new", "alice", "--scheme", "ed25519")
    plain = tmp_path / "plain"
    plain.write_bytes(b"\x00binary secret\xff")
    r = keys("encrypt", "--to", "box", str(plain), passphrase=None)  # public key only
    assert r.code == 0, r.stderr
    assert r.stdout[:4] == b"GHX1"
    ghx = tmp_path / "plain.ghx"
    ghx.write_bytes(r.stdout)
    r = keys("decrypt", "box", str(ghx))
    assert r.code == 0 and r.stdout == plain.read_bytes()
    out = tmp_path / "back"
    assert keys("decrypt", "box", str(ghx), "--out", str(out)).code == 0
    assert out.read_bytes() == plain.read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    r = keys("encrypt", "--to", "alice", str(plain))
    assert r.code == 2 and "encrypt to an ml-kem key" in r.stderr
    ghx.write_bytes(ghx.read_bytes()[:-1] + b"\x00")
    r = keys("decrypt", "box", str(ghx))
    assert r.code == 11 and "decryption failed" in r.stderr


def test_delete(keys, home):
    keys("new", "alice", "--scheme", "ed25519", "--plaintext")
    r = keys("delete", "alice")
    assert r.code == 2 and "--yes" in r.stderr
    assert (home / "keys" / "alice.json").exists()
    r = keys("delete", "alice", "--yes", "--json")
    assert r.code == 0 and r.json["deleted"] == "alice"
    assert not (home / "keys" / "alice.json").exists()
    assert keys("delete", "alice", "--yes").code == 7


def _at_a_terminal(home: Path, cwd: Path, *args: str, answer: bytes) -> tuple[int, str]:
    """`ghost keys ARGS` on a pseudo-terminal: when it asks (a passphrase, a confirmation),
    type `answer` (b"\\x03" is Ctrl-C, b"\\x04" Ctrl-D). (exit code, what it printed)."""
    import pty
    import select

    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(home)}
    for leak in ("GHOST_JSON", "GHOST_PASSWORD_FILE", "GHOST_PASSPHRASE"):
        env.pop(leak, None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec, or leave without running the parent's cleanup
        try:
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "ghost_cli", "keys", *args], env)
        finally:
            os._exit(127)
    seen, asked = b"", False
    while True:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:  # a hang is a failure, not a wait
            os.kill(pid, 9)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not asked and (b"Passphrase for" in seen or b"[y/N]" in seen):
            os.write(fd, answer)
            asked = True
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode(errors="replace"))  # the terminal's bold
    return os.waitstatus_to_exitcode(status), text.replace("\r\n", "\n")


def _files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((home / "keys").iterdir())}


def test_ctrl_c_at_a_prompt_is_exit_130_and_changes_nothing(keys, home, tmp_path):
    assert keys("new", "alice", "--scheme", "ed25519").code == 0
    (tmp_path / "m").write_bytes(b"m")
    before = _files(home)
    for args in (("new", "bob", "--scheme", "ed25519"), ("sign", "alice", str(tmp_path / "m")),
                 ("export", "alice", "--secret")):
        code, printed = _at_a_terminal(home, tmp_path, *args, answer=b"\x03")
        assert code == 130, printed
        assert printed.rstrip().endswith("error: interrupted"), printed
        assert "Traceback" not in printed
    code, printed = _at_a_terminal(home, tmp_path, "delete", "alice", answer=b"\x03")
    assert code == 130 and "error: interrupted: key 'alice' not deleted" in printed, printed
    assert _files(home) == before  # no key, no temporary file, nothing deleted


def test_ctrl_d_at_the_passphrase_prompt_is_no_passphrase(keys, home, tmp_path):
    assert keys("new", "alice", "--scheme", "ed25519").code == 0
    (tmp_path / "m").write_bytes(b"m")
    code, printed = _at_a_terminal(home, tmp_path, "sign", "alice", str(tmp_path / "m"),
                                   answer=b"\x04")
    assert code == 2, printed
    assert "error: no passphrase given for key 'alice' (end of input)" in printed


def test_a_seed_the_scheme_cannot_take_is_exit_2_before_any_passphrase(keys, home):
    r = keys("new", "a", "--seed", "00", "--json", passphrase=None)
    assert r.code == 2 and r.json["error"]["message"] == \
        "--seed: ml-dsa-65 keygen seed must be 32 bytes, got 1"
    r = keys("new", "b", "--scheme", "slh-dsa-sha2-128s", "--seed", "01" * 32, passphrase=None)
    assert r.code == 2 and r.stderr.startswith("error: --seed: slh-dsa-sha2-128s cannot derive")
    r = keys("new", "c", "--scheme", "ml-kem-768", "--seed", "01" * 32, passphrase=None)
    assert r.code == 2 and "ml-kem-768" in r.stderr and "64" in r.stderr
    assert not (home / "keys").exists() or not any((home / "keys").iterdir())
