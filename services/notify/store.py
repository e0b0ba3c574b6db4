"""notify's own database: notifications (one per event, person and channel; a delivery
channel's carries its outbox entry), the applicant of each application, and preferences."""

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError

from onestop.common.store import MongoStore

BOOKKEEPING = ("outbox", "outbox_pending", "updated_ts", "rev")
DUPLICATE_KEY = 11000


class NotifyStore(MongoStore):
    def ensure_indexes(self):
        notifications = self.db.notifications
        # at most once per event, person and channel (the ids are derived from the same
        # three, so a replay already collides on _id; the index states the rule itself)
        notifications.create_index(
            [("event_key", ASCENDING), ("person", ASCENDING), ("channel", ASCENDING)],
            unique=True,
        )
        notifications.create_index(
            [("person", ASCENDING), ("channel", ASCENDING), ("created_ts", DESCENDING)]
        )
        notifications.create_index("outbox_pending")  # the outbox sweep's lookup

    def remember_applicant(self, application_id, id_number, now):
        self.db.applications.update_one(
            {"_id": application_id},
            {"$setOnInsert": {"applicant_id": id_number, "at": now.isoformat()}},
            upsert=True,
        )

    def applicant_of(self, application_id):
        doc = self.db.applications.find_one({"_id": application_id}, {"applicant_id": 1})
        return doc["applicant_id"] if doc else None

    def add(self, doc, outbox, now):
        """Store one notification with its outbox entries; False when it exists already."""
        return doc["_id"] in self.add_all([(doc, outbox)], now)

    def add_all(self, docs, now):
        """Store a notice's notifications, each (doc, its outbox entries), in one round trip
        (an unordered insert); the ids stored. One that exists already (a replay: the unique
        index) is left as it was; any other failure is raised."""
        prepared = [
            dict(doc, rev=1, outbox=outbox, outbox_pending=bool(outbox), updated_ts=now.timestamp())
            for doc, outbox in docs
        ]
        if not prepared:
            return set()
        try:
            self.db.notifications.insert_many(prepared, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or not errors:
                raise
            existing = {prepared[e["index"]]["_id"] for e in errors}
            return {d["_id"] for d in prepared} - existing
        return {d["_id"] for d in prepared}

    def get(self, notification_id):
        doc = self.db.notifications.find_one({"_id": notification_id})
        return {k: v for k, v in doc.items() if k not in BOOKKEEPING} if doc else None

    def inbox(self, person, offset, limit, unread_only=False):
        """(a page of the person's inbox, newest first; how many in all; how many unread)."""
        query = {"person": person, "channel": "inbox"}
        unread = dict(query, read=False)
        page = list(
            self.db.notifications.find(unread if unread_only else query)
            .sort([("created_ts", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        total = self.db.notifications.count_documents(unread if unread_only else query)
        return page, total, self.db.notifications.count_documents(unread)

    def mark_read(self, notification_id, person, now):
        """The notification, read (the first time sets read_at); None when it is not this
        person's inbox notification."""
        self.db.notifications.update_one(
            {"_id": notification_id, "person": person, "channel": "inbox", "read": False},
            {"$set": {"read": True, "read_at": now.isoformat()}},
        )
        doc = self.db.notifications.find_one(
            {"_id": notification_id, "person": person, "channel": "inbox"}
        )
        return doc

    def settle_delivery(self, notification_id, state, now, error=None, published=()):
        """One attempt's outcome: delivered, skipped (channel no longer offered) or failing
        (with the error), the attempt counted. `published`: the ids of the outbox entries
        that carried this delivery's message (the notification's whole outbox), removed in
        the same update (docs/adr/0028)."""
        at = now.isoformat()
        change = {
            "$set": {"state": state, "settled_at": at, "last_error": error, "last_attempt_at": at},
            "$inc": {"attempts": 1},
        }
        if published:
            change["$set"]["outbox_pending"] = False
            change["$unset"] = {f"outbox.{message_id}": "" for message_id in published}
        self.db.notifications.update_one({"_id": notification_id}, change)

    def preferences(self, person):
        return self.db.preferences.find_one({"_id": person}, {"_id": 0})

    def save_preferences(self, person, preferences, now):
        # $set with upsert, not replace_one: the embedded store's replace_one upsert drops
        # the filter's _id (it inserts under a new ObjectId)
        self.db.preferences.update_one(
            {"_id": person},
            {"$set": dict(preferences, updated_at=now.isoformat())},
            upsert=True,
        )
