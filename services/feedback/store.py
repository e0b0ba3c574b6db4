"""feedback's own database: the decided applications it may be asked about, their reviews and
the rectification cases of bad ones. Reviews and cases carry an outbox of their events.

Writes of reviews and cases are compare-and-set on `rev`; outbox entries are added as
`outbox.<id>` fields, never by rewriting the whole outbox (the sweep may be removing
published entries at the same time).

The review statistics are tallied as things change (docs/adr/0016, services/feedback/
tallies.py): every write of an application, review or case stores what the document now
counts for (`tallied`, `tally_due_ts`) in the same compare-and-set write, and then `$inc`s
the difference into the `review_tallies` documents (one per region, dimension and key). Only
the writer whose compare-and-set succeeded moves a tally, so a replayed event or a
concurrent replica never counts a change twice.
"""

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from onestop.common.clock import utcnow
from onestop.common.scopes import region_covers, region_query
from onestop.common.store import MongoStore
from services.feedback import domain, tallies
from services.feedback.domain import OPEN_CASE_STATES, REVIEWABLE_STATUSES

BOOKKEEPING = ("rev", "outbox", "outbox_pending", "updated_ts", "tallied", "tally_due_ts")
TALLIED_MARK = "tallied"  # the review_tallies document that says the tallies were built
# documents past their tally_due_ts that the sweep has not re-tallied yet, which a read
# counts as now: an indexed query, bounded (docs/adr/0016)
UNSWEPT_LIMIT = 200
TALLIED_COLLECTIONS = ("applications", "reviews", "cases")
# a tally's counts are top-level fields `n_<name>` (nx-27017 0.8.1 stores a dotted $inc
# of an upsert's new document as one field named "counts.x", not as a sub-document)
COUNT = "n_"
# an application's fields a write may change (never the whole document: the sweep sets
# review_state to not_reviewed without a compare-and-set)
APPLICATION_FIELDS = (
    "status",
    "applicant_id",
    "scenario",
    "region",
    "catalog_version",
    "decided_at",
    "departments",
    "review_due",
    "review_due_ts",
    "updated_at",
    "review_state",
    "reviewed_targets",
)
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
        for collection in TALLIED_COLLECTIONS:  # the re-tally sweep's and reads' lookup
            self.db[collection].create_index("tally_due_ts")
        self.db.review_tallies.create_index([("dimension", ASCENDING), ("region", ASCENDING)])
        self.db.review_tallies.create_index("dimension")  # nx-27017 uses single-field ones
        if self.db.review_tallies.find_one({"_id": TALLIED_MARK}, {"_id": 1}) is None:
            self.rebuild_review_tallies()  # once: documents stored before the tallies

    @property
    def reviews(self):
        return self.db.reviews

    @property
    def cases(self):
        return self.db.cases

    # -- applications -------------------------------------------------------------
    def note_submitted(self, application_id, applicant_id, scenario, now):
        # a replayed event, or a decision noted first, finds the document there: the unique
        # _id refuses the insert (no read first: one round trip). Submitted: counts nothing.
        try:
            self.db.applications.insert_one(
                {
                    "_id": application_id,
                    "status": "submitted",
                    "applicant_id": applicant_id,
                    "scenario": scenario,
                    "updated_at": now,
                    "rev": 1,
                    "tallied": [],
                    "tally_due_ts": None,
                }
            )
        except DuplicateKeyError:
            pass

    def note_decided(self, application_id, fields, now):
        """Record the decision; the review state is set once (a replayed event keeps it)."""

        def decided(application):
            changed = dict(application, **fields, updated_at=now)
            changed.setdefault("review_state", "awaiting")
            changed.setdefault("reviewed_targets", [])
            return changed

        self._change_application(application_id, decided, now)

    def _change_application(self, application_id, change, now):
        """Apply `change` (document -> changed document) to the application, compare-and-set
        on its `rev`, with its tallies moved; retried when someone wrote it meanwhile."""
        while True:
            current = self.db.applications.find_one({"_id": application_id})
            if current is None:
                changed = change({"_id": application_id})
                doc = {k: changed[k] for k in APPLICATION_FIELDS if k in changed}
                rows = tallies.contribution("applications", changed, now)
                doc.update(
                    _id=application_id,
                    rev=1,
                    tallied=rows,
                    tally_due_ts=tallies.due_ts("applications", changed, now),
                )
                try:
                    self.db.applications.insert_one(doc)
                except DuplicateKeyError:
                    continue  # noted meanwhile (the submission): change that one
                self._move_tallies([], rows)
                return
            changed = change(current)
            fields = {
                k: changed[k]
                for k in APPLICATION_FIELDS
                if k in changed and changed[k] != current.get(k)
            }
            if self._save_tallied("applications", current, changed, fields, now):
                return

    def _save_tallied(self, collection, current, changed, fields, now):
        """Write `fields` of a document read as `current` (compare-and-set on its rev; a
        document without rev, stored before the tallies, on its absence), with what
        `changed` counts for; move the tallies by the difference. False when the document
        changed meanwhile."""
        rows = tallies.contribution(collection, changed, now)
        fields = dict(fields, tallied=rows, tally_due_ts=tallies.due_ts(collection, changed, now))
        rev = current.get("rev")
        result = self.db[collection].update_one(
            {"_id": current["_id"], "rev": rev if rev is not None else {"$exists": False}},
            {"$set": fields, "$inc": {"rev": 1}},
        )
        if result.modified_count != 1:
            return False
        self._move_tallies(current.get("tallied"), rows)
        return True

    def _move_tallies(self, old_rows, new_rows):
        """Every tally the difference moves in one round trip: an ordered bulk write, in
        the order and with the stop at the first failure of the one-by-one updates it
        replaces (a decided application moves one tally per dimension and subject;
        docs/adr/0027)."""
        moves = [
            UpdateOne(
                {"_id": f"{region}|{dimension}|{key}"},
                {
                    "$set": {"region": region, "dimension": dimension, "key": key},
                    "$inc": {COUNT + name: n for name, n in counts.items()},
                },
                upsert=True,
            )
            for (region, dimension, key), counts in tallies.difference(old_rows, new_rows).items()
        ]
        if moves:
            self.db.review_tallies.bulk_write(moves, ordered=True)

    def application(self, application_id):
        return self.db.applications.find_one({"_id": application_id})

    def mark_reviewed(self, application_id, target, now):
        """The application's `target` (a department, or service_center) was reviewed."""

        def reviewed(application):
            targets = list(application.get("reviewed_targets") or [])
            if target not in targets:
                targets.append(target)
            return dict(application, review_state="reviewed", reviewed_targets=targets)

        self._change_application(application_id, reviewed, now)

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
        """Insert a review or case with its outbox and tallies; False when one with this id
        exists (then nothing is counted again)."""
        rows = tallies.contribution(collection, doc, now)
        try:
            self.db[collection].insert_one(
                dict(
                    doc,
                    rev=1,
                    outbox=entries,
                    outbox_pending=bool(entries),
                    updated_ts=now.timestamp(),
                    tallied=rows,
                    tally_due_ts=tallies.due_ts(collection, doc, now),
                )
            )
        except DuplicateKeyError:
            return False
        self._move_tallies([], rows)
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
        return self._save_tallied(collection, doc, doc, fields, now)

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

    # -- review statistics: tallies (docs/adr/0016) ------------------------------------
    def review_tallies(self, now, region=None, dimension=None):
        """(region, dimension, key) -> counts, for the statistics and the scrape: the tallies
        of `region` (and what is inside it; None: all) and `dimension` (None: all), with the
        documents past their tally_due_ts that the sweep has not re-tallied yet counted as
        now. Reads the tallies and at most UNSWEPT_LIMIT documents of each collection."""
        query = _in_region(region)
        if dimension:
            query["dimension"] = dimension
        query["_id"] = {"$ne": TALLIED_MARK}
        found = {
            (doc["region"], doc["dimension"], doc["key"]): _counts_of(doc)
            for doc in self.db.review_tallies.find(query)
        }
        for collection in TALLIED_COLLECTIONS[::2]:  # reviews never change with time
            late = self.db[collection].find({"tally_due_ts": {"$lt": now.timestamp()}})
            tallies.adjusted(found, collection, late.limit(UNSWEPT_LIMIT), now)
        return {
            tally: {name: n for name, n in counts.items() if n}
            for tally, counts in found.items()
            if region_covers(region, tally[0] or None) and dimension in (None, tally[1])
        }

    def retally_due(self, now, limit=UNSWEPT_LIMIT):
        """Re-tally applications and cases whose counts changed with time (a review window
        closed, a deadline passed): the sweep's part of the tallies. Bounded per call."""
        for collection in TALLIED_COLLECTIONS[::2]:
            for doc in (
                self.db[collection].find({"tally_due_ts": {"$lt": now.timestamp()}}).limit(limit)
            ):
                self._save_tallied(collection, doc, _read(doc), {}, now)

    def recount_review_statistics(self, now, region=None):
        """dimension -> groups, from every application, review and case (O(documents)):
        what the tallies must agree with (domain.statistics, as before the tallies)."""
        applications, reviews, cases = (
            self.decided_applications(region),
            self.all_reviews(region),
            self.all_cases(region),
        )
        return {
            dimension: domain.statistics(applications, reviews, cases, dimension, now)
            for dimension in domain.DIMENSIONS
        }

    def tallied_review_statistics(self, now, region=None):
        """dimension -> groups, from the tallies (what GET /api/reviews/stats answers)."""
        found = self.review_tallies(now, region)
        return {dimension: tallies.groups(found, dimension) for dimension in domain.DIMENSIONS}

    def check_review_tallies(self, now, region=None):
        """The dimensions whose tallied statistics differ from a recount: {dimension:
        {"tallied": groups, "recounted": groups}}; empty when they agree."""
        tallied = self.tallied_review_statistics(now, region)
        recounted = self.recount_review_statistics(now, region)
        return {
            dimension: {"tallied": tallied[dimension], "recounted": recounted[dimension]}
            for dimension in domain.DIMENSIONS
            if tallied[dimension] != recounted[dimension]
        }

    def rebuild_review_tallies(self, now=None):
        """Recount the tallies from every application, review and case, and store what each
        counts for (once, when they do not exist yet; or by an operator after a crash between
        a document's write and its tallies, docs/adr/0016)."""
        now = now or utcnow()
        totals = []
        for collection in TALLIED_COLLECTIONS:
            for doc in self.db[collection].find({}):
                doc = _read(doc)
                fields = {}
                if collection == "applications" and "reviewed_targets" not in doc:
                    targets = {r["target"] for r in self.reviews_of(doc["_id"])}
                    doc["reviewed_targets"] = fields["reviewed_targets"] = sorted(targets)
                rows = tallies.contribution(collection, doc, now)
                fields.update(tallied=rows, tally_due_ts=tallies.due_ts(collection, doc, now))
                self.db[collection].update_one({"_id": doc["_id"]}, {"$set": fields})
                totals.extend(rows)
        self.db.review_tallies.delete_many({})
        for (region, dimension, key), counts in tallies.difference([], totals).items():
            self.db.review_tallies.insert_one(
                {
                    "_id": f"{region}|{dimension}|{key}",
                    "region": region,
                    "dimension": dimension,
                    "key": key,
                    **{COUNT + name: n for name, n in counts.items()},
                }
            )
        self.db.review_tallies.insert_one({"_id": TALLIED_MARK})

    # -- the recount's reads: every document (O(documents); never on a request) ------------
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


def _counts_of(tally):
    return {k[len(COUNT) :]: n for k, n in tally.items() if k.startswith(COUNT)}


def _in_region(region):
    """The query part confining records to a staff member's region (None: no confinement)."""
    return {"region": region_query(region)} if region else {}
