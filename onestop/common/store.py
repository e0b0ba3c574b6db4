"""A base for each service's store: the database handle and what every store needs."""


class MongoStore:
    def __init__(self, db):
        self.db = db

    def ensure_indexes(self):
        """Subclasses create their indexes here (idempotent)."""

    def outbox_collection(self, name):
        """The collection whose documents carry outbox entries, for the service's `Outbox`
        provider alone (onestop/common/outbox.py); services call the store's own methods."""
        return self.db[name]

    def ping(self):
        self.db.command("ping")
