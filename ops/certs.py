"""Certificates for the broker's AMQPS listener (external departments): `python -m ops.cli
certs --out deploy/tls --host amqp.example.org`.

A private certificate authority (EC P-256, ten years) signs the broker's server
certificate (the names given with --host / --ip, one year). Departments verify the broker
with ca.pem, which the platform hands them with their password; they authenticate with
that password (docs/department-guide.md), not with client certificates. ca.key signs
the next server certificate: keep it offline, not next to the broker. Existing files are
never overwritten, so a renewal is a new directory (or the old files moved away first).
"""

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 365
FILES = ("ca.pem", "ca.key", "server.pem", "server.key")


def _name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "One-step Approval"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_bytes(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path, data, mode):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # whatever the umask


def make(out, hosts, ips=(), key_mode=0o600, now=None):
    """Write ca.pem, ca.key, server.pem, server.key into `out`; return their paths.

    key_mode: the server key's mode (the broker's user must read it: 0o640 with the
    broker's group, or 0o644 where the broker runs as another user and the directory is
    private)."""
    if not hosts and not ips:
        raise ValueError("name the broker: at least one --host or --ip")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    existing = [name for name in FILES if (out / name).exists()]
    if existing:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}: not overwritten")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("One-step Approval broker CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(h) for h in hosts] + [
        x509.IPAddress(ipaddress.ip_address(i)) for i in ips
    ]
    server = (
        x509.CertificateBuilder()
        .subject_name(_name((list(hosts) or list(ips))[0]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(out / "ca.pem", ca.public_bytes(pem), 0o644)
    _write(out / "ca.key", _key_bytes(ca_key), 0o600)
    _write(out / "server.pem", server.public_bytes(pem) + ca.public_bytes(pem), 0o644)
    _write(out / "server.key", _key_bytes(server_key), key_mode)
    return [out / name for name in FILES]
