"""The signing key and the published verification keys.

LICENSE_SIGNING_KEY_FILE: the Ed25519 private key (PEM, PKCS8). When unset, a key
is generated once under DATA_DIR/keys for a local installation; when set, the
file must exist (a production key is never invented).
LICENSE_PREVIOUS_KEYS_FILE: optional JWK set of retired public keys, still
published and accepted for verification after a key rotation.
"""

import json
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.extensions import DependencyProvider

from onestop.common.config import env
from services.license import domain

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]


def default_key_file():
    return Path(env("DATA_DIR", str(ROOT / ".data"))) / "keys" / "license-signing.pem"


def load_or_create(path):
    path = Path(path)
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    if env("LICENSE_SIGNING_KEY_FILE"):
        raise FileNotFoundError(f"LICENSE_SIGNING_KEY_FILE {path} does not exist")
    log.warning("no signing key at %s: generating one for this local installation", path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def load_previous_keys(path):
    """The retired public keys (a JWK set file), or none."""
    if not path:
        return []
    with open(path, encoding="utf-8") as handle:
        return [jwk for jwk in json.load(handle).get("keys", [])]


class KeyRing:
    """The current signing key and every public key a licence may have been signed with."""

    def __init__(self, signing_key, previous_jwks=()):
        self.signing_key = signing_key
        current = domain.public_jwk(signing_key.public_key())
        self.jwks = {"keys": [current] + [k for k in previous_jwks if k["kid"] != current["kid"]]}
        self.public_keys = domain.keys_from_jwks(self.jwks)


class SigningKeys(DependencyProvider):
    def setup(self):
        key = load_or_create(env("LICENSE_SIGNING_KEY_FILE") or default_key_file())
        self.ring = KeyRing(key, load_previous_keys(env("LICENSE_PREVIOUS_KEYS_FILE")))

    def get_dependency(self, worker_ctx):
        return self.ring
