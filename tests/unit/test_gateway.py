"""The gateway's metrics (services/gateway/app.py): what passed through it, by the service it
was routed to and the status it got; /metrics is never answered on the public port."""

import socket

from prometheus_client import REGISTRY
from werkzeug.test import Client

from services.gateway.app import Gateway


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_service_method_and_status():
    down = f"http://127.0.0.1:{closed_port()}"
    client = Client(
        Gateway({s: down for s in ("catalog", "intake", "routing", "license", "feedback")})
    )
    before = {
        "unavailable": sample("gateway_upstream_unavailable_total", service="intake"),
        "intake 503": sample("gateway_requests_total", service="intake", method="POST", code="503"),
        "unknown 404": sample(
            "gateway_requests_total", service="gateway", method="GET", code="404"
        ),
        "openapi": sample("gateway_requests_total", service="gateway", method="GET", code="200"),
        "timed": sample("gateway_request_duration_seconds_count", service="intake"),
    }
    assert client.post("/api/applications", json={}).status_code == 503
    assert client.get("/api/nothing-here").status_code == 404
    assert client.get("/metrics").status_code == 404  # not on the public port
    assert client.get("/api/openapi.json").status_code == 200
    assert sample("gateway_upstream_unavailable_total", service="intake") == (
        before["unavailable"] + 1
    )
    assert sample("gateway_requests_total", service="intake", method="POST", code="503") == (
        before["intake 503"] + 1
    )
    assert sample("gateway_requests_total", service="gateway", method="GET", code="404") == (
        before["unknown 404"] + 2
    )
    assert sample("gateway_requests_total", service="gateway", method="GET", code="200") == (
        before["openapi"] + 1
    )
    assert sample("gateway_request_duration_seconds_count", service="intake") == (
        before["timed"] + 1
    )


def test_a_gzipped_page_passes_through_as_sent_and_metrics_stay_private(tmp_path):
    """The screens' files reach the browser gzipped as the web process sent them (not
    decoded and sent raw); /metrics and /ready of the process behind "/" stay private."""
    import gzip
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from services.web.app import Web

    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>" + "x" * 4000)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, Web(dist=tmp_path, dev_sign_in=False), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client(Gateway({"web": f"http://127.0.0.1:{server.server_port}"}))
        page = client.get("/applications/123", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(page.data).startswith(b"<!doctype html><div id=root>")
        plain = client.get("/applications/123")
        assert "Content-Encoding" not in plain.headers and plain.data.startswith(b"<!doctype")
        assert client.get("/metrics").status_code == 404
        assert client.get("/ready").status_code == 404
        assert client.get("/auth/config").json == {"dev": False, "oidc": False, "oidc_name": None}
    finally:
        server.shutdown()


def test_the_private_paths_of_the_screens_stay_private_in_every_spelling():
    """web answers /metrics (and /metrics/, which its router takes for it) on its own port,
    which only the gateway and Prometheus reach: the gateway never forwards them."""
    down = f"http://127.0.0.1:{closed_port()}"  # were it forwarded: a 503, not a 404
    client = Client(Gateway({"web": down}))
    for path in ("/metrics", "/metrics/", "/metrics%2F", "/%6detrics", "/metrics//", "/ready/"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.json["error"] == "not_found", path
    assert client.get("/some/page").status_code == 503  # the rest goes to web (down here)
