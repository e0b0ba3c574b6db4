"""A batch of applications with random outcomes, submitted and settled the way a careful
client and applicant would, and the check that each was decided exactly once: shared by the
fault tests (tests/e2e/test_faults.py, test_outage.py)."""

import time

import pymongo
import requests

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application

SCENARIOS = ["birth", "enterprise_startup", "construction_permit"]
RETRYABLE = (requests.ConnectionError, requests.Timeout)


def submit_until_accepted(client, body, key, deadline):
    """What a careful client does: retry with the same Idempotency-Key until accepted."""
    while time.monotonic() < deadline:
        try:
            response = client.submit(body, key)
        except RETRYABLE:
            time.sleep(0.3)
            continue
        if response.status_code == 202:
            return response.json()["id"]
        assert response.status_code >= 500, response.text  # 4xx would be our own bug
        time.sleep(0.3)
    raise AssertionError("submission never accepted")


def plan_batch(client, rng, size):
    """(body, expected outcome) for each application: approve, reject or correct-then-approve."""
    scenarios = {code: client.scenario(code) for code in SCENARIOS}
    uploads = {}  # an upload is its uploader's (ADR 0020): one per applicant
    batch = []
    for _ in range(size):
        scenario = scenarios[rng.choice(SCENARIOS)]
        applicant = PERSON_ID if scenario["applicant_kinds"][0] == "person" else ENTERPRISE_ID
        if applicant not in uploads:
            uploads[applicant] = client.upload(token=client.token_for(applicant))
        file_id = uploads[applicant]
        department = rng.choice(
            sorted({i["department"] for i in scenario["items"] if not i["optional"]})
        )
        kind = rng.choice(["approve", "reject", "correct"])
        name = {
            "approve": "Li Hua",
            "reject": f"Reject {department}",
            "correct": f"Correct {department}",
        }[kind]
        expected = "rejected" if kind == "reject" else "approved"
        batch.append((sample_application(scenario, file_id, name=name), expected))
    return batch


def settle(client, application_ids, deadline):
    """Poll until every application is decided, answering correction requests like an
    applicant would. Returns id -> final view."""
    decided = {}
    uploads = {}  # the owner's own upload, one per owner (ADR 0020)
    while len(decided) < len(application_ids):
        assert time.monotonic() < deadline, (
            f"{len(application_ids) - len(decided)} applications undecided"
        )
        for application_id in application_ids:
            if application_id in decided:
                continue
            try:
                view = client.application(application_id).json()
                if view.get("decision"):
                    decided[application_id] = view
                elif view.get("status") == "awaiting_correction":
                    owner = client._owners[application_id]
                    if owner not in uploads:
                        uploads[owner] = client.upload(token=owner)
                    file_id = uploads[owner]
                    asked = {
                        c
                        for t in view["tasks"]
                        if t["state"] == "correction_required"
                        for c in t["requested_materials"]
                    }
                    client.post_as_owner(
                        application_id,
                        "corrections",
                        {"materials": [{"code": c, "file_id": file_id} for c in asked]},
                    )
            except (RETRYABLE, ValueError):
                pass
        time.sleep(0.5)
    return decided


def assert_exactly_once(mesh_env, views):
    """One decision per application, no task decided twice, no application twice."""
    client = pymongo.MongoClient(mesh_env["MONGO_URI"])
    prefix = mesh_env["MONGO_DB_PREFIX"]
    workflows = client[prefix + "routing"].workflows
    for application_id, view in views.items():
        history = workflows.find_one({"_id": application_id})["history"]
        assert [h["cause"] for h in history].count("combined_decision") == 1, application_id
        decided = [h["transition"].split()[1] for h in history if h["cause"] == "approval_result"]
        assert len(decided) == len(set(decided)), (application_id, decided)
    assert client[prefix + "intake"].applications.count_documents({}) == len(views)
    client.close()
