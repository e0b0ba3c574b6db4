"""Unbounded bodies (issue 14): every entry point answers 413 past its documented limit
(JSON bodies: JSON_MAX_BYTES, 1 MiB; uploads: UPLOAD_MAX_BYTES plus 64 KiB of multipart
framing), with or without a token, through the gateway and straight at a service. The
attacks announce a huge body and send little of it, or stream a chunked body without end.

The services answer before reading the rest. The gateway's server (waitress) reads a
body before the application sees it: past the largest limit (an upload's) it answers 413
before reading; a body between a path's limit and that is read (at most 10 MiB + 64 KiB,
never waitress's 1 GB default) and then refused."""

import json
import socket
from urllib.parse import urlsplit

import pytest

MIB = 1024 * 1024


def _address(url):
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _status_line(sock):
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), head.decode(), rest


def announce(url, path, length, token=None, content_type="application/json"):
    """Send headers announcing `length` bytes and only 10 of them; the answer must come
    without the rest (a server that waits for the body would time out here)."""
    with socket.create_connection(_address(url), timeout=15) as sock:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
                f"{auth}Content-Length: {length}\r\n\r\n"
            ).encode()
            + b"{" * 10
        )
        return _status_line(sock)


def stream_chunked(url, path, total, token=None, content_type="application/json"):
    """A chunked body of `total` bytes, sent until the server answers or stops reading."""
    with socket.create_connection(_address(url), timeout=15) as sock:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
                f"{auth}Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
        sent = 0
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += 65536
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want
        return _status_line(sock)


@pytest.mark.parametrize("where", ["intake", "license", "feedback", "routing"])
@pytest.mark.parametrize("authenticated", [False, True])
def test_an_announced_oversized_json_body_is_413_before_it_is_sent(mesh, where, authenticated):
    path = {
        "intake": "/api/applications",
        "license": "/api/licenses/verify",
        "feedback": "/api/reviews/x/follow-up",
        "routing": "/api/officer/tasks/x/decision",
    }[where]
    token = mesh.token("applicant") if authenticated else None
    status, head, body = announce(mesh.service_url(where), path, 2 * MIB, token)
    assert " 413 " in status, head
    assert json.loads(body.decode().split("}")[0] + "}")["error"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/api/applications", "/api/uploads", "/nowhere"])
def test_the_gateway_refuses_a_body_past_the_largest_limit_before_it_is_sent(mesh, path):
    status, head, _ = announce(mesh.base, path, 64 * MIB)
    assert " 413 " in status, head


def test_the_gateway_refuses_a_json_body_past_its_limit(mesh):
    response = mesh.post(
        "/api/applications", data=b" " * (MIB + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("where", ["gateway", "intake"])
def test_a_chunked_upload_past_the_limit_is_413(mesh, where):
    """Straight to intake, a chunked upload used to skip the size check (it looked only at
    Content-Length)."""
    url = mesh.base if where == "gateway" else mesh.service_url("intake")
    status, head, _ = stream_chunked(
        url,
        "/api/uploads",
        11 * MIB,
        mesh.token("applicant"),
        content_type="multipart/form-data; boundary=x",
    )
    assert " 413 " in status, head


@pytest.mark.parametrize("where", ["gateway", "routing"])
def test_a_chunked_json_body_past_the_limit_is_413(mesh, where):
    url = mesh.base if where == "gateway" else mesh.service_url("routing")
    status, head, _ = stream_chunked(url, "/api/officer/tasks/x/decision", 2 * MIB)
    assert " 413 " in status, head


def test_a_chunked_body_within_the_limit_is_read_whole(mesh):
    """The bounded read puts back what fits: a small chunked request still works."""
    body = json.dumps({"id": "L1", "key_id": "k", "signature": "AAAA"}).encode()
    with socket.create_connection(_address(mesh.base), timeout=15) as sock:
        sock.sendall(
            b"POST /api/licenses/verify HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        )
        status, head, rest = _status_line(sock)
        while True:
            more = sock.recv(65536)
            if not more:
                break
            rest += more
    assert " 200 " in status, head
    assert json.loads(rest)["result"] == "forged"
