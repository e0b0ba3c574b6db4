"""The intake store against the embedded store: an idempotent insert that hands back the
application already stored under the key, lists by who may see them, events queued on the
outbox with the change that caused them."""

from datetime import datetime, timedelta, timezone

from services.intake.store import IntakeStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
EVERYONE = {"applicant": None, "clerk": None, "status": None, "scenario": None}


def application(application_id, applicant="A", key=None, submitted_by=("applicant", "A"), at=NOW):
    return {
        "_id": application_id,
        "application_id": application_id,
        "scenario": "birth",
        "catalog_version": 1,
        "status": "submitted",
        "channel": "online",
        "region": "430102",
        "applicant": {"kind": "person", "id_number": applicant, "name": "n"},
        "submitted_at": at.isoformat(),
        "decision": None,
        "fingerprint": "f",
        "submitted_by": {"role": submitted_by[0], "sub": submitted_by[1]},
        "idempotency_key": f"{applicant}:{key or application_id}",
    }


def test_a_second_insert_under_the_same_key_returns_the_first(db):
    store = IntakeStore(db)
    store.ensure_indexes()
    assert (
        store.insert_application(application("a1", key="k"), {"m": {"kind": "event"}}, NOW) is None
    )
    existing = store.insert_application(application("a2", key="k"), {}, NOW)
    assert existing["_id"] == "a1" and existing["outbox_pending"] is True
    assert store.get_application("a1")["rev"] == 1
    assert "outbox" not in store.get_application("a1")


def test_lists_show_what_the_criteria_allow_newest_first(db):
    store = IntakeStore(db)
    store.ensure_indexes()
    store.insert_application(application("a1", at=NOW), {}, NOW)
    store.insert_application(application("a2", at=NOW + timedelta(minutes=1)), {}, NOW)
    store.insert_application(
        application("b1", applicant="B", submitted_by=("clerk", "c1")), {}, NOW
    )

    def ids(criteria, limit=10):
        return [d["_id"] for d in store.list_applications(dict(EVERYONE, **criteria), limit, 0)[0]]

    assert ids({"applicant": "A"}) == ["a2", "a1"]
    assert ids({"clerk": "c1"}) == ["b1"]
    assert ids({"clerk": "c1", "applicant": "A"}) == []
    assert ids({"status": "submitted"}, limit=2) == ["a2", "a1"]
    assert store.list_applications(EVERYONE, 2, 0)[1] is True


def test_an_event_is_queued_with_its_change_in_one_update(db):
    store = IntakeStore(db)
    store.insert_application(application("a1"), {}, NOW)
    written = store.add_events(
        "a1", {"m1": {"kind": "event"}}, NOW, {"withdrawal_requested_at": NOW}
    )
    assert written["rev"] == 2 and set(written["outbox"]) == {"m1"}
    assert store.get_application("a1")["withdrawal_requested_at"] is not None
    assert store.add_events("nobody", {"m2": {"kind": "event"}}, NOW) is None
