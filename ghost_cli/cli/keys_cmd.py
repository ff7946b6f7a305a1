"""`ghost keys ...`: the keystore under GHOST_HOME/keys, signing, and encryption to a key.

Secret keys never reach stdout: `export --secret` prints the sealed keystore document,
`sign` prints a signature, `decrypt` prints the plaintext of a message.
"""


import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import PasswordFile
from .output import Output, command
from .signing import keystore

NameArg = Annotated[str, typer.Argument(help="Key name (1-64 of A-Z a-z 0-9 _ . -).")]
InputArg = Annotated[str, typer.Argument(help="Input file, or - for stdin.")]
OutFile = Annotated[
    Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write to this file.")
]

_SUBAPP = dict(no_args_is_help=True, rich_markup_mode=None,
               context_settings={"help_option_names": ["-h", "--help"]})


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Create, list and use keys; sign, verify, encrypt.", **_SUBAPP)
    multisig = typer.Typer(help="Multi-sig accounts: M of N keys.", **_SUBAPP)
    keys.add_typer(multisig, name="multisig")
    app.add_typer(keys, name="keys")

    @keys.command("new")
    @command
    def new(
        out: Output,
        name: NameArg,
        scheme: Annotated[str | None, typer.Option(
            "--scheme", "-s", help="Signature scheme or ml-kem-768 (default ml-dsa-65); "
                                   "`ghost keys schemes` lists them.")] = None,
        plaintext: Annotated[bool, typer.Option(
            "--plaintext", help="Store the secret key unencrypted: no passphrase is read.")
        ] = False,
        password_file: PasswordFile = None,
        seed: Annotated[str | None, typer.Option(
            "--seed", help="Hex seed for a reproducible key: development only.")] = None,
    ) -> None:
        """Create a key pair, sealed under a passphrase (asked twice at a prompt)."""
        from ..crypto.keystore import resolve_scheme
        from ..crypto.schemes import DEFAULT_SCHEME
        from ..exceptions import CryptoError, UsageError

        ks = keystore()
        scheme = scheme or DEFAULT_SCHEME
        ks.new_path(name)  # refuse a bad or taken name before asking for a passphrase
        _, impl = resolve_scheme(scheme)
        seed_bytes = _hex_option(seed, "--seed") if seed is not None else None
        if seed_bytes is not None:  # a seed the scheme cannot take: before the prompt too
            try:
                impl.keygen(seed_bytes)
            except CryptoError as exc:
                raise UsageError(f"--seed: {exc.message}") from None
        passphrase = None if plaintext else _passphrase(f"new key {name!r}", password_file,
                                                         confirm=True)
        info = ks.create(name, scheme, passphrase, seed_bytes)
        if plaintext:
            out.info(f"warning: {info.path} holds the secret key unencrypted")
        if seed is not None:
            out.info("warning: anyone who knows the seed has this key: development only")
        out.emit({"key": info.to_json()}, lambda: _render_key(out, info))

    @keys.command("list")
    @command
    def list_(out: Output) -> None:
        """List the keys in the keystore."""
        from ..crypto.keystore import BrokenKey

        ks = _keystore(out)
        entries = ks.scan()
        infos = [e for e in entries if not isinstance(e, BrokenKey)]
        broken = [e for e in entries if isinstance(e, BrokenKey)]
        out.emit({"keys": [i.to_json() for i in infos],
                  "broken": [b.to_json() for b in broken]},
                 lambda: _render_list(out, entries))

    @keys.command("show")
    @command
    def show(out: Output, name: NameArg) -> None:
        """Show a key's scheme, address and public key (never its secret)."""
        info = _keystore(out).get(name)
        out.emit({"key": info.to_json()}, lambda: _render_key(out, info, full=True))

    @keys.command("schemes")
    @command
    def schemes_(out: Output) -> None:
        """List the schemes `ghost keys new --scheme` accepts."""
        from ..crypto.kem import KEM_SCHEMES
        from ..crypto.schemes import DEFAULT_SCHEME, SCHEMES

        rows = [{"name": s.name, "id": s.id, "kind": "signing",
                 "default": s.name == DEFAULT_SCHEME} for s in SCHEMES.values()]
        rows += [{"name": k.name, "id": k.id, "kind": "kem", "default": False}
                 for k in KEM_SCHEMES.values()]
        out.emit({"schemes": rows}, lambda: [out.out.print(
            f"{r['id']:>3}  {r['name']:<20} {r['kind']}"
            + ("  (default)" if r["default"] else ""), markup=False) for r in rows])

    @keys.command("export")
    @command
    def export(
        out: Output,
        name: NameArg,
        public: Annotated[bool, typer.Option(
            "--public", help="Public key only (the default).")] = False,
        secret: Annotated[bool, typer.Option(
            "--secret", help="Include the secret key, sealed: needs the passphrase.")] = False,
        password_file: PasswordFile = None,
    ) -> None:
        """Print a keystore document for `ghost keys import` on another machine."""
        from ..exceptions import UsageError

        if public and secret:
            raise UsageError("--public and --secret exclude each other")
        ks = _keystore(out)
        passphrase = None
        # Missing, corrupt or secret-less keys fail in export without a prompt first.
        if secret and ks.get(name).has_secret:
            passphrase = _passphrase(f"key {name!r}", password_file)
        doc = ks.export(name, public=not secret, passphrase=passphrase)
        out.emit({"name": name, "keystore": doc}, lambda: _write_json(doc))

    @keys.command("import")
    @command
    def import_(
        out: Output,
        file: Annotated[str, typer.Argument(help="A keystore JSON file, or - for stdin.")],
        name: Annotated[str | None, typer.Option(
            "--name", help="Store under this name (default: the name in the file).")] = None,
        password_file: PasswordFile = None,
    ) -> None:
        """Add a key from a keystore document (an export, or a public key)."""
        ks = keystore()
        source = _read_input(file) if file == "-" else Path(file)
        found = ks.read_file(source)
        ks.new_path(name or found.name)
        passphrase = None
        if name is not None and name != found.name and found.encrypted:
            passphrase = _passphrase(f"key {found.name!r}", password_file)  # to re-seal
        info = ks.import_file(source, name=name, passphrase=passphrase)
        out.emit({"key": info.to_json()}, lambda: _render_key(out, info))

    @keys.command("delete")
    @command
    def delete(
        out: Output,
        name: NameArg,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        """Delete a key's file. Without an export, its secret key is gone for good."""
        from ..exceptions import InterruptedError_, UsageError

        ks = _keystore(out)
        if not yes and ks.path(name).exists():
            if not sys.stdin.isatty():
                raise UsageError(f"deleting key {name!r} needs --yes when not at a terminal")
            try:
                sure = typer.confirm(f"Delete key {name!r}? Without an export it is gone "
                                     "for good", err=True)
            except typer.Abort as abort:  # Ctrl-C or Ctrl-D at the question (click says
                sys.stderr.write("\n")  # Abort; the KeyboardInterrupt, if one, is its context)
                raise InterruptedError_.of(abort.__context__,
                                           f"interrupted: key {name!r} not deleted") from None
            if not sure:
                raise typer.Exit(1)
        ks.delete(name)
        out.emit({"deleted": name}, lambda: out.info(f"deleted key {name!r}"))

    @keys.command("sign")
    @command
    def sign(
        out: Output,
        name: NameArg,
        file: InputArg,
        out_file: OutFile = None,
        password_file: PasswordFile = None,
    ) -> None:
        """Sign FILE; print the signature (scheme id ‖ raw) as hex, or write it with --out."""
        from ..crypto.address import format_address
        from ..crypto.message import sign_message
        from .signing import unlock

        message = _read_input(file)
        key = unlock(name, password_file)
        signature = sign_message(key, message)
        if out_file is not None:
            _write_output(out_file, signature, mode=0o644)
        data = {"name": name, "scheme": key.scheme,
                "address": format_address(key.address) if key.address else None,
                "signature": "0x" + signature.hex(),
                "out": str(out_file) if out_file else None}
        out.emit(data, lambda: out.info(f"signature written to {out_file}")
                 if out_file else typer.echo(signature.hex()))

    @keys.command("verify")
    @command
    def verify(
        out: Output,
        name: NameArg,
        file: InputArg,
        sigfile: Annotated[Path, typer.Argument(
            dir_okay=False, help="The signature: hex (0x optional) or binary.")],
    ) -> None:
        """Check a signature of FILE by key NAME: exit 0 when valid, 11 when not."""
        from ..crypto.address import format_address
        from ..crypto.message import verify_message
        from ..exceptions import CryptoError, UsageError

        info = _keystore(out).get(name)
        if info.kind != "signing":
            raise UsageError(f"{name!r} is a {info.kind} entry, not a signing key")
        message = _read_input(file)
        signature = _signature_bytes(_read_input(str(sigfile)))
        if not verify_message(info.public_key, message, signature):
            raise CryptoError("signature invalid", name=name)
        address = format_address(info.address) if info.address else None
        out.emit({"valid": True, "name": name, "address": address},
                 lambda: out.out.print(f"signature valid: {name} {address}", markup=False))

    @keys.command("encrypt")
    @command
    def encrypt(
        out: Output,
        file: InputArg,
        to: Annotated[str, typer.Option("--to", help="The recipient's ml-kem key.")],
        out_file: OutFile = None,
    ) -> None:
        """Encrypt FILE to a KEM key; binary .ghx to stdout or --out."""
        from ..crypto import kem
        from ..exceptions import UsageError

        info = _keystore(out).get(to)
        if info.kind != "kem":
            raise UsageError(f"{to!r} is a {info.kind} entry: encrypt to an ml-kem key "
                             "(`ghost keys new NAME --scheme ml-kem-768`)")
        blob = kem.encrypt(info.public_key[1:], _read_input(file), kem=info.scheme)
        _emit_binary(out, blob, out_file, "ciphertext", mode=0o644, to=to)

    @keys.command("decrypt")
    @command
    def decrypt(
        out: Output,
        name: NameArg,
        file: InputArg,
        out_file: OutFile = None,
        password_file: PasswordFile = None,
    ) -> None:
        """Decrypt a .ghx FILE sent to key NAME; the plaintext to stdout or --out."""
        from ..crypto import kem
        from ..exceptions import UsageError

        ks = _keystore(out)
        info = ks.get(name)
        if info.kind != "kem":
            raise UsageError(f"{name!r} is a {info.kind} entry: only ml-kem keys decrypt")
        blob = _read_input(file)
        passphrase = _passphrase(f"key {name!r}", password_file) if info.encrypted else None
        key = ks.unlock(name, passphrase)
        plaintext = kem.decrypt(key.secret_key, blob)
        _emit_binary(out, plaintext, out_file, "plaintext", mode=0o600, name=name)

    @multisig.command("create")
    @command
    def multisig_create(
        out: Output,
        name: NameArg,
        members: Annotated[list[str], typer.Argument(
            help="Signing keys in the keystore (yours or imported public keys).")],
        threshold: Annotated[int, typer.Option(
            "--threshold", "-m", help="Signatures required (M of the N members).")],
    ) -> None:
        """Create an M-of-N multi-sig account from keys in the keystore."""
        info = keystore().create_multisig(name, threshold, members)
        out.emit({"key": info.to_json()}, lambda: _render_key(out, info, full=True))


# ---- helpers -----------------------------------------------------------------------------


def _passphrase(purpose: str, password_file: Path | None, *, confirm: bool = False) -> str:
    from ..crypto.passphrase import read_passphrase

    return read_passphrase(purpose, password_file=password_file, confirm=confirm)


def _hex_option(text: str, option: str) -> bytes:
    from ..crypto.address import from_hex
    from ..exceptions import UsageError

    try:
        return from_hex(text)
    except ValueError:
        raise UsageError(f"{option} takes hex digits, got {text!r}") from None


def _read_input(file: str) -> bytes:
    from ..exceptions import UsageError

    try:
        return sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:  # stdin too: closed (`<&-`) or a directory
        where = "stdin" if file == "-" else file
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None


def _signature_bytes(data: bytes) -> bytes:
    """A signature file holds hex (what `sign` prints) or the raw bytes (`sign --out`)."""
    from ..crypto.address import from_hex

    try:
        return from_hex(data.decode("ascii").strip()) or data
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return data


def _write_output(path: Path, data: bytes, *, mode: int) -> None:
    from ..exceptions import UsageError
    from ..fsutil import write_atomically

    try:
        write_atomically(path, data, mode=mode)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _emit_binary(out: Output, data: bytes, out_file: Path | None, what: str, *, mode: int,
                 **fields: str) -> None:
    """Binary results: to --out, else to stdout (not a terminal), or hex inside --json."""
    from ..exceptions import UsageError

    if out_file is not None:
        _write_output(out_file, data, mode=mode)
        out.emit({**fields, "out": str(out_file), "size": len(data)},
                 lambda: out.info(f"{what} ({len(data)} bytes) written to {out_file}"))
    elif out.as_json:
        out.emit({**fields, what: "0x" + data.hex(), "size": len(data)}, lambda: None)
    elif sys.stdout.isatty():
        raise UsageError(f"the {what} is binary: pass --out FILE or redirect stdout")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _write_json(doc: dict) -> None:
    import json

    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def _secret_state(info) -> str:
    if info.kind == "multisig":
        return "none (multi-sig account: its members sign)"
    if not info.has_secret:
        return "none (public key only)"
    return "encrypted" if info.encrypted else "PLAINTEXT (unencrypted)"


def _render_key(out: Output, info, *, full: bool = False) -> None:
    from ..crypto.address import address_of_public_key, format_address

    rows = [("name", info.name), ("kind", f"{info.kind} ({info.scheme})")]
    if info.address is not None:
        rows.append(("address", format_address(info.address)))
    pk = info.public_key
    rows.append(("public key", "0x" + pk.hex() if full and len(pk) <= 64
                 else f"{len(pk)} bytes, 0x{pk[:8].hex()}…{pk[-4:].hex()}"))
    rows.append(("secret key", _secret_state(info)))
    if info.multisig is not None:
        rows.append(("threshold", f"{info.multisig.threshold} of {len(info.multisig.members)}"))
        for i, (member, label) in enumerate(zip(info.multisig.members, info.member_names,
                                                strict=True)):
            rows.append((f"member {i}", f"{format_address(address_of_public_key(member))}"
                                        f"  {label or ''}".rstrip()))
    rows.append(("file", str(info.path)))
    for key, value in rows:
        out.out.print(f"{key:<11} {value}", markup=False)


def _render_list(out: Output, entries) -> None:
    if not entries:
        out.info("no keys yet: create one with `ghost keys new NAME`")
        return
    from ..crypto.address import format_address
    from ..crypto.keystore import BrokenKey

    # Plain columns, not a rich Table: a table squeezed to 80 columns off a terminal
    # would cut addresses short. A broken file gets a row too, its reason in the last column.
    rows = [("name", "kind", "scheme", "address", "secret")] + [
        (i.name, "BROKEN", "-", "-", i.error.message) if isinstance(i, BrokenKey) else
        (i.name, i.kind, i.scheme, format_address(i.address) if i.address else "-",
         _secret_state(i).split(" (")[0]) for i in entries]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        out.out.print("  ".join(v.ljust(w) for v, w in zip(r[:4], widths, strict=True))
                      + "  " + r[4], markup=False)


def _keystore(out: Output):
    """The keystore, with a warning on stderr when its directory is open to others
    (commands that write a key tighten it themselves instead)."""
    ks = keystore()
    if (warning := ks.dir_warning()) is not None:
        out.info(warning)
    return ks
