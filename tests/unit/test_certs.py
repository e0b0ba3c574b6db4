"""`python -m ops.cli certs` (ops/certs.py): the broker's AMQPS certificate verifies with the
CA a department is given, for the names asked for and no others; keys stay private and
nothing is overwritten."""

import socket
import ssl
import stat
import threading

import pytest

from ops import certs
from ops.cli import main as cli


def handshake(directory, server_name, cafile):
    """A TLS handshake against a local server presenting server.pem; the error, or None."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(directory / "server.pem", directory / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_context.wrap_socket(raw, server_hostname=server_name):
                return None
    except ssl.SSLCertVerificationError as exc:
        return exc
    finally:
        thread.join(10)
        listener.close()


def test_the_server_certificate_verifies_with_the_ca_for_its_names_only(tmp_path):
    certs.make(tmp_path, ["amqp.example.org", "localhost"], ["127.0.0.1"])
    assert handshake(tmp_path, "localhost", tmp_path / "ca.pem") is None
    assert handshake(tmp_path, "127.0.0.1", tmp_path / "ca.pem") is None
    assert handshake(tmp_path, "elsewhere.example.org", tmp_path / "ca.pem") is not None


def test_without_the_ca_a_client_refuses_the_broker(tmp_path):
    certs.make(tmp_path, ["localhost"])
    assert handshake(tmp_path, "localhost", None) is not None  # the system's trust store


def test_keys_are_private_and_nothing_is_overwritten(tmp_path):
    certs.make(tmp_path, ["localhost"])
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "server.key").stat().st_mode) == 0o600
    before = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(FileExistsError):
        certs.make(tmp_path, ["localhost"])
    assert (tmp_path / "ca.key").read_bytes() == before


def test_the_command_line_names_what_is_missing(tmp_path, capsys):
    assert cli(["certs", "--out", str(tmp_path / "none")]) == 2
    assert "--host" in capsys.readouterr().err
    assert cli(["certs", "--out", str(tmp_path / "tls"), "--host", "localhost"]) == 0
    assert (tmp_path / "tls" / "server.pem").exists()
