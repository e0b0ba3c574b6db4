"""routing's own database: one workflow document per application (tasks keyed by item code).

Writes are optimistic: a workflow is saved only if its revision is the one that
was read, so two routing processes never lose each other's updates.

Each process remembers the workflows it wrote in the last moments (`remembered`), so that
the next change of an application whose results arrive in a burst starts from what it
wrote instead of a store read; a workflow another process wrote since fails the compare-
and-set, and the caller reads it from the store. A change that would write nothing is
judged again on the stored workflow (docs/adr/0011).
"""

import time
from collections import OrderedDict

from pymongo.errors import DuplicateKeyError

from onestop.common.store import MongoStore


def open_offices(workflow):
    """The offices holding a task of this workflow that awaits their decision, or their
    confirmation of its fee's payment (indexed)."""
    return sorted(
        {
            t["office"]
            for t in workflow["tasks"].values()
            if t["state"] in ("sent", "awaiting_payment")
        }
    )


RECENT_WORKFLOWS = 2000  # remembered per process at most (undecided ones; a few kB each)
# routing's two timing windows, kept together because one must stay below the other
# (docs/adr/0011): published outbox entries are removed by the document's next write, or
# without a write after SETTLE_DELAY_SECONDS (the service's Outbox, settle_later); a
# remembered workflow is used for REMEMBERED_SECONDS only, so it never lists entries that
# were removed without a write
SETTLE_DELAY_SECONDS = 0.25
REMEMBERED_SECONDS = 0.2
assert REMEMBERED_SECONDS < SETTLE_DELAY_SECONDS, "a remembered workflow would outlive its outbox"
# not decided, as the workload gauges count them (routing/gauges.py)
TERMINAL_STATUSES = ("approved", "rejected", "withdrawn", "cancelled", "not_accepted")


class RoutingStore(MongoStore):
    def __init__(
        self, db, remember=RECENT_WORKFLOWS, remembered_seconds=None, clock=time.monotonic
    ):
        super().__init__(db)
        self.remember = remember
        self.remembered_seconds = (
            REMEMBERED_SECONDS if remembered_seconds is None else remembered_seconds
        )
        self.clock = clock
        # application id -> (when, the workflow as this process wrote it), oldest first
        self.recent = OrderedDict()

    def ensure_indexes(self):
        self.db.workflows.create_index([("outbox_pending", 1), ("updated_ts", 1)])
        self.db.workflows.create_index([("status", 1), ("updated_ts", 1)])
        # single-field indexes: the embedded store uses no compound index for a range, and
        # without these the sweeps below read the whole collection every few seconds
        # (docs/adr/0009)
        for field in ("outbox_pending", "status", "watch_ts"):
            self.db.workflows.create_index(field)

    def get(self, application_id):
        return self.db.workflows.find_one({"_id": application_id})

    def remembered(self, application_id):
        """The workflow as this process wrote it in the last moments, or None. Possibly
        stale (another process wrote since): trust it only to write over it, by compare-
        and-set, which then fails; a judgement that writes nothing (a result found late or
        refused) must be made again on `get`."""
        kept = self.recent.get(application_id)
        if kept is not None:
            if self.clock() - kept[0] < self.remembered_seconds:
                return kept[1]
            del self.recent[application_id]
        return None

    def _written(self, doc):
        application_id, now = doc["_id"], self.clock()
        self.recent.pop(application_id, None)
        if doc.get("decision") is None:  # decided: no more writes are expected
            self.recent[application_id] = (now, doc)
        while self.recent and (
            len(self.recent) > self.remember
            or now - next(iter(self.recent.values()))[0] >= self.remembered_seconds
        ):
            self.recent.popitem(last=False)

    def forget(self, application_id):
        self.recent.pop(application_id, None)

    def insert(self, workflow, outbox_entries, now):
        """Store a new workflow with its outbox; False if it was already there."""
        doc = dict(
            workflow,
            rev=1,
            outbox=outbox_entries,
            outbox_pending=True,
            created_at=now,
            updated_at=now,
            updated_ts=now.timestamp(),
            open_offices=open_offices(workflow),
        )
        try:
            self.db.workflows.insert_one(doc)
        except DuplicateKeyError:
            return False
        self._written(doc)
        return True

    def save(self, workflow, outbox_entries, now, remove=()):
        """Write the changed workflow if nobody else did since it was read; True on success.
        `remove`: ids of outbox entries already published, removed by the same update."""
        update = {
            "tasks": workflow["tasks"],
            "status": workflow["status"],
            "decision": workflow["decision"],
            "history": workflow["history"],
            "materials": workflow["materials"],
            "due": workflow.get("due"),
            "acceptance": workflow.get("acceptance"),
            "notices": workflow.get("notices", []),
            "watch_ts": workflow.get("watch_ts"),
            "overdue_count": workflow.get("overdue_count", 0),
            "rev": workflow["rev"] + 1,
            "updated_at": now,
            "updated_ts": now.timestamp(),
            "outbox_pending": True,
            "open_offices": open_offices(workflow),
        }
        update.update({f"outbox.{message_id}": e for message_id, e in outbox_entries.items()})
        change = {"$set": update}
        if remove:
            change["$unset"] = {f"outbox.{message_id}": "" for message_id in remove}
        result = self.db.workflows.update_one(
            {"_id": workflow["_id"], "rev": workflow["rev"]}, change
        )
        if result.matched_count != 1:
            self.forget(workflow["_id"])
            return False
        kept = {m: e for m, e in (workflow.get("outbox") or {}).items() if m not in remove}
        self._written(
            dict(
                workflow,
                **{k: v for k, v in update.items() if "." not in k},
                outbox=dict(kept, **outbox_entries),
            )
        )
        return True

    def with_open_tasks_at(self, office, limit=500):
        """Workflows where `office` has a task awaiting its decision."""
        return list(self.db.workflows.find({"open_offices": office}, {"outbox": 0}).limit(limit))

    def stale_in_review(self, now, older_than_seconds=10, limit=200):
        cutoff = now.timestamp() - older_than_seconds
        # one equality per status (an index lookup), not $in (a scan on the embedded store)
        found = []
        for status in ("in_review", "awaiting_correction", "awaiting_payment"):
            found.extend(
                self.db.workflows.find({"status": status, "updated_ts": {"$lt": cutoff}}).limit(
                    limit - len(found)
                )
            )
            if len(found) >= limit:
                break
        return found

    def due_for_supervision(self, now, limit=200):
        """Workflows with a task whose promised or legal limit has passed (watch_ts)."""
        return list(
            self.db.workflows.find({"watch_ts": {"$lt": now.timestamp()}}, {"outbox": 0})
            .sort("watch_ts", 1)
            .limit(limit)
        )

    def unfinished(self):
        """Workflows not decided yet, with what the workload gauges count."""
        return self.db.workflows.find(
            {"status": {"$nin": list(TERMINAL_STATUSES)}},
            {"status": 1, "scenario": 1, "due": 1, "tasks": 1},
        )

    def with_overdue_tasks(self, limit=1000):
        return list(
            self.db.workflows.find({"overdue_count": {"$gt": 0}}, {"outbox": 0}).limit(limit)
        )

    def accepting(self, limit=500):
        """Workflows awaiting the hall's acceptance, oldest first (an index lookup by status)."""
        return list(
            self.db.workflows.find({"status": "accepting"}, {"outbox": 0})
            .sort("updated_ts", 1)
            .limit(limit)
        )
