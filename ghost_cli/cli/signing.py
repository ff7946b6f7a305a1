"""Unlock the keystore key a command signs with."""


from pathlib import Path

from ..exceptions import UsageError


def keystore():
    from ..config.defaults import ghost_home
    from ..crypto.keystore import Keystore

    return Keystore(ghost_home())


def unlock(name: str, password_file: Path | None):
    """The named signing key, unlocked (asking for its passphrase only if it has one)."""
    from ..crypto.passphrase import read_passphrase

    store = keystore()
    info = store.get(name)
    if info.kind != "signing" or not info.has_secret:
        raise UsageError(f"key {name!r} cannot sign ({info.kind}"
                         f"{'' if info.has_secret else ', public key only'})")
    passphrase = (read_passphrase(f"key {name!r}", password_file=password_file)
                  if info.encrypted else None)
    return store.unlock(name, passphrase)


def load_signer(name: str | None, password_file: Path | None):
    """None (the network's development key) when no key is named."""
    return None if name is None else unlock(name, password_file)
