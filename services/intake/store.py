"""intake's own database: applications (with their outbox and status view) and uploads."""
import hashlib
import uuid

import gridfs
from pymongo.errors import DuplicateKeyError

from onestop.common.store import MongoStore


# what a list of applications shows of each (the whole document: GET /api/applications/<id>)
LIST_FIELDS = {"scenario": 1, "catalog_version": 1, "status": 1, "channel": 1, "region": 1,
               "applicant": 1, "submitted_at": 1, "decision": 1}


class DuplicateApplication(Exception):
    def __init__(self, existing):
        super().__init__(existing["_id"])
        self.existing = existing


class IntakeStore(MongoStore):
    def ensure_indexes(self):
        self.db.applications.create_index("idempotency_key", unique=True)
        self.db.applications.create_index([("outbox_pending", 1), ("updated_ts", 1)])
        self.db.applications.create_index("outbox_pending")  # the sweep's lookup (adr/0009)
        self.db.applications.create_index("applicant.id_number")
        self.db.applications.create_index("submitted_by.sub")  # a clerk's own submissions
        self.db.applications.create_index("submitted_at")  # lists, newest first

    @property
    def applications(self):
        return self.db.applications

    # -- uploads ------------------------------------------------------------
    def save_upload(self, data, filename, content_type, now, uploaded_by=None):
        file_id = uuid.uuid4().hex
        grid_id = gridfs.GridFS(self.db).put(data, filename=filename)
        doc = {"_id": file_id, "grid_id": grid_id, "filename": filename,
               "content_type": content_type, "size": len(data),
               "sha256": hashlib.sha256(data).hexdigest(), "uploaded_at": now,
               "uploaded_by": uploaded_by}
        self.db.uploads.insert_one(doc)
        return doc

    def existing_uploads(self, file_ids):
        file_ids = list(file_ids)
        if not file_ids:  # an application without uploads costs no round trip
            return set()
        return {d["_id"] for d in self.db.uploads.find({"_id": {"$in": file_ids}}, {"_id": 1})}

    def get_upload(self, file_id):
        return self.db.uploads.find_one({"_id": file_id})

    def read_upload(self, upload):
        return gridfs.GridFS(self.db).get(upload["grid_id"]).read()

    # -- applications -------------------------------------------------------
    def insert_application(self, doc):
        """Insert, or raise DuplicateApplication with the one already stored under the key."""
        try:
            self.applications.insert_one(doc)
        except DuplicateKeyError:
            existing = self.applications.find_one({"idempotency_key": doc["idempotency_key"]})
            if existing is None:
                raise
            raise DuplicateApplication(existing) from None

    def get_application(self, application_id):
        return self.applications.find_one({"_id": application_id}, {"outbox": 0})

    def list_applications(self, query, limit, offset):
        """A page of applications matching `query`, newest first, and whether more follow.
        No count of all matches: the embedded store answers a count by reading the whole
        collection (docs/adr/0009), and a page needs only to know if there is a next one."""
        found = list(self.applications.find(query, LIST_FIELDS).sort(
            [("submitted_at", -1), ("_id", 1)]).skip(offset).limit(limit + 1))
        return found[:limit], len(found) > limit

    def add_to_outbox(self, application_id, message_id, entry, now, changes=None):
        """Queue one message on an application's outbox (with optional field changes);
        returns the document after the write, or None if there is no such application."""
        from pymongo import ReturnDocument
        return self.applications.find_one_and_update(
            {"_id": application_id},
            {"$set": {f"outbox.{message_id}": entry, "outbox_pending": True, "updated_at": now,
                      "updated_ts": now.timestamp(), **(changes or {})}, "$inc": {"rev": 1}},
            return_document=ReturnDocument.AFTER)

    def apply_view(self, application_id, view, now):
        """Store routing's snapshot if it is newer than the one held (out-of-order safe)."""
        result = self.applications.update_one(
            {"_id": application_id, "view_rev": {"$lt": view["rev"]}},
            {"$set": {"view_rev": view["rev"], "status": view["status"], "tasks": view["tasks"],
                      "decision": view.get("decision"), "view_updated_at": now}})
        return result.modified_count == 1
