"""Bad input never gives a 500, and every answer is one the document promises.

schemathesis takes the document the running mesh serves (/api/openapi.json, the same as
docs/openapi.yaml: checked below) and sends to every documented operation the document's
examples, boundary cases (coverage phase, which also tries undocumented methods) and
generated requests, valid and invalid (mode "all"), with the token of a role that may call
the operation. Every response is checked:

- not_a_server_error: no 5xx, whatever the input;
- status_code_conformance: the status is one the operation documents;
- content_type_conformance: the Content-Type is one the operation documents;
- response_schema_conformance: the body is valid against the documented schema.

Bounded and reproducible: a fixed seed, derandomized generation, no example database, a
few examples per operation. No operation is excluded: multipart uploads are generated too
(their bytes never carry a PDF/JPEG/PNG signature, so they only reach the rejections, which
is what this test is for; the happy path of uploads is in test_openapi_conformance.py).

Then what schemathesis does not generate, for every operation it applies to: hostile JSON
bodies (nested a thousand deep, not UTF-8, NaN, ...), odd path parameters (?, #, %2F, ..,
2000 characters) and odd bearer tokens (wrong claim types, alg none, wrong key, ...).
"""

import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from onestop.common import tokens

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# fixed, so a failure reproduces; FUZZ_SEED and FUZZ_MAX_EXAMPLES explore further by hand
SEED = int(os.environ.get("FUZZ_SEED", "20221107"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The document is loaded from docs/openapi.yaml when pytest collects (the mesh is not running
# yet); test_the_document_is_the_one_the_mesh_serves proves it is what /api/openapi.json
# serves. (schemathesis.pytest.from_fixture, which would load it from the running mesh,
# needs pytest's private Node._nodeid, gone in the pinned pytest 9.2.)
schema = schemathesis.openapi.from_path(
    OPENAPI_FILE,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "request-timeout": 30,
        }
    ),
)


def test_the_document_is_the_one_the_mesh_serves(mesh):
    served = mesh.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))


ROLE_OF = [  # (method, path pattern, role): the first match; who may call it, so the
    # operation's own validation is fuzzed, not only its 401 (open operations ignore tokens)
    ("*", r"^/api/officer/", "officer"),
    ("POST", r"^/api/rectifications/\{case_id\}/(visit|rectify)$", "officer"),
    ("GET", r"^/api/(supervision/|reviews/stats|rectifications$)", "supervisor"),
    ("POST", r"^/api/licenses/\{licence_id\}/revoke$", "operator"),
    ("*", r"", "applicant"),
]


def role_of(method, path):
    return next(
        role
        for m, pattern, role in ROLE_OF
        if m in ("*", method.upper()) and re.search(pattern, path)
    )


@pytest.fixture(scope="module")
def token(mesh):
    """The Authorization header of the role that may call an operation."""
    return lambda method, path: mesh.as_(role_of(method, path))


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=MAX_EXAMPLES,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error_or_an_undocumented_answer(case, mesh, token):
    case.call_and_validate(
        base_url=mesh.base, checks=CHECKS, headers=token(case.operation.method, case.operation.path)
    )


# -- hostile input that schemathesis does not generate ------------------------------
SPEC = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)
JSON_BODY_OPERATIONS = [
    pytest.param(m, p, id=f"{m} {p}")
    for m, p in OPERATIONS
    if "application/json" in SPEC["paths"][p][m.lower()].get("requestBody", {}).get("content", {})
]
PATH_OPERATIONS = [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS if "{" in p]
HOSTILE_BODIES = {
    "nested a thousand deep": b"[" * 1000 + b"]" * 1000,
    "object nested a thousand deep": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "not UTF-8": b'{"reason": "\xff\xfe"}',
    "a bare string": b'"text"',
    "NaN": b'{"score": NaN}',
    "huge number": b'{"score": 1e400}',
    "empty": b"",
}
PATH_VALUES = {
    "query": "a?b=1",
    "fragment": "a#b",
    "encoded slash": "a%2Fb",
    "lone percent": "%",
    "dot dot": "..",
    "space": "a b",
    "chinese": "中文",
    "long": "x" * 2000,
}


def documented_error(response, method, path):
    """A JSON error with a status the operation documents."""
    documented = SPEC["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in documented, (
        f"{method} {path}: undocumented {response.status_code}: {response.text[:300]}"
    )
    assert response.status_code < 500
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["error"], str) and isinstance(body["message"], str)


def fill(path, value="0" * 32):
    """The path with every {parameter} set to value."""
    return re.sub(r"\{[^}]+\}", lambda _: value, path)


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("method,path", JSON_BODY_OPERATIONS)
def test_hostile_bodies_get_a_documented_4xx(mesh, token, method, path, name):
    response = requests.request(
        method,
        mesh.base + fill(path),
        data=HOSTILE_BODIES[name],
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": "hostile",
            **token(method, path),
        },
        timeout=30,
    )
    documented_error(response, method, path)
    assert response.status_code >= 400


@pytest.mark.parametrize("name", sorted(PATH_VALUES))
@pytest.mark.parametrize("method,path", PATH_OPERATIONS)
def test_odd_path_parameters_get_a_documented_answer(mesh, token, method, path, name):
    url = mesh.base + fill(path, quote(PATH_VALUES[name], safe="%"))
    response = requests.request(method, url, json={}, headers=token(method, path), timeout=30)
    documented_error(response, method, path)


def odd_tokens(key):
    """Authorization headers a careless or hostile client sends."""
    now = int(time.time())
    good = {
        "iss": "onestop",
        "aud": "onestop-api",
        "sub": "430102199001011234",
        "role": "applicant",
        "iat": now,
        "exp": now + 600,
    }
    signed = {
        "sub a number": dict(good, sub=430102),
        "role a list": dict(good, role=["applicant"]),
        "role unknown": dict(good, role="root"),
        "exp a string": dict(good, exp="tomorrow"),
        "officer without office": dict(good, role="officer", sub="o-1"),
        "office an object": dict(good, role="officer", sub="o-1", office={"a": 1}),
        "name an object": dict(
            good, role="officer", sub="o-1", office="health.430102", name={"first": "Wang"}
        ),
        "sub blank": dict(good, sub=" "),
    }
    private = tokens.load_private_key(key)
    kid = {"kid": tokens.kid_of(private.public_key())}
    headers = {
        name: "Bearer "
        + jwt.encode(dict(claims, jti=uuid.uuid4().hex), private, algorithm="EdDSA", headers=kid)
        for name, claims in signed.items()
    }
    headers.update(
        {
            "scheme only": "Bearer",
            "scheme and space": "Bearer ",
            "three dots": "Bearer a.b.c",
            "huge": "Bearer " + "x" * 6000,
            "basic": "Basic Z3Vlc3Q6Z3Vlc3Q=",
            "alg none": "Bearer " + jwt.encode(good, None, algorithm="none"),
            "wrong key": "Bearer "
            + jwt.encode(good, tokens.load_private_key("5e" * 32), algorithm="EdDSA", headers=kid),
            "shared-key HS256": "Bearer " + jwt.encode(good, key, algorithm="HS256", headers=kid),
        }
    )
    return headers


ODD_TOKEN_NAMES = sorted(odd_tokens("6f" * 32))
PROTECTED = [
    pytest.param(m, p, id=f"{m} {p}")
    for m, p in OPERATIONS
    if SPEC["paths"][p][m.lower()].get("security")
]


@pytest.mark.parametrize("name", ODD_TOKEN_NAMES)
@pytest.mark.parametrize("method,path", PROTECTED)
def test_odd_tokens_get_a_documented_answer(mesh, method, path, name):
    header = odd_tokens(mesh.env["AUTH_SIGNING_KEY"])[name]
    response = requests.request(
        method,
        mesh.base + fill(path),
        json={},
        timeout=30,
        headers={"Authorization": header, "Idempotency-Key": "odd"},
    )
    documented_error(response, method, path)
