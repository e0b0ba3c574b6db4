"""The published statistics' part of feedback's database (services/feedback/statistics.py).

- `statistics_applications`: per application, the facts the events told (`submitted`,
  `decided`), what it contributes to the buckets now (`contributed`), a revision `rev`
  for compare-and-set, and `quiet: true` while no review or case of it has been noticed
  (docs/adr/0028);
- `statistics_buckets`: one document per month x department x region x channel, its
  figures as top-level numbers, `$inc`-ed by the difference of a contribution.

Reviews and cases are read from feedback's own collections by application id (indexed).
Only simple operations: upsert with `$set`/`$inc`, compare-and-set on `rev` (no
`$setOnInsert`, no `arrayFilters`: docs/adr/0002).
"""

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from onestop.common.store import MongoStore
from services.feedback.statistics import FIGURES, bucket_dimensions

FACTS = "statistics_applications"
BUCKETS = "statistics_buckets"


class StatisticsStore(MongoStore):
    def ensure_indexes(self):
        self.db[BUCKETS].create_index([("department", ASCENDING), ("month", ASCENDING)])
        self.db.reviews.create_index("application_id")
        self.db.cases.create_index("application_id")

    # -- facts --------------------------------------------------------------------------
    def note_facts(self, application_id, name, facts):
        """Keep the facts of one event (`submitted` or `decided`); the same again is a no-op.
        Returns the application's document as it is after the write (one round trip for the
        write and the read statistics.refresh starts from)."""
        return self.db[FACTS].find_one_and_update(
            {"_id": application_id},
            {"$set": {name: facts}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    def insert_facts(self, doc):
        """Insert an application's first facts document; False when it exists already."""
        try:
            self.db[FACTS].insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def note_engaged(self, application_id):
        """A review or case of the application changed: never `quiet` again (upserted, so
        that a first event arriving later finds the document and is not marked quiet)."""
        self.db[FACTS].update_one({"_id": application_id}, {"$set": {"quiet": False}}, upsert=True)

    def facts(self, application_id):
        return self.db[FACTS].find_one({"_id": application_id})

    def reviews_of(self, application_id):
        return list(self.db.reviews.find({"application_id": application_id}, REVIEW_FIELDS))

    def cases_of(self, application_id):
        return list(self.db.cases.find({"application_id": application_id}, CASE_FIELDS))

    def save_contribution(self, application_id, rev, contributed):
        """Compare-and-set the application's contribution; False when it changed meanwhile."""
        query = {"_id": application_id, "rev": rev if rev is not None else {"$exists": False}}
        result = self.db[FACTS].update_one(
            query, {"$set": {"contributed": contributed, "rev": (rev or 0) + 1}}
        )
        return result.modified_count == 1

    def add_to_buckets(self, diff):
        """One round trip for every bucket the difference moves (an application moves K+1
        of them per event): an ordered bulk write, applied in key order and stopping at
        the first failure, as the one-by-one updates it replaces did (docs/adr/0027)."""
        if not diff:
            return
        self.db[BUCKETS].bulk_write(
            [
                UpdateOne(
                    {"_id": key}, {"$set": bucket_dimensions(key), "$inc": figures}, upsert=True
                )
                for key, figures in sorted(diff.items())
            ],
            ordered=True,
        )

    # -- reading ------------------------------------------------------------------------
    def buckets(self, department, month_from=None, month_to=None):
        """{bucket key: {figure: value}} of one department (or ALL), months in a range."""
        query = {"department": department}
        months = {}
        if month_from:
            months["$gte"] = month_from
        if month_to:
            months["$lte"] = month_to
        if months:
            query["month"] = months
        return {doc["_id"]: _figures(doc) for doc in self.db[BUCKETS].find(query)}

    def all_buckets(self):
        return {doc["_id"]: _figures(doc) for doc in self.db[BUCKETS].find({})}

    # -- the recount --------------------------------------------------------------------
    def all_facts(self):
        return list(self.db[FACTS].find({}, {"submitted": 1, "decided": 1}))

    def all_reviews(self):
        return list(self.db.reviews.find({}, REVIEW_FIELDS))

    def all_cases(self):
        return list(self.db.cases.find({}, CASE_FIELDS))

    def replace_buckets(self, buckets, contributions):
        """Rebuild: the buckets and every application's contribution as recounted (an
        operator's repair after a crash between a contribution and its `$inc`)."""
        self.db[BUCKETS].delete_many({})
        for key, figures in sorted(buckets.items()):
            self.db[BUCKETS].insert_one(dict(bucket_dimensions(key), _id=key, **figures))
        for application_id, contributed in contributions.items():
            # the recount read the reviews and cases: from now on every refresh reads them
            # too (a quiet one would take back what the recount counted; docs/adr/0028)
            self.db[FACTS].update_one(
                {"_id": application_id},
                {"$set": {"contributed": contributed, "quiet": False}, "$inc": {"rev": 1}},
            )


REVIEW_FIELDS = {
    "application_id": 1,
    "target": 1,
    "level": 1,
    "follow_up": 1,
    "created_at": 1,
}
CASE_FIELDS = {"application_id": 1, "department": 1, "state": 1, "opened_at": 1, "closed_at": 1}


def _figures(doc):
    return {f: doc[f] for f in FIGURES if doc.get(f)}
