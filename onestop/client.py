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
    candidates = ["430102199201011228", "2026-430100-47-01-000001", "91430100MA4L0XXX1Y",
                  "13800138000", "430102", "A1"]
    for candidate in candidates:
        if re.fullmatch(pattern, candidate):
            return candidate
    raise ValueError(f"no sample for pattern {pattern}")


def sample_application(scenario, file_id, name="Li Hua", region="430102", channel="online",
                       optional_items=()):
    kind = scenario["applicant_kinds"][0]
    chosen = {i["code"] for i in scenario["items"]
              if not i["optional"] or i["code"] in set(optional_items)}
    materials = [{"code": m["code"], "file_id": file_id} for m in scenario["checklist"]
                 if set(m["items"]) & chosen and m.get("provided_by") not in chosen]
    return {
        "scenario": scenario["code"],
        "applicant": {"kind": kind, "name": name,
                      "id_number": PERSON_ID if kind == "person" else ENTERPRISE_ID},
        "region": region, "channel": channel,
        "form": {f["name"]: sample_value(f) for f in scenario.get("form_fields", [])},
        "materials": materials, "optional_items": list(optional_items),
    }


class Client:
    def __init__(self, base="http://127.0.0.1:8000", session=None):
        self.base = base.rstrip("/")
        self.session = session or requests.Session()

    def scenario(self, code):
        response = self.session.get(f"{self.base}/api/scenarios/{code}", timeout=30)
        response.raise_for_status()
        return response.json()

    def upload(self, data=SAMPLE_PDF, filename="material.pdf", content_type="application/pdf"):
        response = self.session.post(f"{self.base}/api/uploads", timeout=30,
                                     files={"file": (filename, data, content_type)})
        response.raise_for_status()
        return response.json()["file_id"]

    def submit(self, body, key=None):
        return self.session.post(f"{self.base}/api/applications", json=body, timeout=30,
                                 headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def application(self, application_id):
        return self.session.get(f"{self.base}/api/applications/{application_id}", timeout=30)

    def wait_for_decision(self, application_id, timeout=30, interval=0.1):
        deadline = time.monotonic() + timeout
        while True:
            view = self.application(application_id).json()
            if view.get("decision") is not None:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"no decision for {application_id} in {timeout}s: "
                                   f"status {view.get('status')}")
            time.sleep(interval)

    def apply(self, code, **kwargs):
        """Apply for a scenario with sample data; return the application id."""
        scenario = self.scenario(code)
        body = sample_application(scenario, self.upload(), **kwargs)
        response = self.submit(body)
        if response.status_code != 202:
            raise RuntimeError(f"apply {code}: {response.status_code} {response.text}")
        return response.json()["id"]
