"""Review rules as pure functions: no nameko, no pymongo."""
LEVELS = {5: "very_satisfied", 4: "satisfied", 3: "basically_satisfied", 2: "dissatisfied",
          1: "very_dissatisfied"}
BAD_SCORES = (1, 2)
REVIEWABLE_STATUSES = ("approved", "rejected", "withdrawn")


class ReviewRefused(Exception):
    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def check_reviewable(application, existing_review):
    """Raise ReviewRefused unless the application may be reviewed now."""
    if application is None:
        raise ReviewRefused(404, "no such application")
    if application["status"] not in REVIEWABLE_STATUSES:
        raise ReviewRefused(409, "only a decided or withdrawn application can be reviewed; "
                                 f"this one is {application['status']}")
    if existing_review is not None:
        raise ReviewRefused(409, "this application has already been reviewed")


def is_bad(score):
    return score in BAD_SCORES
