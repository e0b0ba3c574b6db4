"""The license store against the embedded store: expiry ranges in epoch seconds, the
compare-and-set status change, readers that see the licence without its bookkeeping."""

from datetime import datetime, timedelta, timezone

from pymongo import monitoring

from services.license.store import LicenseStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_licenses_due_to_expire_and_never_expiring_ones(db):
    store = LicenseStore(db)
    store.ensure_indexes()
    base = {"type": "t", "holder": {"id_number": "h"}, "issued_at": NOW.isoformat()}
    store.insert(dict(base, id="soon", expires_at=(NOW + timedelta(days=1)).isoformat()), {}, NOW)
    store.insert(dict(base, id="never", expires_at=None), {}, NOW)
    assert store.due_to_expire(NOW) == []
    later = NOW + timedelta(days=2)
    assert [d["id"] for d in store.due_to_expire(later)] == ["soon"]
    assert store.mark("soon", "valid", {"status": "expired"}, {"m": {"kind": "event"}}, later)
    assert not store.mark("soon", "valid", {"status": "expired"}, {}, later)
    assert store.get("soon")["status"] == "expired" and "outbox" not in store.get("soon")
    assert store.count_by_type_and_status(later) == {("t", "expired"): 1, ("t", "valid"): 1}


class DocumentsRead(monitoring.CommandListener):
    """Counts the documents the store sends back (find and getMore batches)."""

    def __init__(self):
        self.documents = 0

    def started(self, event):
        pass

    def succeeded(self, event):
        cursor = event.reply.get("cursor") if hasattr(event.reply, "get") else None
        if cursor:
            self.documents += len(cursor.get("firstBatch", cursor.get("nextBatch", [])))

    def failed(self, event):
        pass


def test_the_license_gauge_is_tallied_consistently_and_reads_the_same_few_documents_as_licenses_grow(
    db, mongo_uri
):
    """docs/adr/0016: the tallies agree with a recount from every licence, and a scrape
    reads as many documents with 20 licences as with 200."""
    import pymongo

    reads = DocumentsRead()
    client = pymongo.MongoClient(mongo_uri, event_listeners=[reads])
    store = LicenseStore(client[db.name])
    store.ensure_indexes()
    later = NOW + timedelta(days=2)
    read_per_scrape = []
    issued = 0
    for batch in (20, 180):
        for n in range(issued, issued + batch):
            expires = (NOW + timedelta(days=1 if n % 7 == 0 else 400)).isoformat()
            store.insert(
                {
                    "id": f"l{n}",
                    "type": f"t{n % 3}",
                    "holder": {"id_number": "h"},
                    "issued_at": NOW.isoformat(),
                    "expires_at": expires,
                },
                {},
                NOW,
            )
            if n % 5 == 0:
                store.mark(f"l{n}", "valid", {"status": "revoked"}, {}, NOW)
        issued += batch
        # before the sweep: expired by time, still marked valid
        assert store.count_by_type_and_status(later) == store.recount_by_type_and_status(later)
        for license in store.due_to_expire(later, limit=1000):  # the sweep
            store.mark(license["id"], "valid", {"status": "expired"}, {}, later)
        assert store.count_by_type_and_status(later) == store.recount_by_type_and_status(later)
        reads.documents = 0
        store.count_by_type_and_status(later)
        read_per_scrape.append(reads.documents)
    # the tallies (3 types x 3 statuses), whatever the number of licences
    assert max(read_per_scrape) <= 9, read_per_scrape
    store.rebuild_tallies()
    assert store.count_by_type_and_status(later) == store.recount_by_type_and_status(later)
    client.close()
