"""routing's own database: one workflow document per application (tasks keyed by item code).

Writes are optimistic: a workflow is saved only if its revision is the one that
was read, so two routing processes never lose each other's updates.
"""
from pymongo.errors import DuplicateKeyError

from onestop.common.mongo import MongoStore


def open_offices(workflow):
    """The offices holding a task of this workflow that awaits their decision (indexed)."""
    return sorted({t["office"] for t in workflow["tasks"].values() if t["state"] == "sent"})


class RoutingStore(MongoStore):
    def ensure_indexes(self):
        self.db.workflows.create_index([("outbox_pending", 1), ("updated_ts", 1)])
        self.db.workflows.create_index([("status", 1), ("updated_ts", 1)])
        # single-field indexes: the embedded store uses no compound index for a range, and
        # without these the sweeps below read the whole collection every few seconds
        # (docs/adr/0009)
        for field in ("outbox_pending", "status", "watch_ts"):
            self.db.workflows.create_index(field)

    @property
    def workflows(self):
        return self.db.workflows

    def get(self, application_id):
        return self.workflows.find_one({"_id": application_id})

    def insert(self, workflow, outbox_entries, now):
        """Store a new workflow with its outbox; False if it was already there."""
        doc = dict(workflow, rev=1, outbox=outbox_entries, outbox_pending=True,
                   created_at=now, updated_at=now, updated_ts=now.timestamp(), open_offices=open_offices(workflow))
        try:
            self.workflows.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def save(self, workflow, outbox_entries, now, remove=()):
        """Write the changed workflow if nobody else did since it was read; True on success.
        `remove`: ids of outbox entries already published, removed by the same update."""
        update = {"tasks": workflow["tasks"], "status": workflow["status"],
                  "decision": workflow["decision"], "history": workflow["history"],
                  "materials": workflow["materials"], "watch_ts": workflow.get("watch_ts"),
                  "overdue_count": workflow.get("overdue_count", 0),
                  "rev": workflow["rev"] + 1, "updated_at": now, "updated_ts": now.timestamp(),
                  "outbox_pending": True,
                  "open_offices": open_offices(workflow)}
        update.update({f"outbox.{message_id}": e for message_id, e in outbox_entries.items()})
        change = {"$set": update}
        if remove:
            change["$unset"] = {f"outbox.{message_id}": "" for message_id in remove}
        result = self.workflows.update_one({"_id": workflow["_id"], "rev": workflow["rev"]},
                                           change)
        return result.matched_count == 1

    def with_open_tasks_at(self, office, limit=500):
        """Workflows where `office` has a task awaiting its decision."""
        return list(self.workflows.find({"open_offices": office}, {"outbox": 0}).limit(limit))

    def stale_in_review(self, now, older_than_seconds=10, limit=200):
        cutoff = now.timestamp() - older_than_seconds
        # one equality per status (an index lookup), not $in (a scan on the embedded store)
        found = []
        for status in ("in_review", "awaiting_correction"):
            found.extend(self.workflows.find({"status": status, "updated_ts": {"$lt": cutoff}})
                         .limit(limit - len(found)))
            if len(found) >= limit:
                break
        return found

    def due_for_supervision(self, now, limit=200):
        """Workflows with a task whose promised or legal limit has passed (watch_ts)."""
        return list(self.workflows.find({"watch_ts": {"$lt": now.timestamp()}}, {"outbox": 0})
                    .sort("watch_ts", 1).limit(limit))

    def with_overdue_tasks(self, limit=1000):
        return list(self.workflows.find({"overdue_count": {"$gt": 0}}, {"outbox": 0})
                    .limit(limit))
