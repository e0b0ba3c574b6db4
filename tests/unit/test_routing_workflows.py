"""routing's WorkflowUpdater with hand-written fakes of its store, outbox and catalog: the
compare-and-set retry, and which outbox entries each write publishes and removes."""

import copy
from datetime import datetime, timezone

import pytest

from onestop.contracts.envelope import InvalidMessage, make_envelope
from services.routing import domain, metrics
from services.routing.workflows import WorkflowUpdater

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
PLAN = {
    "catalog_version": 3,
    "promised_days": 10,
    "tasks": [
        {
            "item_code": code,
            "item_name": code,
            "department": "health",
            "level": "county",
            "region": "430102",
            "office": "health.430102",
            "depends_on": deps,
            "promised_days": 2,
            "legal_days": 5,
            "license_type": None,
        }
        for code, deps in (("A", []), ("B", ["A"]))
    ],
}
SUBMITTED = {
    "application_id": "app1",
    "scenario": "s",
    "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
    "region": "430102",
    "channel": "online",
    "form": {},
    "materials": [],
    "submitted_at": NOW.isoformat(),
    "optional_items": [],
    "catalog_version": 3,
}


class FakeStore:
    """The workflows by id; `conflicts` saves are refused as if another process wrote."""

    def __init__(self, conflicts=0):
        self.docs = {}
        self.conflicts = conflicts
        self.removed = []

    def get(self, application_id):
        return copy.deepcopy(self.docs.get(application_id))

    def remembered(self, application_id):
        return None

    def insert(self, workflow, entries, now):
        if workflow["_id"] in self.docs:
            return False
        self.docs[workflow["_id"]] = dict(copy.deepcopy(workflow), rev=1, outbox=dict(entries))
        return True

    def save(self, workflow, entries, now, remove=()):
        if self.conflicts:
            self.conflicts -= 1
            return False
        stored = self.docs[workflow["_id"]]
        assert stored["rev"] == workflow["rev"]
        outbox = {m: e for m, e in stored["outbox"].items() if m not in remove}
        self.docs[workflow["_id"]] = dict(
            copy.deepcopy(workflow), rev=workflow["rev"] + 1, outbox=dict(outbox, **entries)
        )
        self.removed.append(set(remove))
        return True


class FakeOutbox:
    def __init__(self, published_before=()):
        self.published = []  # (doc id, rev, entries, alone)
        self.sent = set(published_before)
        self.removed_later = []

    def publish(self, doc_id, rev, entries, alone=False, concurrently=False):
        self.published.append((doc_id, rev, dict(entries), alone))

    def take_published(self, doc_id, rev):
        sent, self.sent = self.sent, set()
        return sent

    def remove_later(self, doc_id, rev, message_ids):
        self.removed_later.append((doc_id, rev, set(message_ids)))


class FakeCatalog:
    def get_calendar(self, version):
        return {"holidays": [], "workdays": []}


def updater(store, outbox):
    return WorkflowUpdater(store, outbox, FakeCatalog(), lambda: NOW)


def started(store=None, outbox=None):
    store, outbox = store or FakeStore(), outbox or FakeOutbox()
    updater(store, outbox).start(SUBMITTED, PLAN)
    return store, outbox


def result(item, decision="approved"):
    return make_envelope(
        "approval_result",
        "app1",
        {
            "task_id": f"app1:{item}",
            "application_id": "app1",
            "department": "health",
            "decision": decision,
            "reason": "",
            "data": {},
        },
    )


def test_a_submission_is_stored_and_its_first_task_published_as_the_whole_outbox():
    store, outbox = started()
    [(doc_id, rev, entries, alone)] = outbox.published
    assert (doc_id, rev, alone) == ("app1", 1, True)
    assert entries == store.docs["app1"]["outbox"]
    tasks = [e for e in entries.values() if e["kind"] == "amqp"]
    assert [t["body"]["payload"]["item_code"] for t in tasks] == ["A"]


def test_a_submission_stored_already_publishes_nothing_and_is_counted():
    store, outbox = started()
    before = metrics.RESULTS_IGNORED.labels("duplicate_submission")._value.get()
    updater(store, outbox).start(SUBMITTED, PLAN)
    assert len(outbox.published) == 1
    assert metrics.RESULTS_IGNORED.labels("duplicate_submission")._value.get() == before + 1


def test_a_write_conflict_is_counted_and_the_change_applied_again_on_a_fresh_read():
    store, outbox = started()
    store.conflicts = 2
    before = metrics.WRITE_CONFLICTS._value.get()
    updater(store, outbox).update("app1", domain.withdraw, "changed my mind")
    assert metrics.WRITE_CONFLICTS._value.get() == before + 2
    assert store.docs["app1"]["status"] == "withdrawn"
    assert len(outbox.published) == 2  # the submission's, and the withdrawal's once


def test_what_was_published_at_the_revision_read_is_removed_by_the_next_write():
    store, outbox = started()
    first = set(store.docs["app1"]["outbox"])
    outbox.sent = first  # the submission's entries, confirmed, waiting to be removed
    updater(store, outbox).update("app1", domain.withdraw, "changed my mind")
    assert store.removed == [first]
    assert not first & set(store.docs["app1"]["outbox"])
    doc_id, rev, entries, alone = outbox.published[-1]
    assert (doc_id, rev, alone) == ("app1", 2, True)  # written over an outbox now empty
    assert set(entries) == set(store.docs["app1"]["outbox"])


def test_entries_still_in_the_outbox_make_a_write_publish_not_alone():
    store, outbox = started()  # nothing handed over: the submission's entries stay
    updater(store, outbox).update("app1", domain.withdraw, "changed my mind")
    assert outbox.published[-1][3] is False


def test_what_a_refused_write_did_not_remove_is_removed_later():
    store, outbox = started()
    sent = outbox.sent = set(store.docs["app1"]["outbox"])
    store.conflicts = 1
    updater(store, outbox).update("app1", domain.withdraw, "changed my mind")
    assert outbox.removed_later == [("app1", 1, sent)]
    assert store.removed == [set()]  # the write that succeeded had nothing handed over


def test_a_step_that_refuses_raises_for_the_dead_letter_queue():
    store, outbox = started()

    def refuse(workflow, now):
        return domain.Outcome("refused", detail="no")

    with pytest.raises(InvalidMessage):
        updater(store, outbox).update("app1", refuse)


def test_results_of_one_application_are_applied_in_one_write_and_a_foreign_one_refused():
    store, outbox = started()
    workflow_updater = updater(store, outbox)
    workflow_updater.apply_result(result("A"), "department.health")
    assert store.docs["app1"]["tasks"]["A"]["state"] == "approved"
    tasks = [
        e["body"]["payload"]["item_code"]
        for e in outbox.published[-1][2].values()
        if e["kind"] == "amqp"
    ]
    assert tasks == ["B"]
    with pytest.raises(InvalidMessage):
        workflow_updater.apply_result(result("B"), "department.police")
    assert store.docs["app1"]["tasks"]["B"]["state"] == "sent"


def test_a_result_the_domain_cannot_apply_fails_alone_and_the_batch_is_written():
    store, outbox = started()
    broken = result("A")
    del broken["payload"]["decision"]  # as if it had slipped past the boundary's schema
    refused = updater(store, outbox)._apply_results(
        "app1", [(broken, "department.health"), (result("A"), "department.health")]
    )
    assert list(refused) == [0] and isinstance(refused[0], InvalidMessage)
    assert "could not be applied" in str(refused[0])
    assert store.docs["app1"]["tasks"]["A"]["state"] == "approved"


def test_result_data_past_the_boundarys_limits_is_refused_by_the_schema():
    from marshmallow import ValidationError

    from onestop.contracts.messages import ApprovalResultSchema, ResultData

    payload = result("A")["payload"]
    assert ApprovalResultSchema().load(payload)["data"] == {}
    for data, problem in (
        ({"x": "y" * ResultData.MAX_BYTES}, "bytes encoded"),
        ({"a": [[[[[[[[1]]]]]]]]}, "nested deeper than 8"),
        ({"$gt": 1}, "contains '$'"),
        ({"a": {".b": 1}}, "starts with '.'"),
        ({"a": [{"b\u0000": 1}]}, "NUL"),
        ({"": 1}, "non-empty"),
    ):
        with pytest.raises(ValidationError) as refused:
            ApprovalResultSchema().load(dict(payload, data=data))
        assert problem in refused.value.messages["data"][0], data
    deep_enough = {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}  # 7 objects
    assert ApprovalResultSchema().load(dict(payload, data=deep_enough))["data"] == deep_enough
    with pytest.raises(ValidationError):
        ApprovalResultSchema().load(dict(payload, materials=["m"] * 101))


def officer_result(item, decision="approved", by="officer-0042"):
    return dict(result(item, decision)["payload"], decided_by=by)


def test_an_officers_decision_is_applied_once_by_its_message_id_and_names_the_officer():
    """routing/officer.py: no broker user, no queue; the same domain step and write as a
    department's result, and the same message id again changes nothing."""
    store, outbox = started()
    workflow_updater = updater(store, outbox)
    outcome = workflow_updater.decide_as_officer("approval_result", officer_result("A"), "m1")
    assert outcome.kind == "applied"
    doc = store.docs["app1"]
    assert doc["tasks"]["A"]["state"] == "approved" and doc["rev"] == 2
    [entry] = [h for h in doc["history"] if h["cause"] == "approval_result"]
    assert entry["actor"] == "department:health" and entry["by"] == "officer-0042"
    tasks = [e for e in outbox.published[-1][2].values() if e["kind"] == "amqp"]
    assert [t["body"]["payload"]["item_code"] for t in tasks] == ["B"]  # from the outbox
    again = workflow_updater.decide_as_officer("approval_result", officer_result("A"), "m1")
    assert again.kind == "duplicate" and store.docs["app1"]["rev"] == 2
    other = workflow_updater.decide_as_officer(
        "approval_result", officer_result("A", "rejected"), "m2"
    )
    assert other.kind == "late" and store.docs["app1"]["rev"] == 2


def test_an_officers_decision_for_an_unknown_application_or_another_department_is_not_applied():
    store, outbox = started()
    workflow_updater = updater(store, outbox)
    assert (
        workflow_updater.decide_as_officer(
            "approval_result", officer_result("A") | {"application_id": "nope"}, "m1"
        )
        is None
    )
    with pytest.raises(InvalidMessage):  # the domain's own check, as for a consumed result
        workflow_updater.decide_as_officer(
            "approval_result", officer_result("A") | {"department": "police"}, "m2"
        )
    assert store.docs["app1"]["tasks"]["A"]["state"] == "sent"


def test_an_officers_payment_confirmation_approves_the_task_and_names_the_officer():
    store, outbox = started()
    store.docs["app1"]["tasks"]["A"].update(
        state="awaiting_payment", fee=50, paused_at=NOW.isoformat()
    )
    payment = {
        "task_id": "app1:A",
        "application_id": "app1",
        "department": "health",
        "amount": 50.0,
        "receipt_number": "R-1",
        "confirmed_by": "cashier-01",
    }
    outcome = updater(store, outbox).decide_as_officer("payment_confirmed", payment, "p1")
    assert outcome.kind == "applied"
    task = store.docs["app1"]["tasks"]["A"]
    assert task["state"] == "approved" and "p1" in task["seen"]
    [entry] = [h for h in store.docs["app1"]["history"] if h["cause"] == "payment_confirmed"]
    assert entry["by"] == "cashier-01"
