"""feedback's own database: the applications it may be asked about, and their reviews."""
from pymongo.errors import DuplicateKeyError

from onestop.common.mongo import MongoStore


class FeedbackStore(MongoStore):
    def ensure_indexes(self):
        self.db.reviews.create_index("application_id", unique=True)

    def note_submitted(self, application_id, applicant_id, scenario, now):
        if self.db.applications.count_documents({"_id": application_id}, limit=1):
            return
        try:
            self.db.applications.insert_one({"_id": application_id, "status": "submitted",
                                             "applicant_id": applicant_id,
                                             "scenario": scenario, "updated_at": now})
        except DuplicateKeyError:
            pass

    def note_decided(self, decided, now):
        self.db.applications.update_one(
            {"_id": decided["application_id"]},
            {"$set": {"status": decided["decision"]["outcome"],
                      "applicant_id": decided["applicant"]["id_number"],
                      "scenario": decided["scenario"],
                      "departments": sorted({t["department"] for t in decided["tasks"]}),
                      "updated_at": now}}, upsert=True)

    def application(self, application_id):
        return self.db.applications.find_one({"_id": application_id})

    def review_of(self, application_id):
        return self.db.reviews.find_one({"application_id": application_id})

    def add_review(self, review):
        """Store a review; False if the application already has one."""
        try:
            self.db.reviews.insert_one(review)
        except DuplicateKeyError:
            return False
        return True
