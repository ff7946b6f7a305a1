"""Where a keystore passphrase comes from: a file, the environment, or the person at the
terminal, in that order. Never from a command-line argument (it would show in `ps` and in
shell history)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from ..config.defaults import ENV_PASSPHRASE
from ..exceptions import UsageError


def read_passphrase(
    purpose: str,
    *,
    password_file: Path | None = None,
    confirm: bool = False,
    environ: Mapping[str, str] | None = None,
    interactive: bool | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> str:
    """The passphrase for `purpose` (e.g. "key 'alice'"). `confirm` asks twice at a prompt
    (when creating a key, where a typo would lock the key away for good)."""
    if password_file is not None:
        try:
            text = Path(password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read password file {password_file}: "
                             f"{exc.strerror or exc}") from None
        except UnicodeDecodeError:  # its message quotes a byte of the passphrase: not shown
            raise UsageError(f"cannot read password file {password_file}: not UTF-8 text"
                             ) from None
        # One trailing newline is the editor's, not the passphrase's.
        passphrase = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
        if not passphrase:
            raise UsageError(f"password file {password_file} is empty")
        return passphrase
    env = os.environ if environ is None else environ
    if env.get(ENV_PASSPHRASE):
        return env[ENV_PASSPHRASE]
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise UsageError(f"a passphrase is needed for {purpose}: pass --password-file FILE, "
                         f"set {ENV_PASSPHRASE}, or run in a terminal to be asked")
    try:
        passphrase = prompt(f"Passphrase for {purpose}: ")
        if not passphrase:
            raise UsageError("empty passphrase (use --plaintext to store a key unencrypted)"
                             if confirm else "empty passphrase")
        if confirm and prompt("Repeat the passphrase: ") != passphrase:
            raise UsageError("the passphrases do not match")
    except EOFError:  # Ctrl-D at the prompt: no passphrase was typed
        sys.stderr.write("\n")  # end the prompt's line
        raise UsageError(f"no passphrase given for {purpose} (end of input)") from None
    except KeyboardInterrupt:  # Ctrl-C: the command ends as interrupted (exit 130)
        sys.stderr.write("\n")
        raise
    return passphrase
