"""Fees: seen before submitting, and the decision waits for the payment.

Marriage registration (HN-MZ-0001, civil affairs) costs 9 CNY. The checklist and the plan
show it before the applicant submits. The reference civil-affairs consumer approves with
the payment taken at its window, so an ordinary application is decided at once; for an
applicant named "Unpaid civil_affairs" it approves without the payment: the task waits in
`awaiting_payment`, with no decision, until the department confirms the payment over the
boundary (`payment_confirmed`, as its broker user). A confirmation of the wrong amount is
dead-lettered alone, with the reason.
"""

from onestop.contracts.envelope import make_envelope
from tests.e2e.test_department_boundary import dead_letters
from tests.support.departments import MeshDepartments, wait_for

ITEM = "HN-MZ-0001"


def payment(task, application_id, amount):
    return make_envelope(
        "payment_confirmed",
        application_id,
        {
            "task_id": task["task_id"],
            "application_id": application_id,
            "department": "civil_affairs",
            "amount": amount,
            "receipt_number": "PAY-E2E-0001",
        },
    )


def test_the_fee_is_shown_before_submitting(mesh):
    checklist = mesh.get("/api/scenarios/marriage/checklist", headers=mesh.as_("applicant")).json()
    assert checklist["fee_total"] == 9
    assert [(f["item_code"], f["fee"]) for f in checklist["fees"]] == [(ITEM, 9)]
    plan = mesh.get("/api/scenarios/marriage/plan", params={"region": "430102"})
    assert plan.status_code == 200, plan.text
    assert plan.json()["fee_total"] == 9
    assert {t["item_code"]: t["fee"] for t in plan.json()["tasks"]}[ITEM] == 9


def test_a_paid_fee_lets_the_decision_through(client):
    application_id = client.apply("marriage")
    view = client.wait_for_decision(application_id, timeout=60)
    assert view["status"] == "approved"
    task = next(t for t in view["tasks"] if t["item_code"] == ITEM)
    assert task["fee"] == 9 and task["payment"]["amount"] == 9


def test_the_decision_waits_for_the_payment_confirmed_over_the_boundary(client, mesh, tmp_path):
    application_id = client.apply("marriage", name="Unpaid civil_affairs")

    def awaiting():
        view = client.application(application_id).json()
        return view if view["status"] == "awaiting_payment" else None

    view = wait_for(awaiting)
    task = next(t for t in view["tasks"] if t["item_code"] == ITEM)
    assert task["state"] == "awaiting_payment" and view["decision"] is None

    departments = MeshDepartments.of(mesh)
    short = payment(task, application_id, 1)
    departments.publish_result(short, "civil_affairs")
    reasons = {}
    wait_for(
        lambda: (
            reasons.update(dead_letters(mesh.amqp_uri, {short["message_id"]}, tmp_path / "d"))
            or reasons
        )
    )
    assert "does not match its fee of 9" in reasons[short["message_id"]]
    assert client.application(application_id).json()["status"] == "awaiting_payment"

    departments.publish_result(payment(task, application_id, 9), "civil_affairs")
    decided = client.wait_for_decision(application_id, timeout=60)
    assert decided["status"] == "approved"
    paid = next(t for t in decided["tasks"] if t["item_code"] == ITEM)
    assert paid["payment"]["receipt_number"] == "PAY-E2E-0001"
    history = mesh.get(
        f"/api/applications/{application_id}/history", headers=mesh.as_("supervisor")
    ).json()["history"]
    causes = [h["cause"] for h in history]
    assert causes.index("awaiting_payment") < causes.index("payment_confirmed")
