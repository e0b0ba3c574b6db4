"""routing's store on the embedded store: compare-and-set writes, and the workflows a
process remembers having written (`latest`), which never hide another process's write."""

from datetime import datetime, timezone

from services.routing.store import RoutingStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def workflow(application_id="a1"):
    return {
        "_id": application_id,
        "status": "in_review",
        "decision": None,
        "history": [],
        "materials": [],
        "tasks": {"IT-1": {"state": "sent", "office": "d.430100"}},
        "rev": 0,
    }


def changed(doc, state, decision=None):
    return dict(doc, tasks={"IT-1": dict(doc["tasks"]["IT-1"], state=state)}, decision=decision)


def test_a_process_starts_its_next_change_from_what_it_wrote(db):
    store = RoutingStore(db)
    assert store.insert(workflow(), {"m1": {"kind": "event"}}, NOW)
    db.workflows.update_one({"_id": "a1"}, {"$set": {"marker": "only in the store"}})
    remembered = store.remembered("a1")
    assert remembered["rev"] == 1 and "marker" not in remembered  # no store read
    assert store.save(
        changed(remembered, "approved"), {"m2": {"kind": "event"}}, NOW, remove={"m1"}
    )
    after = store.remembered("a1")
    assert after["rev"] == 2 and after["tasks"]["IT-1"]["state"] == "approved"
    assert set(after["outbox"]) == {"m2"}
    stored = store.get("a1")
    assert (stored["rev"], set(stored["outbox"]), stored["marker"]) == (
        2,
        {"m2"},
        "only in the store",
    )


def test_another_processs_write_fails_the_stale_one_which_then_reads_the_store(db):
    mine, theirs = RoutingStore(db), RoutingStore(db)
    assert mine.insert(workflow(), {}, NOW)
    assert theirs.remembered("a1") is None  # it wrote nothing
    assert theirs.save(changed(theirs.get("a1"), "rejected"), {}, NOW)  # rev 2
    stale = mine.remembered("a1")
    assert stale["rev"] == 1
    assert not mine.save(changed(stale, "approved"), {}, NOW)  # refused, nothing lost
    assert mine.remembered("a1") is None  # forgotten: the caller reads the store
    assert mine.get("a1")["tasks"]["IT-1"]["state"] == "rejected"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_workflow_is_remembered_only_for_a_moment(db):
    clock = Clock()
    store = RoutingStore(db, remembered_seconds=0.2, clock=clock)
    assert store.insert(workflow(), {"m1": {"kind": "event"}}, NOW)
    # the published entry is removed without a write (outbox.Settlements)
    db.workflows.update_one({"_id": "a1"}, {"$unset": {"outbox.m1": ""}})
    clock.now += 0.1
    assert set(store.remembered("a1")["outbox"]) == {"m1"}  # remembered
    clock.now += 0.15
    assert store.remembered("a1") is None and store.recent == {}  # too old: forgotten
    assert store.get("a1")["outbox"] == {}


def test_decided_workflows_are_not_remembered_and_the_memory_is_bounded(db):
    store = RoutingStore(db, remember=2)
    for name in ("a1", "a2", "a3"):
        assert store.insert(workflow(name), {}, NOW)
    assert list(store.recent) == ["a2", "a3"]
    assert store.save(changed(store.remembered("a3"), "approved", {"outcome": "approved"}), {}, NOW)
    assert list(store.recent) == ["a2"]
    assert store.remembered("a3") is None
    assert store.get("a3")["decision"] == {"outcome": "approved"}
