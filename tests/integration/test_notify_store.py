"""notify's store against the embedded store: at most one notification per event, person and
channel (by the unique index, whatever the id), the inbox paged newest first, reading only
one's own."""

from datetime import datetime, timedelta, timezone

from services.notify import domain
from services.notify.store import NotifyStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PERSON = "applicant:430102199001011234"


def notice(key, person=PERSON, text="您好"):
    return {
        "notice": "application_submitted",
        "key": key,
        "person": person,
        "title": "申请已提交",
        "text": text,
        "application_id": key,
    }


def test_one_notification_per_event_person_and_channel_even_under_another_id(db):
    store = NotifyStore(db)
    store.ensure_indexes()
    (inbox, file_doc) = domain.notifications(notice("A-1"), {}, ["file"], NOW)
    assert store.add(inbox, {}, NOW)
    assert store.add(file_doc, {"m1": {"kind": "event"}}, NOW)
    assert not store.add(inbox, {}, NOW)  # the same event again
    assert not store.add(dict(inbox, _id="another-id"), {}, NOW)  # the index, not the id
    assert db.notifications.count_documents({}) == 2
    stored = db.notifications.find_one({"_id": file_doc["_id"]})
    assert stored["outbox_pending"] is True and stored["state"] == "pending"
    assert "outbox" not in store.get(file_doc["_id"])


def test_the_inbox_is_paged_newest_first_and_read_only_by_its_owner(db):
    store = NotifyStore(db)
    store.ensure_indexes()
    for minute in range(5):
        (inbox,) = domain.notifications(
            notice(f"A-{minute}"), {}, [], NOW + timedelta(minutes=minute)
        )
        store.add(inbox, {}, NOW)
    (other,) = domain.notifications(notice("B-1", person="applicant:x"), {}, [], NOW)
    store.add(other, {}, NOW)

    page, total, unread = store.inbox(PERSON, 0, 2)
    assert [d["application_id"] for d in page] == ["A-4", "A-3"]
    assert (total, unread) == (5, 5)
    page, _, _ = store.inbox(PERSON, 4, 2)
    assert [d["application_id"] for d in page] == ["A-0"]

    newest = store.inbox(PERSON, 0, 1)[0][0]["_id"]
    assert store.mark_read(newest, "applicant:x", NOW) is None  # not theirs
    assert store.mark_read(other["_id"], PERSON, NOW) is None
    read = store.mark_read(newest, PERSON, NOW)
    assert read["read_at"] == NOW.isoformat()
    assert store.mark_read(newest, PERSON, NOW + timedelta(hours=1))["read_at"] == NOW.isoformat()
    page, total, unread = store.inbox(PERSON, 0, 10, unread_only=True)
    assert (len(page), total, unread) == (4, 4, 4) and newest not in {d["_id"] for d in page}


def test_the_applicant_of_an_application_is_remembered_once(db):
    store = NotifyStore(db)
    store.remember_applicant("A-1", "430102199001011234", NOW)
    store.remember_applicant("A-1", "someone-else", NOW)  # a replay cannot change it
    assert store.applicant_of("A-1") == "430102199001011234"
    assert store.applicant_of("A-2") is None


def test_preferences_are_kept_and_replaced(db):
    store = NotifyStore(db)
    assert store.preferences(PERSON) is None
    store.save_preferences(PERSON, {"channels": ["sms"], "phone": "13800138000"}, NOW)
    assert store.preferences(PERSON)["channels"] == ["sms"]
    store.save_preferences(PERSON, {"channels": [], "phone": None}, NOW)
    assert store.preferences(PERSON)["channels"] == []


def test_a_notice_channels_are_stored_in_one_insert_and_a_replay_stores_only_what_is_new(db):
    """docs/adr/0028: one unordered insert per notice; the ids stored are those that were new
    (a replay collides on the unique index and is left as it was)."""
    store = NotifyStore(db)
    store.ensure_indexes()
    inbox, file_doc = domain.notifications(notice("C-1"), {}, ["file"], NOW)
    assert store.add_all([(inbox, {})], NOW) == {inbox["_id"]}
    stored = store.add_all([(inbox, {}), (file_doc, {"m1": {"kind": "event"}})], NOW)
    assert stored == {file_doc["_id"]}
    assert store.add_all([(inbox, {}), (file_doc, {})], NOW) == set()
    assert db.notifications.count_documents({}) == 2
    assert db.notifications.find_one({"_id": file_doc["_id"]})["outbox"] == {
        "m1": {"kind": "event"}
    }


def test_a_delivery_attempt_is_counted_and_removes_its_published_outbox_entry(db):
    store = NotifyStore(db)
    store.ensure_indexes()
    _, file_doc = domain.notifications(notice("D-1"), {}, ["file"], NOW)
    store.add(file_doc, {"m1": {"kind": "event"}}, NOW)
    store.settle_delivery(file_doc["_id"], "failing", NOW, "disk full")
    first = db.notifications.find_one({"_id": file_doc["_id"]})
    assert (first["attempts"], first["state"], first["last_error"]) == (1, "failing", "disk full")
    assert first["outbox"] == {"m1": {"kind": "event"}} and first["outbox_pending"]
    store.settle_delivery(
        file_doc["_id"], "delivered", NOW + timedelta(seconds=5), published={"m1"}
    )
    settled = db.notifications.find_one({"_id": file_doc["_id"]})
    assert (settled["attempts"], settled["state"]) == (2, "delivered")
    assert settled["last_attempt_at"] == (NOW + timedelta(seconds=5)).isoformat()
    assert not settled.get("outbox") and not settled["outbox_pending"]
