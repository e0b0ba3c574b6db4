"""The public entry point: a route table from API paths to the services that own them.

Every path outside `/api` goes to the screens (services/web: the front end and its
sign-in). It adds nothing but routing, JSON errors for paths and methods nobody serves, a
503 naming the service that is down, the OpenAPI document, and metrics of what passed
through it (requests by service, method and status, latency, services found down) on a
port of their own, GATEWAY_METRICS_PORT (8010), never on the public one. Run with
`python -m services.gateway.app` (waitress, a production WSGI server).
"""

import json
import logging
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests
import urllib3
import yaml
from prometheus_client import Counter, Histogram, start_http_server
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from onestop.common import config
from onestop.common.http import (
    MULTIPART_OVERHEAD,
    error_body,
    payload_too_large,
    too_large,
    upload_max_bytes,
)

log = logging.getLogger(__name__)
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

# (path, methods, service); the first match wins. Keep docs/openapi.yaml in step.
ROUTES = [
    ("/api/scenarios", "GET", "catalog"),
    ("/api/scenarios/<code>", "GET", "catalog"),
    ("/api/scenarios/<code>/checklist", "GET", "intake"),
    ("/api/regions", "GET", "catalog"),
    ("/api/catalog/versions", "GET", "catalog"),
    ("/api/catalog/versions/<old>/diff/<new>", "GET", "catalog"),
    ("/api/scenarios/<code>/plan", "GET", "catalog"),
    ("/api/scenarios/<code>/form", "GET", "catalog"),
    ("/api/search", "GET", "catalog"),
    ("/api/scenarios/<code>/guide", "GET", "catalog"),
    ("/api/items", "GET", "catalog"),
    ("/api/items/<code>", "GET", "catalog"),
    ("/api/departments", "GET", "catalog"),
    ("/api/departments/<code>", "GET", "catalog"),
    ("/api/calendar", "GET", "catalog"),
    ("/api/uploads", "POST", "intake"),
    ("/api/applications", "GET,POST", "intake"),
    ("/api/applications/<application_id>", "GET", "intake"),
    ("/api/applications/<application_id>/history", "GET", "routing"),
    ("/api/applications/<application_id>/receipt", "GET", "intake"),
    ("/api/applications/<application_id>/materials/<file_id>", "GET", "intake"),
    ("/api/applications/<application_id>/notices", "GET", "license"),
    ("/api/applications/<application_id>/notices/<notice_id>", "GET", "license"),
    ("/api/notices/verify", "POST", "license"),
    ("/api/hall/applications", "GET", "routing"),
    ("/api/hall/applications/<application_id>/acceptance", "POST", "routing"),
    ("/api/applications/<application_id>/corrections", "POST", "intake"),
    ("/api/applications/<application_id>/withdraw", "POST", "intake"),
    ("/api/supervision/overdue", "GET", "routing"),
    ("/api/officer/tasks", "GET", "routing"),
    ("/api/officer/tasks/<task_id>/decision", "POST", "routing"),
    ("/api/officer/tasks/<task_id>/payment", "POST", "routing"),
    ("/api/applications/<application_id>/reviews", "GET,POST", "feedback"),
    ("/api/reviews/stats", "GET", "feedback"),
    ("/api/statistics", "GET", "feedback"),
    ("/api/reviews/<review_id>/follow-up", "POST", "feedback"),
    ("/api/rectifications", "GET", "feedback"),
    ("/api/rectifications/<case_id>", "GET", "feedback"),
    ("/api/rectifications/<case_id>/visit", "POST", "feedback"),
    ("/api/rectifications/<case_id>/rectify", "POST", "feedback"),
    ("/api/rectifications/<case_id>/confirm", "POST", "feedback"),
    ("/api/rectifications/<case_id>/dispute", "POST", "feedback"),
    ("/api/licenses", "GET", "license"),
    ("/api/licenses/keys", "GET", "license"),
    ("/api/licenses/verify", "POST", "license"),
    ("/api/licenses/<license_id>", "GET", "license"),
    ("/api/licenses/<license_id>/verification", "GET", "license"),
    ("/api/licenses/<license_id>/revoke", "POST", "license"),
    ("/api/notifications", "GET", "notify"),
    ("/api/notifications/preferences", "GET,PUT", "notify"),
    ("/api/notifications/<notification_id>/read", "POST", "notify"),
]
# public aliases: path -> (service, path at the service)
ALIASES = {"/.well-known/license-keys.json": ("license", "/api/licenses/keys")}
# the screens' process answers these on its own port only, never through the public one
PRIVATE = {"/metrics", "/ready"}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}

PATH_CHARACTERS = "/:@!$&'()*+,;="  # RFC 3986 path characters forwarded as they are

# service: the one the request was routed to, or "gateway" for what the gateway answers
REQUESTS = Counter(
    "gateway_requests_total", "Requests answered by the gateway", ["service", "method", "code"]
)
LATENCY = Histogram(
    "gateway_request_duration_seconds",
    "Time from a request's arrival to its answer, at the gateway",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNAVAILABLE = Counter(
    "gateway_upstream_unavailable_total",
    "Requests answered 503 because their service did not answer",
    ["service"],
)
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def json_error(status, code, message):
    return Response(
        json.dumps(error_body(code, message)), status=status, mimetype="application/json"
    )


class Gateway:
    def __init__(self, service_urls=None):
        self.url_map = Map(
            [
                Rule(path, methods=methods.split(","), endpoint=service)
                for path, methods, service in ROUTES
            ],
            strict_slashes=False,
        )
        self.service_urls = service_urls or {
            s: config.service_url(s) for s in [*config.SERVICES, *config.FRONTENDS]
        }
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=64)
        self.session.mount("http://", adapter)
        with open(OPENAPI_FILE, encoding="utf-8") as handle:
            self.openapi = json.dumps(yaml.safe_load(handle))

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request = Request(environ)
        service, response = self.dispatch(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(service, method, str(response.status_code)).inc()
        LATENCY.labels(service).observe(time.perf_counter() - started)
        return response(environ, start_response)

    def dispatch(self, request):
        """(the service that answered, or "gateway"; the response)"""
        if request.path == "/api/openapi.json":
            return "gateway", Response(self.openapi, mimetype="application/json")
        if request.path == "/health":
            return "gateway", Response(
                '{"status": "ok", "service": "gateway"}', mimetype="application/json"
            )
        limit = too_large(request)
        if limit is not None:
            return "gateway", payload_too_large(limit)
        if request.path in ALIASES:
            service, path = ALIASES[request.path]
            return service, self.forward(request, service, path)
        # "/metrics/" and "/metrics%2F" too: the screens' router takes them for "/metrics"
        if request.path.rstrip("/") in PRIVATE:
            return "gateway", json_error(404, "not_found", f"nothing public at {request.path}")
        if not (request.path == "/api" or request.path.startswith("/api/")):
            # the screens and their sign-in (services/web): everything outside /api
            return "web", self.forward(request, "web", request.path)
        try:
            service, _ = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            code = "method_not_allowed" if exc.code == 405 else "not_found"
            message = (
                f"{request.method} is not allowed on {request.path}"
                if exc.code == 405
                else f"no API at {request.path}; see /api/openapi.json"
            )
            return "gateway", json_error(exc.code, code, message)
        return service, self.forward(request, service, request.path)

    def forward(self, request, service, path):
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() != "host"
        }
        # the caller's own choice of encoding, never requests' default (gzip, deflate)
        headers.setdefault("Accept-Encoding", "identity")
        try:
            upstream = self.session.request(
                # re-encoded: a decoded "?", "#" or "%" in a path segment must reach the
                # service as part of the path, not start a query string
                request.method,
                self.service_urls[service] + quote(path, safe=PATH_CHARACTERS),
                params=request.query_string.decode() or None,
                data=request.get_data(),
                headers=headers,
                timeout=30,
                allow_redirects=False,
                stream=True,
            )
            # the body as the service sent it: a gzipped page stays gzipped (its
            # Content-Encoding is passed on), nothing is decoded and encoded again
            try:
                body = upstream.raw.read(decode_content=False)
            finally:
                upstream.raw.release_conn()  # back to the pool, kept alive
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            log.warning("%s unreachable: %s", service, exc)
            UNAVAILABLE.labels(service).inc()
            return json_error(503, "unavailable", f"the {service} service is unavailable")
        response_headers = [
            (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP
        ]
        return Response(body, status=upstream.status_code, headers=response_headers)


def main():
    import waitress
    from onestop.common.logs import configure_logging

    config.refuse_weak_secrets("gateway")
    configure_logging("gateway")
    port, host = config.gateway_port(), config.env("BIND_HOST", "127.0.0.1")
    metrics_port = config.gateway_metrics_port()
    start_http_server(metrics_port, addr=host)
    log.info("gateway listening on http://%s:%s (metrics on port %s)", host, port, metrics_port)
    waitress.serve(
        Gateway(),
        host=host,
        port=port,
        threads=int(config.env("GATEWAY_THREADS", 16)),
        ident="onestop-gateway",
        # waitress buffers a body before the app sees it: never more than the
        # largest body any path accepts (an upload), not its 1 GB default
        max_request_body_size=upload_max_bytes() + MULTIPART_OVERHEAD,
        _quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
