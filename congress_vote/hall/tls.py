"""The hall's certificates, made on first run and kept in the instance folder (``hall-tls/``):
a local certificate authority (ca.pem, its key ca-key.pem, 10 years) that each tablet trusts
once, and a server certificate for the address the hall is served on, signed by it (825 days,
the longest an iPad accepts). A server certificate for another address is made when the
address changes; the authority stays, so the tablets need not trust anything again."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825
CA_NAME = "congress-vote hall CA"


@dataclass(frozen=True)
class HallTLS:
    folder: Path
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def tls_folder(instance_path: str) -> Path:
    return Path(instance_path) / "hall-tls"


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _make_ca(folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "congress-vote"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(folder / "ca-key.pem", _key_pem(key), private=True)
    _write(folder / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))


def _server_matches(cert_path: Path, ca: x509.Certificate, host: str) -> bool:
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.issuer != ca.subject or cert.not_valid_after_utc < _now() + dt.timedelta(days=7):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return ipaddress.ip_address(host) in san.get_values_for_type(x509.IPAddress)


def _make_server(folder: Path, host: str) -> None:
    ca_key = serialization.load_pem_private_key((folder / "ca-key.pem").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write(folder / "server-key.pem", _key_pem(key), private=True)
    _write(folder / "server.pem", cert.public_bytes(serialization.Encoding.PEM))


def ensure_tls(instance_path: str, host: str) -> HallTLS:
    """The authority (made once) and a server certificate valid for `host` (an IP address)."""
    ipaddress.ip_address(host)  # ValueError for anything else
    folder = tls_folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if not (folder / "ca.pem").exists() or not (folder / "ca-key.pem").exists():
        _make_ca(folder)
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    if not _server_matches(folder / "server.pem", ca, host):
        _make_server(folder, host)
    return HallTLS(
        folder,
        folder / "ca.pem",
        folder / "ca-key.pem",
        folder / "server.pem",
        folder / "server-key.pem",
    )


def fingerprint(pem: bytes) -> str:
    """SHA-256 of the certificate (DER), as phones show it: AB:CD:…"""
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def spki_hash(pem: bytes) -> str:
    """base64 SHA-256 of the certificate's public key (what Chromium's
    --ignore-certificate-errors-spki-list and HPKP name a key by)."""
    cert = x509.load_pem_x509_certificate(pem)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
