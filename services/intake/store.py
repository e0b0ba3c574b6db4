"""intake's own database: applications (with their outbox and status view) and uploads."""

import hashlib
import uuid

import gridfs
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from onestop.common.scopes import region_query
from onestop.common.store import MongoStore


# what a list of applications shows of each (the whole document: GET /api/applications/<id>)
LIST_FIELDS = {
    "scenario": 1,
    "catalog_version": 1,
    "status": 1,
    "channel": 1,
    "region": 1,
    "applicant": 1,
    "submitted_at": 1,
    "decision": 1,
}


class IntakeStore(MongoStore):
    def ensure_indexes(self):
        self.db.applications.create_index("idempotency_key", unique=True)
        self.db.applications.create_index([("outbox_pending", 1), ("updated_ts", 1)])
        self.db.applications.create_index("outbox_pending")  # the sweep's lookup (adr/0009)
        self.db.applications.create_index("applicant.id_number")
        self.db.applications.create_index("submitted_by.sub")  # a clerk's own submissions
        self.db.applications.create_index("submitted_at")  # lists, newest first
        self.db.applications.create_index("region")  # a supervisor's or a clerk's region

    # -- uploads ------------------------------------------------------------
    def save_upload(self, data, filename, content_type, now, uploaded_by=None):
        file_id = uuid.uuid4().hex
        grid_id = gridfs.GridFS(self.db).put(data, filename=filename)
        doc = {
            "_id": file_id,
            "grid_id": grid_id,
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "uploaded_at": now,
            "uploaded_by": uploaded_by,
        }
        self.db.uploads.insert_one(doc)
        return doc

    def own_uploads(self, file_ids, owner):
        """The ids among `file_ids` of uploads that `owner` ({"role", "sub"}) uploaded."""
        file_ids = list(file_ids)
        if not file_ids:
            return set()
        query = {
            "_id": {"$in": file_ids},
            "uploaded_by.role": owner["role"],
            "uploaded_by.sub": owner["sub"],
        }
        return {d["_id"] for d in self.db.uploads.find(query, {"_id": 1})}

    def get_upload(self, file_id):
        return self.db.uploads.find_one({"_id": file_id})

    def read_upload(self, upload):
        return gridfs.GridFS(self.db).get(upload["grid_id"]).read()

    # -- applications -------------------------------------------------------
    def insert_application(self, application, outbox, now):
        """Store a new application with its outbox; None when stored, else the application
        already stored under its idempotency key."""
        doc = dict(
            application,
            rev=1,
            created_at=now,
            updated_at=now,
            updated_ts=now.timestamp(),
            outbox=outbox,
            outbox_pending=True,
        )
        try:
            self.db.applications.insert_one(doc)
        except DuplicateKeyError:
            existing = self.db.applications.find_one(
                {"idempotency_key": application["idempotency_key"]}
            )
            if existing is None:
                raise
            return existing
        return None

    def get_application(self, application_id):
        return self.db.applications.find_one({"_id": application_id}, {"outbox": 0})

    def list_applications(self, criteria, limit, offset):
        """A page of applications matching `criteria` (services.intake.domain.list_criteria),
        newest first, and whether more follow. No count of all matches: the embedded store
        answers a count by reading the whole collection (docs/adr/0009), and a page needs
        only to know if there is a next one."""
        query = {}
        if criteria["clerk"]:
            query.update({"submitted_by.sub": criteria["clerk"], "submitted_by.role": "clerk"})
        if criteria["applicant"]:
            query["applicant.id_number"] = criteria["applicant"]
        if criteria.get("region"):
            query["region"] = region_query(criteria["region"])
        query.update({name: criteria[name] for name in ("status", "scenario") if criteria[name]})
        found = list(
            self.db.applications.find(query, LIST_FIELDS)
            .sort([("submitted_at", -1), ("_id", 1)])
            .skip(offset)
            .limit(limit + 1)
        )
        return found[:limit], len(found) > limit

    def add_events(self, application_id, outbox, now, changes=None):
        """Queue messages on an application's outbox (with optional field changes) in one
        update; the application after the write (its `rev`, its whole `outbox`), or None
        if there is no such application."""
        return self.db.applications.find_one_and_update(
            {"_id": application_id},
            {
                "$set": {
                    **{f"outbox.{message_id}": entry for message_id, entry in outbox.items()},
                    "outbox_pending": True,
                    "updated_at": now,
                    "updated_ts": now.timestamp(),
                    **(changes or {}),
                },
                "$inc": {"rev": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    def apply_view(self, application_id, view, now):
        """Store routing's snapshot if it is newer than the one held (out-of-order safe)."""
        result = self.db.applications.update_one(
            {"_id": application_id, "view_rev": {"$lt": view["rev"]}},
            {
                "$set": {
                    "view_rev": view["rev"],
                    "status": view["status"],
                    "tasks": view["tasks"],
                    "decision": view.get("decision"),
                    "acceptance": view.get("acceptance"),
                    "due": view.get("due"),
                    "notices": view.get("notices", []),
                    "view_updated_at": now,
                }
            },
        )
        return result.modified_count == 1
