"""The catalog's own database: every loaded version of the catalog data."""

from onestop.common.store import MongoStore


class CatalogStore(MongoStore):
    def ensure_indexes(self):
        self.db.versions.create_index("hash", unique=True)

    def versions(self):
        return list(self.db.versions.find({}, {"data": 0}).sort("_id", 1))

    def version_data(self, version):
        doc = self.db.versions.find_one({"_id": version})
        return doc and doc["data"]

    def latest(self):
        docs = list(self.db.versions.find({}, {"data": 0}).sort("_id", -1).limit(1))
        return docs[0] if docs else None

    def add_version(self, version, data_hash, data, loaded_at):
        self.db.versions.insert_one(
            {"_id": version, "hash": data_hash, "data": data, "loaded_at": loaded_at}
        )

    def version_by_hash(self, data_hash):
        return self.db.versions.find_one({"hash": data_hash}, {"data": 0})
