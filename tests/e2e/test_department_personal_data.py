"""Personal identifiers never reach the logs or the metrics of a full run.

A run that touches every kind of identifier the platform handles (a person's ID
number, an enterprise's unified social credit code, a phone number in a form), in
paths that log: an approval, a department's rejection, bad input, a result refused at
the department boundary, an officer's decision. Then the whole mesh log and every
/metrics page are searched for the raw identifiers (masked forms are fine).
"""

import requests

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application
from onestop.common import auth
from onestop.contracts.envelope import make_envelope
from tests.support.departments import MeshDepartments, wait_for

PHONE = "13912345678"
IDENTIFIERS = (PERSON_ID, ENTERPRISE_ID, PHONE)


def test_logs_and_metrics_of_a_full_run_carry_no_raw_identifiers(client, mesh):
    approved = client.apply("birth")
    client.apply("enterprise_startup", name="Reject market_regulation")
    scenario = client.scenario("birth")
    bad = sample_application(scenario, client.upload())
    bad["form"] = dict(bad["form"], contact_phone=PHONE, child_name=PERSON_ID * 30)
    bad["applicant"]["id_number"] = PERSON_ID + "X"
    assert client.submit(bad).status_code == 400

    held = client.apply("birth", name="Hold health")
    view = wait_for(
        lambda: next(
            (
                t
                for t in client.application(held).json().get("tasks", [])
                if t["department"] == "health" and t["state"] == "sent"
            ),
            None,
        )
    )
    departments = MeshDepartments.of(mesh)
    forged = make_envelope(
        "approval_result",
        held,
        {
            "task_id": view["task_id"],
            "application_id": held,
            "department": "public_security",
            "decision": "approved",
            "data": {"holder": PERSON_ID, "phone": PHONE},
        },
    )
    departments.publish_result(forged, "public_security")  # refused: another department's task
    key = mesh.env["AUTH_SIGNING_KEY"]
    officer = auth.mint("officer", "officer-0001", key=key, office=view["office"])
    decided = mesh.post(
        f"/api/officer/tasks/{view['task_id']}/decision",
        headers={"Authorization": f"Bearer {officer}"},
        json={"decision": "rejected", "reason": f"holder {PERSON_ID} unknown"},
    )
    assert decided.status_code == 202
    for application_id in (approved, held):
        client.wait_for_decision(application_id, timeout=60)
    wait_for(lambda: "result refused (foreign_task)" in mesh.log_path.read_text(errors="replace"))

    log = mesh.log_path.read_text(errors="replace")
    leaks = {
        identifier: [line[:300] for line in log.splitlines() if identifier in line][:3]
        for identifier in IDENTIFIERS
        if identifier in log
    }
    assert not leaks, leaks

    for name in (
        "catalog",
        "intake",
        "routing",
        "license",
        "feedback",
        "departments-nameko",
        "departments-pika",
    ):
        metrics = requests.get(mesh.service_url(name) + "/metrics", timeout=10).text
        for identifier in IDENTIFIERS:
            assert identifier not in metrics, (name, identifier)
