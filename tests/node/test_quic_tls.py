"""The node's development TLS files: made once, private key 0600, loopback names, and
re-issued only when they no longer fit."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ghost_cli.node.tls import ensure_dev_tls


def _names(path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)}


def test_first_start_writes_a_ca_a_loopback_certificate_and_a_private_key(tmp_path):
    files = ensure_dev_tls(tmp_path)
    assert files.ca.parent == tmp_path / "tls"
    assert files.key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" not in files.ca.read_bytes() + files.cert.read_bytes()
    assert {"localhost", "127.0.0.1", "::1"} <= _names(files.cert)
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(ca)  # raises unless the CA signed it
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_existing_files_are_reused_and_reissued_when_they_no_longer_fit(tmp_path):
    first = ensure_dev_tls(tmp_path)
    pem = first.cert.read_bytes()
    assert ensure_dev_tls(tmp_path).cert.read_bytes() == pem  # clients keep trusting it
    assert ensure_dev_tls(tmp_path, ("0.0.0.0",)).cert.read_bytes() == pem  # not a name
    widened = ensure_dev_tls(tmp_path, ("10.1.2.3",))
    assert "10.1.2.3" in _names(widened.cert) and widened.cert.read_bytes() != pem
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=6 * 365)
    renewed = ensure_dev_tls(tmp_path, ("10.1.2.3",), now=later)
    cert = x509.load_pem_x509_certificate(renewed.cert.read_bytes())
    assert cert.not_valid_after_utc > later
    ips = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("10.1.2.3") in ips  # an IP entry, not a DNS name


def test_files_that_do_not_belong_together_are_reissued(tmp_path):
    """A key.pem that is not the certificate's (another node's, copied over), a ca.pem
    that did not sign it, or a key that is no key: a node would start and fail every
    handshake (or fail to start). They no longer fit either: made again, as one set."""
    other = ensure_dev_tls(tmp_path / "other")
    for name, content in (("key", other.key.read_bytes()), ("ca", other.ca.read_bytes()),
                          ("key", b"not a key\n")):
        files = ensure_dev_tls(tmp_path / "node")
        getattr(files, name).write_bytes(content)
        files = ensure_dev_tls(tmp_path / "node")
        ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        cert.verify_directly_issued_by(ca)
        key = serialization.load_pem_private_key(files.key.read_bytes(), None)
        assert key.public_key() == cert.public_key(), name
