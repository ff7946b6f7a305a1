"""The node's development TLS: a private CA and a loopback server certificate.

QUIC always runs over TLS 1.3, so a node needs a certificate before it can serve HTTP/3.
On first start `ensure_dev_tls` writes DATA_DIR/tls/ca.pem (a CA made for this node
alone), cert.pem (the server certificate it signed, for 127.0.0.1, ::1 and localhost
plus any extra host) and key.pem (the server key, 0600). Clients trust ca.pem explicitly
(`--ca`); there is no "insecure" mode to fall back on.

The CA's private key is never written: it signs the one server certificate and is
dropped, so a copied ca.pem cannot be used to vouch for any other name or host.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ConfigError
from ..fsutil import write_atomically

TLS_DIR = "tls"
VALIDITY = dt.timedelta(days=5 * 365)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the development CA certificate: what clients pass as --ca
    cert: Path  # the server certificate (leaf only)
    key: Path  # the server's private key, 0600


def tls_files(data_dir: Path | str) -> TlsFiles:
    tls = Path(data_dir) / TLS_DIR
    return TlsFiles(tls / "ca.pem", tls / "cert.pem", tls / "key.pem")


def ensure_dev_tls(data_dir: Path | str, hosts: tuple[str, ...] = (),
                   now: dt.datetime | None = None) -> TlsFiles:
    """The node's TLS files, created on first start and re-created when they no longer fit:
    expired, missing a host the node now listens on, or not one set (a key that is not
    the certificate's, a CA that did not sign it, a file that does not parse)."""
    files = tls_files(data_dir)
    wanted = _names(hosts)
    now = now or dt.datetime.now(dt.UTC)
    if all(p.is_file() for p in (files.ca, files.cert, files.key)) and \
            _still_good(files, wanted, now):
        return files
    _issue(files, wanted, now)
    return files


def _names(hosts: tuple[str, ...]) -> tuple[str, ...]:
    # A wildcard bind address is not a name a client dials; loopback always is.
    extra = [h for h in hosts if h and h not in ("0.0.0.0", "::", "*")]
    return tuple(dict.fromkeys((*LOOPBACK_NAMES, *extra)))


def _san(names: tuple[str, ...]):
    from cryptography import x509

    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _still_good(files: TlsFiles, names: tuple[str, ...], now: dt.datetime) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        # One set: ca.pem signed the certificate (what clients trust vouches for it) and
        # key.pem is its key; files copied from another node's tls/ are not.
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca.read_bytes()))
        key = load_pem_private_key(files.key.read_bytes(), None)
        if key.public_key() != cert.public_key():
            return False
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    have = set(san.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    # A day's margin so a client never meets a certificate that expires mid-session.
    return wanted <= have and cert.not_valid_after_utc > now + dt.timedelta(days=1)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _issue(files: TlsFiles, names: tuple[str, ...], now: dt.datetime) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    # P-256: every TLS 1.3 stack (aioquic, qh3, OpenSSL) verifies it.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    not_before = now - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ghost node development CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(now + VALIDITY)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    try:
        files.key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The key first: a certificate on disk never points at a key that is not there yet.
        write_atomically(files.key, key_pem, 0o600)
        write_atomically(files.cert, server.public_bytes(pem), 0o644)
        write_atomically(files.ca, ca.public_bytes(pem), 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write the node's TLS files in {files.ca.parent}: "
                          f"{exc.strerror or exc}") from exc

