"""The screens' own process: the built front end and sign-in (docs/adr/0024-web-front-end.md).

The gateway sends it every path outside `/api`: the single-page front end built by the
setup into `services/web/dist` (index.html for any page path, so a link or a reload of
`/applications/X` works), and `/auth/...`, where a person gets a platform token:

- `GET /auth/config`: which sign-ins this deployment offers;
- `GET /auth/dev/people`, `POST /auth/dev/sign-in` (only with WEB_DEV_SIGNIN=true, which
  `make run` sets): a demo person's token, for trying the platform without an identity
  provider; the page says so on every screen;
- OpenID Connect (services/web/oidc.py), when WEB_OIDC_ISSUER is set.

This process issues tokens, so it holds the signing key (AUTH_SIGNING_KEY); the front end
uses nothing but the public API with them (no back door into the services). Run with
`python -m services.web.app` (waitress).
"""

import gzip
import json
import logging
import mimetypes
import sys
from pathlib import Path

from prometheus_client import Counter, make_wsgi_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from onestop.common import config, tokens
from onestop.common.http import error_body
from services.web.people import DEMO_PEOPLE, listing

log = logging.getLogger(__name__)
DIST = Path(__file__).resolve().parent / "dist"
# the built assets have content hashes in their names: cache them for good
IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = {
    # the pages load nothing from elsewhere; images are data: URLs (QR codes) or uploads
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
        "frame-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# text files are sent gzipped to a browser that takes it (most of a first load is JavaScript)
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")

SIGN_INS = Counter("web_sign_ins_total", "Tokens issued by the sign-in", ["method", "role"])


def truthy(value):
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def json_response(body, status=200):
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def json_error(status, code, message, fields=None):
    return json_response(error_body(code, message, fields), status)


class Web:
    def __init__(self, dist=DIST, dev_sign_in=None, signing_key=None, oidc=None):
        self.dist = Path(dist)
        # (not `self.dev_sign_in`: that name is the POST /auth/dev/sign-in endpoint's method)
        self.dev_enabled = (
            truthy(config.env("WEB_DEV_SIGNIN")) if dev_sign_in is None else dev_sign_in
        )
        self.signing_key = signing_key
        self.oidc = oidc
        self.url_map = Map(
            [
                Rule("/health", endpoint="health"),
                Rule("/metrics", endpoint="metrics"),
                Rule("/auth/config", methods=["GET"], endpoint="auth_config"),
                Rule("/auth/dev/people", methods=["GET"], endpoint="dev_people"),
                Rule("/auth/dev/sign-in", methods=["POST"], endpoint="dev_sign_in"),
                Rule("/auth/oidc/login", methods=["GET"], endpoint="oidc_login"),
                Rule("/auth/oidc/callback", methods=["GET"], endpoint="oidc_callback"),
                Rule("/", endpoint="page"),
                Rule("/<path:path>", endpoint="page"),
            ],
            strict_slashes=False,
        )
        self.metrics = make_wsgi_app()
        self.files = {}  # (path, mtime) -> (mimetype, bytes, gzipped bytes or None)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, values = self.url_map.bind_to_environ(environ).match()
            if endpoint == "metrics":
                return self.metrics(environ, start_response)
            response = getattr(self, endpoint)(request, **values)
        except HTTPException as exc:
            code = "method_not_allowed" if exc.code == 405 else "not_found"
            response = json_error(exc.code, code, exc.description)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    # -- the pages -------------------------------------------------------------------

    def health(self, request):
        built = (self.dist / "index.html").is_file()
        return json_response(
            {"status": "ok" if built else "unbuilt", "service": "web"}, 200 if built else 503
        )

    def page(self, request, path=""):
        if request.method not in ("GET", "HEAD"):
            return json_error(405, "method_not_allowed", f"{request.method} is not allowed here")
        if path.startswith("api/"):
            return json_error(404, "not_found", f"no API at /{path}; see /api/openapi.json")
        target = (self.dist / path).resolve() if path else None
        if target and target.is_file() and self.dist.resolve() in target.parents:
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return self.file(request, target, cache)
        if path.startswith("assets/") or Path(path).suffix:
            return json_error(404, "not_found", f"no file /{path}")
        index = self.dist / "index.html"
        if not index.is_file():
            return json_error(
                503, "unbuilt", "the screens are not built: run `make setup` (npm run build)"
            )
        return self.file(request, index, "no-cache")

    def contents(self, path):
        """(mimetype, bytes, gzipped bytes or None) of a built file: read, and compressed
        when worth it, once per version of the file (its mtime), not per request."""
        key = (str(path), path.stat().st_mtime_ns)
        if key not in self.files:
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            body = path.read_bytes()
            packed = (
                gzip.compress(body, compresslevel=9, mtime=0)
                if mimetype.startswith(COMPRESSIBLE) and len(body) > 1024
                else None
            )
            self.files[key] = (mimetype, body, packed)
        return self.files[key]

    def file(self, request, path, cache):
        mimetype, body, packed = self.contents(path)
        gzipped = packed is not None and "gzip" in request.headers.get("Accept-Encoding", "")
        response = Response(packed if gzipped else body, mimetype=mimetype)
        response.headers["Cache-Control"] = cache
        response.headers["Vary"] = "Accept-Encoding"
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        return response

    # -- sign-in ---------------------------------------------------------------------

    def auth_config(self, request):
        return json_response(
            {
                "dev": self.dev_enabled,
                "oidc": bool(self.oidc),
                "oidc_name": self.oidc.display_name if self.oidc else None,
            }
        )

    def dev_people(self, request):
        if not self.dev_enabled:
            return json_error(404, "not_found", "the development sign-in is off here")
        return json_response({"people": listing()})

    def dev_sign_in(self, request):
        if not self.dev_enabled:
            return json_error(404, "not_found", "the development sign-in is off here")
        body = request.get_json(silent=True)
        key = body.get("person") if isinstance(body, dict) else None
        if key not in DEMO_PEOPLE:
            return json_error(
                400,
                "validation_error",
                "choose one of the demo people",
                {"person": [f"one of {', '.join(DEMO_PEOPLE)}"]},
            )
        role, claims = DEMO_PEOPLE[key]
        claims = dict(claims)
        token = tokens.mint(role, claims.pop("sub"), key=self.signing_key, **claims)
        SIGN_INS.labels("dev", role).inc()
        return json_response({"token": token})

    def oidc_login(self, request):
        if not self.oidc:
            return json_error(404, "not_found", "OpenID Connect sign-in is not configured")
        return self.oidc.login(request)

    def oidc_callback(self, request):
        if not self.oidc:
            return json_error(404, "not_found", "OpenID Connect sign-in is not configured")
        response = self.oidc.callback(request)
        if getattr(response, "signed_in_role", None):
            SIGN_INS.labels("oidc", response.signed_in_role).inc()
        return response


def main():
    import waitress
    from onestop.common.logs import configure_logging

    config.refuse_weak_secrets("web")
    configure_logging("web")
    key = tokens.signing_key()
    oidc = None
    if config.env("WEB_OIDC_ISSUER"):
        from services.web.oidc import OidcSignIn

        oidc = OidcSignIn.from_env(signing_key=key)
    port, host = config.port_of("web"), config.env("BIND_HOST", "127.0.0.1")
    log.info("web listening on http://%s:%s", host, port)
    waitress.serve(
        Web(signing_key=key, oidc=oidc),
        host=host,
        port=port,
        threads=int(config.env("WEB_THREADS", 8)),
        ident="onestop-web",
        max_request_body_size=64 * 1024,
        _quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
