"""Store URLs: which backend, where, and how to print it without its password.

A password never has to be on the command line: PostgreSQL URLs also take it from a
password file (`?passfile=PATH`, or PGPASSFILE, or ~/.pgpass) or from PGPASSWORD, all
read by libpq itself. One given in the URL works but is never printed: every message
shows `redact(url)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...exceptions import UsageError

_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class StoreUrl:
    backend: str  # "sqlite" or "postgresql"
    path: str  # SQLite: the file (or ":memory:"); PostgreSQL: the URL as given
    display: str  # safe to print

    def __str__(self) -> str:
        return self.display


def parse_store_url(url: str | Path) -> StoreUrl:
    text = str(url)
    if text.startswith(_SCHEMES):
        _check_postgres_url(text)
        return StoreUrl("postgresql", text, redact(text))
    if text.startswith("sqlite://"):
        # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute/path.db
        path = text.removeprefix("sqlite://")
        if not path.startswith("/") or len(path) < 2:
            raise UsageError(f"a SQLite URL is sqlite:///PATH (three slashes), got {text!r}")
        return StoreUrl("sqlite", path[1:], text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise UsageError(f"unknown store scheme {scheme!r}: use a SQLite path, sqlite:///PATH "
                         "or postgresql://USER@HOST/DB")
    return StoreUrl("sqlite", text, text)


def redact(text: str, url: str | None = None) -> str:
    """`text` with any password in a URL inside it replaced by ***; with `url`, also
    every bare copy of `url`'s password (libpq quotes the token it could not parse)."""
    if url is not None:
        for secret in {m.group(2) for p in (_PASSWORD, _QUERY_PASSWORD)
                       for m in p.finditer(url)}:
            if secret:
                text = text.replace(secret, "***")
    return _PASSWORD.sub(r"\1***@", _QUERY_PASSWORD.sub(r"\1***", text))


def error_line(exc: BaseException, url: str) -> str:
    """A database error's first line (libpq's reason), on one line and without `url`'s
    password; the exception's type when it says nothing."""
    text = str(exc).strip()
    return " ".join(redact(text.splitlines()[0] if text else type(exc).__name__, url).split())


# scheme://user:password@  and  ?password=...  /  password=... in a conninfo string
_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)([^@\s]*)@")
_QUERY_PASSWORD = re.compile(r"((?:^|[?&\s])password=)([^&\s]*)", re.IGNORECASE)


def _check_postgres_url(text: str) -> None:
    """libpq's own parse (multi-host lists, `host:port` pairs and `?port=` included), then
    the ports, which libpq leaves for connect time: a malformed URL is a usage error now,
    not a connection failure later."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(text)
    except psycopg.Error as exc:
        said = str(exc).strip().splitlines()[0]
        raise UsageError(f"malformed store URL {redact(text)}: {redact(said, text)}") from None
    for port in str(params.get("port") or "").split(","):
        if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise UsageError(f"malformed store URL {redact(text)}: port {port!r} is not "
                             "1..65535")
