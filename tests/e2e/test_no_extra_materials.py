"""No additional materials (the seed, design §1): a correction request may ask only for
materials on the item's standard list (HN-WJ-0001, the medical birth certificate:
parents_id_cards, hospital_delivery_record).

The reference health consumer leaves "Hold health" applicants to an officer, so the
health task of a birth application waits at its office. An officer asking for a material
outside the list gets a 400 naming it; a department consumer's request that does the same
is dead-lettered with the reason, alone: the department's next, lawful request lands, and
the applicant's one-time notice lists what was asked, at once.
"""

import pytest

from onestop.common import auth
from onestop.contracts.envelope import make_envelope
from tests.e2e.test_department_boundary import dead_letters, health_task, refused_counts
from tests.support.departments import MeshDepartments, wait_for

HEALTH_ITEM = "HN-WJ-0001"


def correction(task, materials, reason="请补正"):
    return make_envelope(
        "approval_result",
        task["application_id"],
        {
            "task_id": task["task_id"],
            "application_id": task["application_id"],
            "department": "health",
            "decision": "correction_required",
            "reason": reason,
            "materials": materials,
        },
    )


@pytest.fixture
def held_task(client):
    application_id = client.apply("birth", name="Hold health")
    return wait_for(lambda: health_task(client, application_id))


def test_an_officer_cannot_ask_for_a_material_outside_the_standard_list(mesh, held_task):
    headers = {
        "Authorization": "Bearer "
        + auth.mint(
            "officer", "officer-0001", key=mesh.env["AUTH_SIGNING_KEY"], office=held_task["office"]
        )
    }
    response = mesh.post(
        f"/api/officer/tasks/{held_task['task_id']}/decision",
        headers=headers,
        json={
            "decision": "correction_required",
            "reason": "需要补充",
            "materials": ["hospital_delivery_record", "household_register_of_grandparents"],
        },
    )
    assert response.status_code == 400, response.text
    messages = response.json()["fields"]["materials"]
    assert list(messages) == ["1"]
    assert "household_register_of_grandparents is not on the standard list" in messages["1"][0]
    assert "HN-WJ-0001" in messages["1"][0]


def test_a_departments_request_for_an_extra_material_is_dead_lettered_alone(
    client, mesh, held_task, tmp_path
):
    departments = MeshDepartments.of(mesh)
    before = refused_counts(mesh).get("extra_material", 0)
    extra = correction(held_task, ["parents_id_cards", "proof_of_no_criminal_record"])
    lawful = correction(held_task, ["parents_id_cards", "hospital_delivery_record"], "复印件不清晰")
    departments.publish_result(extra, "health")
    departments.publish_result(lawful, "health")

    reasons = {}
    wait_for(
        lambda: (
            reasons.update(dead_letters(mesh.amqp_uri, {extra["message_id"]}, tmp_path / "d"))
            or reasons
        )
    )
    assert "result refused (extra_material)" in reasons[extra["message_id"]]
    assert "proof_of_no_criminal_record" in reasons[extra["message_id"]]
    assert refused_counts(mesh)["extra_material"] >= before + 1

    def asked():
        view = client.application(held_task["application_id"]).json()
        return view if view["status"] == "awaiting_correction" else None

    view = wait_for(asked)
    task = next(t for t in view["tasks"] if t["item_code"] == HEALTH_ITEM)
    assert task["requested_materials"] == ["parents_id_cards", "hospital_delivery_record"]
    notice = view["correction_notice"]
    assert notice["materials"] == ["parents_id_cards", "hospital_delivery_record"]
    assert [r["department"] for r in notice["requests"]] == ["health"]
    assert notice["requests"][0]["reason"] == "复印件不清晰"
    assert "proof_of_no_criminal_record" not in str(view)
