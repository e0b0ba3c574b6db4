"""A small client of the public API, for the CLI, the tests and the benchmark.

`sample_application` fills a scenario's form from its field definitions, so any
scenario in the catalog can be applied for without code that knows it.
"""

import time
import uuid

import requests

SAMPLE_PDF = b"%PDF-1.4\n% sample material\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PERSON_ID = "430102199001011234"
ENTERPRISE_ID = "91430100MA4L0XXX1Y"


def sample_value(field):
    """A valid value for one form field definition (type, enum, pattern, bounds)."""
    if "enum" in field:
        return field["enum"][0]
    kind = field.get("type", "string")
    if kind == "date":
        return "2026-11-20"
    if kind == "integer":
        return max(int(field.get("minimum", 1)), 1)
    if kind == "number":
        return float(max(field.get("minimum", 1), 1))
    if kind == "boolean":
        return True
    pattern = field.get("pattern", "")
    if pattern:
        return _matching(pattern)
    return f"Sample {field.get('title', field['name'])}"[: field.get("maxLength", 200)]


def _matching(pattern):
    """A string for the few pattern shapes the catalog uses (ID numbers, codes)."""
    import re

    candidates = [
        "430102199201011228",
        "2026-430100-47-01-000001",
        "91430100MA4L0XXX1Y",
        "13800138000",
        "430102",
        "A1",
    ]
    for candidate in candidates:
        if re.fullmatch(pattern, candidate):
            return candidate
    raise ValueError(f"no sample for pattern {pattern}")


def sample_application(
    scenario, file_id, name="Li Hua", region="430102", channel="online", optional_items=()
):
    kind = scenario["applicant_kinds"][0]
    chosen = {
        i["code"]
        for i in scenario["items"]
        if not i["optional"] or i["code"] in set(optional_items)
    }
    materials = [
        {"code": m["code"], "file_id": file_id}
        for m in scenario["checklist"]
        if set(m["items"]) & chosen and m.get("provided_by") not in chosen
    ]
    return {
        "scenario": scenario["code"],
        "applicant": {
            "kind": kind,
            "name": name,
            "id_number": PERSON_ID if kind == "person" else ENTERPRISE_ID,
        },
        "region": region,
        "channel": channel,
        "form": {f["name"]: sample_value(f) for f in scenario.get("form_fields", [])},
        "materials": materials,
        "optional_items": list(optional_items),
    }


class Client:
    """The public API from Python. Every call but catalog browsing needs a bearer token:
    give `token` (one caller), or `key` (the token issuer's Ed25519 private key,
    AUTH_SIGNING_KEY: for development and tests) and the client mints an applicant token
    for whoever it applies for."""

    def __init__(self, base="http://127.0.0.1:8000", session=None, token=None, key=None):
        self.base = base.rstrip("/")
        self.session = session or requests.Session()
        self.token = token
        self.key = key
        self._owners = {}  # application id -> the token of the applicant who applied

    def token_for(self, id_number):
        """An applicant token for `id_number` (needs `key`), else the client's own token."""
        if self.key is None:
            return self.token
        from onestop.common.tokens import mint

        return mint("applicant", id_number, key=self.key)

    @staticmethod
    def headers(token, **extra):
        return dict(extra, **({"Authorization": f"Bearer {token}"} if token else {}))

    def scenario(self, code):
        response = self.session.get(f"{self.base}/api/scenarios/{code}", timeout=30)
        response.raise_for_status()
        return response.json()

    def search(self, q, **params):
        """GET /api/search: the packages for `q` in a person's own words, best first."""
        response = self.session.get(f"{self.base}/api/search", params=dict(params, q=q), timeout=30)
        response.raise_for_status()
        return response.json()

    def guide(self, code, region=None, optional_items=()):
        """The package's one service guide (办事指南); with a region, where to apply there."""
        params = {"region": region, "optional": ",".join(optional_items) or None}
        response = self.session.get(
            f"{self.base}/api/scenarios/{code}/guide",
            params={k: v for k, v in params.items() if v},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def upload(
        self, data=SAMPLE_PDF, filename="material.pdf", content_type="application/pdf", token=None
    ):
        token = token or self.token or self.token_for(PERSON_ID)
        response = self.session.post(
            f"{self.base}/api/uploads",
            timeout=30,
            headers=self.headers(token),
            files={"file": (filename, data, content_type)},
        )
        response.raise_for_status()
        return response.json()["file_id"]

    def submit(self, body, key=None, token=None):
        """POST the application as its applicant (or as `token`, e.g. a counter clerk's)."""
        token = token or self.token_for(body.get("applicant", {}).get("id_number"))
        response = self.session.post(
            f"{self.base}/api/applications",
            json=body,
            timeout=30,
            headers=self.headers(token, **{"Idempotency-Key": key or uuid.uuid4().hex}),
        )
        if response.status_code == 202:
            self._owners[response.json()["id"]] = token
        return response

    def application(self, application_id, token=None):
        token = token or self._owners.get(application_id) or self.token
        return self.session.get(
            f"{self.base}/api/applications/{application_id}",
            timeout=30,
            headers=self.headers(token),
        )

    def applications(self, holder=None, token=None, **filters):
        """One page of applications (GET /api/applications): `holder`'s own when the client
        mints tokens, else what the client's token may list; filters: status, scenario,
        applicant, limit, offset."""
        token = token or (self.token_for(holder) if holder else self.token)
        if holder and self.key is None:  # a staff token: narrow to the holder
            filters.setdefault("applicant", holder)
        response = self.session.get(
            f"{self.base}/api/applications", timeout=30, params=filters, headers=self.headers(token)
        )
        response.raise_for_status()
        return response.json()

    def post_as_owner(self, application_id, path, body):
        """POST to /api/applications/{id}/{path} as the applicant who applied."""
        token = self._owners.get(application_id) or self.token
        return self.session.post(
            f"{self.base}/api/applications/{application_id}/{path}",
            json=body,
            timeout=30,
            headers=self.headers(token),
        )

    def licenses(self, holder, token=None):
        token = token or self.token_for(holder)
        response = self.session.get(
            f"{self.base}/api/licenses",
            timeout=30,
            params={"holder": holder},
            headers=self.headers(token),
        )
        response.raise_for_status()
        return response.json()["licenses"]

    def wait_for_decision(self, application_id, timeout=30, interval=0.1):
        deadline = time.monotonic() + timeout
        while True:
            view = self.application(application_id).json()
            if view.get("decision") is not None:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no decision for {application_id} in {timeout}s: status {view.get('status')}"
                )
            time.sleep(interval)

    def wait_for_licenses(self, holder, application_id, count, timeout=30):
        """The licences an application produced, once `count` of them are issued."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [lic for lic in self.licenses(holder) if lic["application_id"] == application_id]
            if len(mine) >= count or time.monotonic() > deadline:
                return mine
            time.sleep(0.1)

    def apply(self, code, **kwargs):
        """Apply for a scenario with sample data; return the application id."""
        scenario = self.scenario(code)
        body = sample_application(scenario, "0" * 32, **kwargs)
        token = self.token_for(body["applicant"]["id_number"])
        file_id = self.upload(token=token)
        for material in body["materials"]:
            material["file_id"] = file_id
        response = self.submit(body, token=token)
        if response.status_code != 202:
            raise RuntimeError(f"apply {code}: {response.status_code} {response.text}")
        return response.json()["id"]
