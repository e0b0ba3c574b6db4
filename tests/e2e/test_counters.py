"""Counter applications: the counter that received it, the receipt, and the channel kept in
the events for statistics.

A clerk of the Furong district service centre applies for a citizen at window 3. The
application records the counter (the clerk's region from their token, the centre from the
body), the receipt lists what was received, the promised date once accepted and the
follow-up URL for its QR code, and `application_submitted` / `application_decided` carry
the channel and the counter.
"""

import uuid

from onestop.client import sample_application
from tests.support.departments import wait_for
from tests.support.event_probe import EventProbe

CENTRE = {"centre_code": "HN-430102-ZWZX", "centre_name": "芙蓉区政务服务中心", "window": "3"}
CLERK = ("clerk", "clerk-0077")


def submit(mesh, client, headers, **changes):
    # the caller's own upload: a clerk scans the paper at the counter (ADR 0020)
    own = client.upload(token=headers["Authorization"].removeprefix("Bearer "))
    body = dict(sample_application(client.scenario("birth"), own), **changes)
    return mesh.post(
        "/api/applications",
        json=body,
        headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}),
    )


def test_a_counter_application_records_its_counter_and_gives_a_receipt(mesh, client):
    clerk = mesh.as_(*CLERK, region="430102")
    submitted_probe = EventProbe(mesh.amqp_uri, "intake", ["application_submitted"])
    decided_probe = EventProbe(mesh.amqp_uri, "routing", ["application_decided"])
    response = submit(mesh, client, clerk, channel="counter", counter=CENTRE)
    assert response.status_code == 202, response.text
    application_id = response.json()["id"]

    def decided():
        found = mesh.get(f"/api/applications/{application_id}", headers=clerk).json()
        return found if found.get("decision") else None

    view = wait_for(decided)
    assert view["status"] == "approved" and view["channel"] == "counter"
    assert view["counter"] == dict(CENTRE, region="430102", clerk="clerk-0077")

    receipt = mesh.get(f"/api/applications/{application_id}/receipt", headers=clerk)
    assert receipt.status_code == 200, receipt.text
    receipt = receipt.json()
    assert receipt["application_id"] == application_id
    assert receipt["scenario"] == "birth" and receipt["scenario_name"]
    assert receipt["counter"]["centre_name"] == "芙蓉区政务服务中心"
    assert {m["code"] for m in receipt["materials_received"]} == {
        m["code"] for m in view["materials"]
    }
    assert receipt["promised_due"] == view["promised_due"] and receipt["promised_due"]
    assert receipt["follow_up_url"] == f"{mesh.base}/applications/{application_id}"
    assert (
        mesh.get(
            f"/api/applications/{application_id}/receipt", headers=mesh.as_("clerk", "other")
        ).status_code
        == 404
    )

    submitted = submitted_probe.wait_for(
        lambda events: any(p["application_id"] == application_id for _, p in events)
    )
    payload = next(p for _, p in submitted if p["application_id"] == application_id)
    assert (
        payload["channel"] == "counter"
        and payload["counter"]["centre_code"] == CENTRE["centre_code"]
    )
    decided = decided_probe.wait_for(
        lambda events: any(p["application_id"] == application_id for _, p in events)
    )
    payload = next(p for _, p in decided if p["application_id"] == application_id)
    assert payload["channel"] == "counter" and payload["counter"]["region"] == "430102"
    submitted_probe.close()
    decided_probe.close()


def test_only_a_counter_application_names_a_counter(mesh, client):
    online = submit(mesh, client, mesh.as_("applicant"), channel="online", counter=CENTRE)
    assert online.status_code == 400 and "counter" in online.json()["fields"]
    bad = submit(
        mesh,
        client,
        mesh.as_(*CLERK, region="430102"),
        channel="counter",
        counter={"centre_code": "no spaces allowed", "centre_name": ""},
    )
    assert bad.status_code == 400
    assert set(bad.json()["fields"]["counter"]) == {"centre_code", "centre_name"}
    # an online application has a receipt too, without a counter
    accepted = submit(mesh, client, mesh.as_("applicant"), channel="online")
    receipt = mesh.get(
        f"/api/applications/{accepted.json()['id']}/receipt", headers=mesh.as_("applicant")
    ).json()
    assert receipt["channel"] == "online" and receipt["counter"] is None
