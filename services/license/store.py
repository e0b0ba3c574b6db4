"""license's own database: issued licences, each with its outbox of life-cycle events.

A stored document is the signed licence plus bookkeeping (`_id`, `rev`, `outbox`,
`outbox_pending`, `updated_ts`, `expires_ts`); readers get the licence alone, so
what they see is exactly what was signed (plus the unsigned status fields).

Licences by type and status are tallied as they change (docs/adr/0016): one `tallies`
document per (type, status), `$inc`-ed right after the write that issues a licence or moves
it out of a status, so the scrape-time gauge reads a few documents, not every licence.
"""

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from onestop.common.store import MongoStore

BOOKKEEPING = ("_id", "rev", "outbox", "outbox_pending", "updated_ts", "expires_ts")
TALLIED_MARK = "tallied"  # the tallies document that says the tallies were built
# licences still marked valid past their expiry (the sweep marks them within seconds) that
# a scrape looks at: an indexed query, bounded
UNSWEPT_LIMIT = 200


def tally_id(license_type, status):
    return f"{license_type}|{status}"


def license_of(doc):
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING} if doc else None


class LicenseStore(MongoStore):
    def ensure_indexes(self):
        self.db.licenses.create_index([("holder.id_number", ASCENDING), ("issued_at", DESCENDING)])
        self.db.licenses.create_index([("status", ASCENDING), ("expires_ts", ASCENDING)])
        self.db.licenses.create_index([("outbox_pending", ASCENDING), ("updated_ts", ASCENDING)])
        self.db.licenses.create_index("outbox_pending")  # the sweep's lookup (docs/adr/0009)
        self.db.licenses.create_index("status")  # the expiry sweep's lookup
        self.db.notices.create_index("application_id")
        if self.db.tallies.find_one({"_id": TALLIED_MARK}, {"_id": 1}) is None:
            self.rebuild_tallies()  # once: licences issued before the tallies existed

    @property
    def licenses(self):
        return self.db.licenses

    def insert(self, license, outbox, now):
        """Store a signed licence with its outbox; False when it was already issued."""
        expires_ts = (
            datetime.fromisoformat(license["expires_at"]).timestamp()
            if license.get("expires_at")
            else None
        )
        try:
            self.licenses.insert_one(
                dict(
                    license,
                    _id=license["id"],
                    status="valid",
                    rev=1,
                    outbox=outbox,
                    outbox_pending=bool(outbox),
                    updated_ts=now.timestamp(),
                    expires_ts=expires_ts,
                )
            )
        except DuplicateKeyError:
            return False
        self._tally(license["type"], "valid", 1)
        return True

    def _tally(self, license_type, status, step):
        self.db.tallies.update_one(
            {"_id": tally_id(license_type, status)},
            {"$set": {"type": license_type, "status": status}, "$inc": {"count": step}},
            upsert=True,
        )

    def get(self, license_id):
        return license_of(self.licenses.find_one({"_id": license_id}))

    def by_holder(self, id_number):
        return [license_of(doc) for doc in self.licenses.find({"holder.id_number": id_number})]

    def mark(self, license_id, from_status, changes, outbox, now):
        """Move a licence out of `from_status` (compare-and-set) with its outbox entries;
        the document's outbox as written (`_id`, `rev`, `outbox`), or None when the licence
        was not in `from_status`."""
        fields = dict(changes, updated_ts=now.timestamp(), outbox_pending=True)
        fields.update({f"outbox.{message_id}": entry for message_id, entry in outbox.items()})
        result = self.licenses.update_one(
            {"_id": license_id, "status": from_status}, {"$set": fields, "$inc": {"rev": 1}}
        )
        if result.modified_count != 1:
            return None
        written = self.licenses.find_one(
            {"_id": license_id}, {"outbox": 1, "rev": 1, "type": 1, "status": 1}
        )
        if written.get("status", from_status) != from_status:
            self._tally(written["type"], from_status, -1)
            self._tally(written["type"], written["status"], 1)
        return written

    def due_to_expire(self, now, limit=200):
        """Licences still marked valid whose expiry has passed."""
        return [
            license_of(doc)
            for doc in self.licenses.find(
                {"status": "valid", "expires_ts": {"$lte": now.timestamp()}}
            ).limit(limit)
        ]

    def count_by_type_and_status(self, now):
        """(license type, status now) -> count, for the scrape-time gauge: the tallies,
        with licences past their expiry that the sweep has not marked yet counted as
        expired. Reads the tallies and at most UNSWEPT_LIMIT licences."""
        counts = {
            (doc["type"], doc["status"]): doc["count"]
            for doc in self.db.tallies.find({"_id": {"$ne": TALLIED_MARK}})
        }
        for doc in self.licenses.find(
            {"status": "valid", "expires_ts": {"$lte": now.timestamp()}}, {"type": 1}
        ).limit(UNSWEPT_LIMIT):
            counts[(doc["type"], "valid")] = counts.get((doc["type"], "valid"), 0) - 1
            counts[(doc["type"], "expired")] = counts.get((doc["type"], "expired"), 0) + 1
        return {key: count for key, count in counts.items() if count}

    def recount_by_type_and_status(self, now):
        """The same, from every licence (O(licences)): what the tallies must agree with."""
        counts = {}
        for doc in self.licenses.find({}, {"type": 1, "status": 1, "expires_ts": 1}):
            status = doc.get("status", "valid")
            if (
                status == "valid"
                and doc.get("expires_ts") is not None
                and doc["expires_ts"] <= now.timestamp()
            ):
                status = "expired"
            key = (doc["type"], status)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def rebuild_tallies(self):
        """Recount the tallies from every licence (once, when they do not exist yet; or by an
        operator after a crash between a licence's write and its tally, docs/adr/0016)."""
        counts = {}
        for doc in self.licenses.find({}, {"type": 1, "status": 1}):
            key = (doc["type"], doc.get("status", "valid"))
            counts[key] = counts.get(key, 0) + 1
        self.db.tallies.delete_many({})
        for (license_type, status), count in counts.items():
            self.db.tallies.insert_one(
                {
                    "_id": tally_id(license_type, status),
                    "type": license_type,
                    "status": status,
                    "count": count,
                }
            )
        self.db.tallies.insert_one({"_id": TALLIED_MARK})

    # -- notices (services/license/notices.py) -------------------------------------------
    def insert_notice(self, notice, submitted_by):
        """Store a signed notice (with who submitted the application, to authorize readers);
        False when it was already stored."""
        try:
            self.db.notices.insert_one(dict(notice, _id=notice["id"], submitted_by=submitted_by))
        except DuplicateKeyError:
            return False
        return True

    def notices_of(self, application_id):
        return list(self.db.notices.find({"application_id": application_id}))
