"""license's own database: issued licences, each with its outbox of life-cycle events.

A stored document is the signed licence plus bookkeeping (`_id`, `rev`, `outbox`,
`outbox_pending`, `updated_ts`, `expires_ts`); readers get the licence alone, so
what they see is exactly what was signed (plus the unsigned status fields).
"""
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from onestop.common.store import MongoStore

BOOKKEEPING = ("_id", "rev", "outbox", "outbox_pending", "updated_ts", "expires_ts")


def licence_of(doc):
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING} if doc else None


class LicenseStore(MongoStore):
    def ensure_indexes(self):
        self.db.licenses.create_index([("holder.id_number", ASCENDING), ("issued_at", DESCENDING)])
        self.db.licenses.create_index([("status", ASCENDING), ("expires_ts", ASCENDING)])
        self.db.licenses.create_index([("outbox_pending", ASCENDING), ("updated_ts", ASCENDING)])
        self.db.licenses.create_index("outbox_pending")  # the sweep's lookup (docs/adr/0009)
        self.db.licenses.create_index("status")  # the expiry sweep's lookup

    @property
    def licenses(self):
        return self.db.licenses

    def insert(self, licence, outbox, now):
        """Store a signed licence with its outbox; False when it was already issued."""
        expires_ts = (datetime.fromisoformat(licence["expires_at"]).timestamp()
                      if licence.get("expires_at") else None)
        try:
            self.licenses.insert_one(dict(licence, _id=licence["id"], status="valid", rev=1,
                                          outbox=outbox, outbox_pending=bool(outbox),
                                          updated_ts=now.timestamp(), expires_ts=expires_ts))
        except DuplicateKeyError:
            return False
        return True

    def get(self, licence_id):
        return licence_of(self.licenses.find_one({"_id": licence_id}))

    def by_holder(self, id_number):
        return [licence_of(doc) for doc in self.licenses.find({"holder.id_number": id_number})]

    def mark(self, licence_id, from_status, changes, outbox, now):
        """Move a licence out of `from_status` (compare-and-set) with its outbox entries;
        the document's outbox as written (`_id`, `rev`, `outbox`), or None when the licence
        was not in `from_status`."""
        fields = dict(changes, updated_ts=now.timestamp(), outbox_pending=True)
        fields.update({f"outbox.{message_id}": entry for message_id, entry in outbox.items()})
        result = self.licenses.update_one({"_id": licence_id, "status": from_status},
                                          {"$set": fields, "$inc": {"rev": 1}})
        if result.modified_count != 1:
            return None
        return self.licenses.find_one({"_id": licence_id}, {"outbox": 1, "rev": 1})

    def due_to_expire(self, now, limit=200):
        """Licences still marked valid whose expiry has passed."""
        return [licence_of(doc) for doc in self.licenses.find(
            {"status": "valid", "expires_ts": {"$lte": now.timestamp()}}).limit(limit)]

    def count_by_type_and_status(self, now):
        """(license type, status now) -> count, for the scrape-time gauge."""
        counts = {}
        for doc in self.licenses.find({}, {"type": 1, "status": 1, "expires_ts": 1}):
            status = doc.get("status", "valid")
            if status == "valid" and doc.get("expires_ts") is not None \
                    and doc["expires_ts"] <= now.timestamp():
                status = "expired"
            key = (doc["type"], status)
            counts[key] = counts.get(key, 0) + 1
        return counts
