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
