"""feedback's own database: the decided applications it may be asked about, their reviews and
the rectification cases of bad ones. Reviews and cases carry an outbox of their events.

Writes of reviews and cases are compare-and-set on `rev`; outbox entries are added as
`outbox.<id>` fields, never by rewriting the whole outbox (the sweep may be removing
published entries at the same time).
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from onestop.common.scopes import region_query
from onestop.common.store import MongoStore
from services.feedback.domain import OPEN_CASE_STATES, REVIEWABLE_STATUSES

BOOKKEEPING = ("rev", "outbox", "outbox_pending", "updated_ts")
# nx-27017 0.8.1 reads a top-level boolean written by $set back as 0/1 (pinned in
# tests/integration/test_feedback_store.py); the flags are made booleans again on reading
FLAGS = ("bad", "case_pending", "outbox_pending")


def _read(doc):
    if doc:
        for flag in FLAGS:
            if flag in doc and doc[flag] is not None:
                doc[flag] = bool(doc[flag])
    return doc


class FeedbackStore(MongoStore):
    def ensure_indexes(self):
        self.db.reviews.create_index("application_id")
        self.db.reviews.create_index([("outbox_pending", ASCENDING), ("updated_ts", ASCENDING)])
        self.db.reviews.create_index("outbox_pending")  # the sweeps' lookup (docs/adr/0009)
        self.db.reviews.create_index("case_pending")
        self.db.cases.create_index([("department", ASCENDING), ("state", ASCENDING)])
        self.db.cases.create_index("region")  # a supervisor's or an office's cases
        self.db.reviews.create_index("region")
        self.db.applications.create_index("region")
        self.db.cases.create_index([("outbox_pending", ASCENDING), ("updated_ts", ASCENDING)])
        self.db.cases.create_index("outbox_pending")
        self.db.applications.create_index(
            [("review_state", ASCENDING), ("review_due_ts", ASCENDING)]
        )
        self.db.applications.create_index("review_state")  # the sweep's lookup (adr/0009)

    @property
    def reviews(self):
        return self.db.reviews

    @property
    def cases(self):
        return self.db.cases

    # -- applications -------------------------------------------------------------
    def note_submitted(self, application_id, applicant_id, scenario, now):
        # a replayed event, or a decision noted first, finds the document there: the unique
        # _id refuses the insert (no read first: one round trip)
        try:
            self.db.applications.insert_one(
                {
                    "_id": application_id,
                    "status": "submitted",
                    "applicant_id": applicant_id,
                    "scenario": scenario,
                    "updated_at": now,
                }
            )
        except DuplicateKeyError:
            pass

    def note_decided(self, application_id, fields, now):
        """Record the decision; the review state is set once (a replayed event keeps it)."""
        first = self.db.applications.update_one(
            {"_id": application_id, "review_state": {"$exists": False}},
            {"$set": dict(fields, updated_at=now, review_state="awaiting")},
        )
        if first.matched_count == 1:  # the usual case: one round trip
            return
        # a replay (the review state stays), or the decision before the submission
        self.db.applications.update_one(
            {"_id": application_id}, {"$set": dict(fields, updated_at=now)}, upsert=True
        )
        self.db.applications.update_one(
            {"_id": application_id, "review_state": {"$exists": False}},
            {"$set": {"review_state": "awaiting"}},
        )

    def application(self, application_id):
        return self.db.applications.find_one({"_id": application_id})

    def mark_reviewed(self, application_id):
        self.db.applications.update_one(
            {"_id": application_id}, {"$set": {"review_state": "reviewed"}}
        )

    def windows_closed_unreviewed(self, now, limit=200):
        return list(
            self.db.applications.find(
                {"review_state": "awaiting", "review_due_ts": {"$lt": now.timestamp()}},
                {"scenario": 1},
            ).limit(limit)
        )

    def mark_not_reviewed(self, application_id):
        """True when this call moved the application from awaiting to not_reviewed."""
        return (
            self.db.applications.update_one(
                {"_id": application_id, "review_state": "awaiting"},
                {"$set": {"review_state": "not_reviewed"}},
            ).modified_count
            == 1
        )

    # -- reviews and cases ----------------------------------------------------------
    def insert(self, collection, doc, entries, now):
        """Insert a review or case with its outbox; False when one with this id exists."""
        try:
            self.db[collection].insert_one(
                dict(
                    doc,
                    rev=1,
                    outbox=entries,
                    outbox_pending=bool(entries),
                    updated_ts=now.timestamp(),
                )
            )
        except DuplicateKeyError:
            return False
        return True

    def save(self, collection, doc, entries, now):
        """Write a changed review or case if nobody wrote it since it was read (its rev)."""
        fields = {k: v for k, v in doc.items() if k not in BOOKKEEPING and k != "_id"}
        fields.update(
            {f"outbox.{message_id}": e for message_id, e in entries.items()},
            updated_ts=now.timestamp(),
        )
        if entries:
            fields["outbox_pending"] = True
        result = self.db[collection].update_one(
            {"_id": doc["_id"], "rev": doc["rev"]}, {"$set": fields, "$inc": {"rev": 1}}
        )
        return result.modified_count == 1

    def get(self, collection, doc_id):
        return _read(self.db[collection].find_one({"_id": doc_id}))

    def reviews_of(self, application_id):
        return [_read(d) for d in self.reviews.find({"application_id": application_id})]

    def reviews_awaiting_case(self, limit=200):
        return [_read(d) for d in self.reviews.find({"case_pending": True}).limit(limit)]

    def list_cases(self, department=None, state=None, limit=100, region=None, office_region=None):
        """Cases, newest first: of a region scope (`region`, and what is inside it) or of
        exactly one office's region (`office_region`), when given."""
        query = _in_region(region)
        if office_region:
            query["region"] = office_region
        if department:
            query["department"] = department
        if state == "open":
            query["state"] = {"$in": list(OPEN_CASE_STATES)}
        elif state:
            query["state"] = state
        return list(self.cases.find(query).sort("opened_at", -1).limit(limit))

    def open_cases(self, after=None, limit=200):
        """Up to `limit` open cases in id order, from the first id after `after`: the sweep
        goes round them a page at a time instead of reading every open case every 2 s."""
        query = {"state": {"$in": list(OPEN_CASE_STATES)}}
        if after is not None:
            query["_id"] = {"$gt": after}
        return list(self.cases.find(query).sort("_id", ASCENDING).limit(limit))

    # -- statistics -------------------------------------------------------------------
    def decided_applications(self, region=None):
        return list(
            self.db.applications.find(
                {"status": {"$in": list(REVIEWABLE_STATUSES)}, **_in_region(region)},
                {"scenario": 1, "status": 1, "departments": 1, "review_due": 1},
            )
        )

    def all_reviews(self, region=None):
        return list(
            self.reviews.find(
                _in_region(region),
                {
                    "application_id": 1,
                    "target": 1,
                    "scenario": 1,
                    "items": 1,
                    "level": 1,
                    "follow_up": 1,
                },
            )
        )

    def all_cases(self, region=None):
        return list(
            self.cases.find(
                _in_region(region),
                {
                    "scenario": 1,
                    "department": 1,
                    "items": 1,
                    "state": 1,
                    "visit": 1,
                    "rectification": 1,
                    "visit_due": 1,
                    "rectify_due": 1,
                },
            )
        )

    def count_cases_by_state(self):
        counts = {}
        for doc in self.cases.find({}, {"state": 1}):
            counts[doc["state"]] = counts.get(doc["state"], 0) + 1
        return counts


def _in_region(region):
    """The query part confining records to a staff member's region (None: no confinement)."""
    return {"region": region_query(region)} if region else {}
