"""license's own database: issued licences."""
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from onestop.common.mongo import MongoStore


class LicenseStore(MongoStore):
    def ensure_indexes(self):
        self.db.licenses.create_index([("holder.id_number", ASCENDING), ("issued_at", DESCENDING)])

    def insert(self, licence):
        """Store a signed licence; False when it was already issued."""
        try:
            self.db.licenses.insert_one(dict(licence, _id=licence["id"], status="valid"))
        except DuplicateKeyError:
            return False
        return True

    def get(self, licence_id):
        doc = self.db.licenses.find_one({"_id": licence_id})
        if doc:
            doc.pop("_id")
        return doc

    def by_holder(self, id_number):
        docs = list(self.db.licenses.find({"holder.id_number": id_number}))
        for doc in docs:
            doc.pop("_id")
        return docs
