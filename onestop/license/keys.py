"""The signing key: from LICENSE_SIGNING_KEY_FILE (PEM, PKCS8); generated once for local runs."""
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.extensions import DependencyProvider

from onestop.common.config import env

log = logging.getLogger(__name__)
DEFAULT_KEY_FILE = Path(__file__).resolve().parents[2] / ".data" / "keys" / "license-signing.pem"


def load_or_create(path):
    path = Path(path)
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    if env("LICENSE_SIGNING_KEY_FILE"):
        raise FileNotFoundError(f"LICENSE_SIGNING_KEY_FILE {path} does not exist")
    log.warning("no signing key at %s: generating one for this local installation", path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


class SigningKey(DependencyProvider):
    def setup(self):
        self.key = load_or_create(env("LICENSE_SIGNING_KEY_FILE", str(DEFAULT_KEY_FILE)))

    def get_dependency(self, worker_ctx):
        return self.key
