"""JSON over nameko's HTTP entrypoint, with one table from exceptions to HTTP statuses.

Bad input is a 4xx with per-field messages; anything unexpected is a JSON 500
that is logged with its traceback (and counted as an error by Metrics).
"""

import io
import json
import logging

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError as KombuOperationalError
from marshmallow import ValidationError
from nameko.exceptions import RpcTimeout, UnknownService
from pymongo.errors import ConnectionFailure as PymongoConnectionFailure
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from onestop.common import errors
from onestop.common.config import env

log = logging.getLogger(__name__)

# the broker or the store is away: the client may retry, nothing was half-done
UNAVAILABLE_ERRORS = (
    ConnectionError,
    OSError,
    KombuOperationalError,
    AmqpConnectionError,
    PymongoConnectionFailure,
    RpcTimeout,
    UnknownService,
)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class BadRequest(ApiError):
    pass


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


# the one table from domain refusals to HTTP statuses (onestop/common/errors.py)
DOMAIN_STATUSES = {
    errors.Invalid: (400, "bad_request"),
    errors.NotAllowed: (403, "forbidden"),
    errors.Unknown: (404, "not_found"),
    errors.Conflicting: (409, "conflict"),
}


def domain_status(exc):
    """(status, code) of a domain refusal, by the most specific class in the table."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUSES:
            return DOMAIN_STATUSES[cls]
    return 400, "bad_request"


MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and part headers around an upload


def upload_max_bytes():
    return int(env("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def body_limit(path):
    """The most bytes a request body to `path` may have: an upload (`/api/uploads`) its
    file limit plus the multipart framing, anything else `JSON_MAX_BYTES` (1 MiB)."""
    if path.rstrip("/") == "/api/uploads":
        return upload_max_bytes() + MULTIPART_OVERHEAD
    return int(env("JSON_MAX_BYTES", 1024 * 1024))


def too_large(request):
    """None when the body fits `body_limit`, else the limit. Decided before the body is
    read when it announces its length; a chunked body is read up to one byte past the
    limit and no further (what fits is put back for the handler to read)."""
    limit = body_limit(request.path)
    length = request.content_length
    if length is not None:
        return limit if length > limit else None
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return None
    data = request.environ["wsgi.input"].read(limit + 1)  # the server de-chunks
    if len(data) > limit:
        return limit
    request.environ["wsgi.input"] = io.BytesIO(data)
    request.environ["CONTENT_LENGTH"] = str(len(data))
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    request.__dict__.pop("stream", None)  # werkzeug's cached stream: read the buffer now
    request.__dict__.pop("content_length", None)
    return None


def payload_too_large(limit):
    return json_response(
        error_body(
            "payload_too_large",
            f"the request body is larger than {limit} bytes, the most this path accepts",
        ),
        413,
    )


def json_response(body, status=200, headers=None):
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_body(code, message, fields=None):
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


class DuplicateKey(ValueError):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _without_duplicate_keys(pairs):
    """A JSON object whose keys are unique: `{"a": 1, "a": 2}` is ambiguous (parsers keep
    the first or the last), so it is refused rather than read one way here and another
    elsewhere."""
    body = {}
    for key, value in pairs:
        if key in body:
            raise DuplicateKey(key)
        body[key] = value
    return body


def read_json(request):
    """The request body as a JSON object, or a 400 that says what is wrong."""
    if not request.mimetype == "application/json":
        raise UnsupportedMediaType("request body must be application/json")
    try:
        body = json.loads(
            request.get_data(as_text=True) or "null", object_pairs_hook=_without_duplicate_keys
        )
    except DuplicateKey as exc:
        raise BadRequest(
            f"request body names {exc.key!r} twice in one object; a key may appear once",
            fields={exc.key: ["given more than once"]},
        ) from None
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    except RecursionError:  # e.g. [[[[...]]]] a thousand deep: the parser's limit, not ours
        raise BadRequest("request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def load(schema, data, message="validation failed"):
    """Marshmallow load that turns a ValidationError into a 400 with per-field messages."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadRequest(message, fields=exc.messages) from None


def validated(schema, data, message="validation failed"):
    """`data` itself, unchanged, when `schema` accepts it; else a 400 with per-field messages
    (for documents that must be kept byte for byte, e.g. a signed licence)."""
    errors = schema.validate(data)
    if errors:
        raise BadRequest(message, fields=errors)
    return data


def load_query(schema, request, drop_empty=False):
    """The query string through `schema` (a 400 with per-field messages). A parameter given
    twice is refused rather than one of its values picked silently; with `drop_empty`, an
    empty one (`?q=&level=`) counts as absent."""
    repeated = {
        key: ["give this parameter once"] for key, values in request.args.lists() if len(values) > 1
    }
    if repeated:
        raise BadRequest("validation failed", fields=repeated)
    return load(
        schema,
        {key: value for key, value in request.args.items() if not (drop_empty and value == "")},
    )


class JsonHttpHandler(HttpRequestHandler):
    """nameko's http entrypoint, answering JSON for results and for errors."""

    def __init__(self, method, url, expected_exceptions=(ApiError, errors.DomainError), **kwargs):
        super().__init__(method, url, expected_exceptions=expected_exceptions, **kwargs)

    def handle_request(self, request):
        limit = too_large(request)
        if limit is not None:
            return payload_too_large(limit)
        return super().handle_request(request)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status = 200
        if isinstance(result, tuple):
            status, result = result
        return json_response(result, status)

    def response_from_exception(self, exc):
        if isinstance(exc, ApiError):
            return json_response(
                error_body(exc.code, exc.message, exc.fields),
                exc.status,
                headers=getattr(exc, "headers", None),
            )
        if isinstance(exc, errors.DomainError):
            status, code = domain_status(exc)
            return json_response(error_body(code, exc.message, exc.fields), status)
        if isinstance(exc, HTTPException):
            return json_response(error_body("http_error", exc.description), exc.code)
        if isinstance(exc, UNAVAILABLE_ERRORS):
            log.warning(
                "%s: a dependency is unavailable: %s: %s", self.method_name, type(exc).__name__, exc
            )
            return json_response(
                error_body(
                    "unavailable",
                    "a service this request needs is unavailable; retry shortly "
                    "(with the same Idempotency-Key when applying)",
                ),
                503,
                headers={"Retry-After": "2"},
            )
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return json_response(error_body("internal_error", "internal error"), 500)


http = JsonHttpHandler.decorator
