"""The license store against the embedded store: expiry ranges in epoch seconds, the
compare-and-set status change, readers that see the licence without its bookkeeping."""
from datetime import datetime, timedelta, timezone

from services.license.store import LicenseStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_licences_due_to_expire_and_never_expiring_ones(db):
    store = LicenseStore(db)
    store.ensure_indexes()
    base = {"type": "t", "holder": {"id_number": "h"}, "issued_at": NOW.isoformat()}
    store.insert(dict(base, id="soon", expires_at=(NOW + timedelta(days=1)).isoformat()), {},
                 NOW)
    store.insert(dict(base, id="never", expires_at=None), {}, NOW)
    assert store.due_to_expire(NOW) == []
    later = NOW + timedelta(days=2)
    assert [d["id"] for d in store.due_to_expire(later)] == ["soon"]
    assert store.mark("soon", "valid", {"status": "expired"}, {"m": {"kind": "event"}}, later)
    assert not store.mark("soon", "valid", {"status": "expired"}, {}, later)
    assert store.get("soon")["status"] == "expired" and "outbox" not in store.get("soon")
    assert store.count_by_type_and_status(later) == {("t", "expired"): 1, ("t", "valid"): 1}
