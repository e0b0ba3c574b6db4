"""A base for each service's store: the database handle and what every store needs."""


class MongoStore:
    def __init__(self, db):
        self.db = db

    def ensure_indexes(self):
        """Subclasses create their indexes here (idempotent)."""

    def ping(self):
        self.db.command("ping")
