"""feedback's business metrics (docs/metrics.md): counters of what happened, and review
statistics as gauges read from the store's tallies at each scrape (docs/adr/0016).

Labels are bounded: department (a catalog code, or service_center), dimension (department,
item, scenario), key (a catalog code), level (the five levels), state. Ratios are omitted
while their denominator is zero, so a 100% that means "no reviews" is never shown.
"""

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from onestop.contracts.events import (
    RECTIFICATION_CLOSED,
    RECTIFICATION_OPENED,
    RECTIFICATION_OVERDUE,
)
from services.feedback import domain, tallies

REVIEWS = Counter(
    "feedback_reviews_total",
    "Reviews by target and level (department service_center: the application as a whole)",
    ["department", "level"],
)
FOLLOW_UPS = Counter(
    "feedback_follow_up_reviews_total", "Follow-up reviews by level", ["department", "level"]
)
CASES_OPENED = Counter(
    "feedback_rectification_cases_opened_total",
    "Rectification cases opened by bad reviews",
    ["department"],
)
CASES_CLOSED = Counter(
    "feedback_rectification_cases_closed_total",
    "Rectification cases closed, by the applicant's answer (confirmed, not_answered)",
    ["department", "answer"],
)
OVERDUE = Counter(
    "feedback_rectifications_overdue_total",
    "Rectification deadlines passed (published as rectification_overdue)",
    ["department", "deadline"],
)
NOT_REVIEWED = Counter(
    "feedback_applications_not_reviewed_total",
    "Decided applications whose review window closed without a review",
    ["scenario"],
)


def count_case_events(case, events):
    """Count what a stored change of a case published: opened, overdue, closed."""
    for event_type, body in events:
        if event_type == RECTIFICATION_OPENED:
            CASES_OPENED.labels(case["department"]).inc()
        elif event_type == RECTIFICATION_OVERDUE:
            OVERDUE.labels(case["department"], body["deadline"]).inc()
        elif event_type == RECTIFICATION_CLOSED:
            CASES_CLOSED.labels(case["department"], case["confirmation"]["answer"]).inc()


def store_gauges(store, now):
    """The gauges from the review tallies (docs/adr/0016): a scrape reads the tallies and a
    bounded number of documents, whatever the number of applications, reviews and cases."""
    found = store.review_tallies(now)
    cases = GaugeMetricFamily(
        "feedback_rectification_cases", "Rectification cases by state now", labels=["state"]
    )
    counts = tallies.cases_by_state(found)
    for state in domain.CASE_STATES:
        cases.add_metric([state], counts.get(state, 0))
    yield cases

    open_cases = GaugeMetricFamily(
        "feedback_rectification_cases_open",
        "Open rectification cases by department",
        labels=["department"],
    )
    overdue_cases = GaugeMetricFamily(
        "feedback_rectification_cases_overdue",
        "Open rectification cases past a deadline, by department",
        labels=["department"],
    )
    for department, (opened, overdue) in sorted(tallies.cases_by_department(found).items()):
        open_cases.add_metric([department], opened)
        overdue_cases.add_metric([department], overdue)
    yield open_cases
    yield overdue_cases
    families = {
        "levels": GaugeMetricFamily(
            "feedback_review_levels",
            "Reviews by their (latest) level",
            labels=["dimension", "key", "level"],
        ),
        "review_state": GaugeMetricFamily(
            "feedback_applications_review_state",
            "Decided applications: reviewed, awaiting_review (window open), not_reviewed",
            labels=["dimension", "key", "state"],
        ),
        "good": GaugeMetricFamily(
            "feedback_good_review_ratio",
            "Good reviews (very satisfied, satisfied, basically satisfied) / reviews",
            labels=["dimension", "key"],
        ),
        "active": GaugeMetricFamily(
            "feedback_active_review_ratio",
            "Reviewed / decided applications",
            labels=["dimension", "key"],
        ),
        "rectified": GaugeMetricFamily(
            "feedback_rectification_ratio",
            "Closed rectification cases / cases",
            labels=["dimension", "key"],
        ),
        "timely": GaugeMetricFamily(
            "feedback_rectification_timeliness_ratio",
            "Steps done by their deadline / steps done or overdue",
            labels=["dimension", "key", "deadline"],
        ),
    }
    for dimension in domain.DIMENSIONS:
        for group in tallies.groups(found, dimension):
            key = [dimension, group["key"]]
            for level, count in group["levels"].items():
                families["levels"].add_metric(key + [level], count)
            for state in ("reviewed", "awaiting_review", "not_reviewed"):
                families["review_state"].add_metric(key + [state], group[state])
            _ratio(families["good"], key, group["good_review_rate"])
            _ratio(families["active"], key, group["active_review_rate"])
            rectification = group["rectification"]
            _ratio(families["rectified"], key, rectification["rate"])
            _ratio(families["timely"], key + ["return_visit"], rectification["visit_timeliness"])
            _ratio(
                families["timely"],
                key + ["rectification"],
                rectification["rectification_timeliness"],
            )
    yield from families.values()


def _ratio(family, labels, value):
    if value is not None:
        family.add_metric(labels, value)
