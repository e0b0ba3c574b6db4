"""The published statistics' Prometheus counterparts (docs/metrics.md, docs/adr/0016).

Counted from the difference a refresh applied to the buckets (statistics.refresh), so a
replayed event counts nothing. Only figures that never go down are counters (a follow-up
review moves a review from one level to another: the levels stay in
feedback_reviews_total and GET /api/statistics). Labels are bounded: figure (the fixed
list below), channel (3), department (catalog codes and service_center), city (the
prefecture-level division of the application's region: 14 in Hunan, plus the province).
"""

from prometheus_client import Counter

from services.feedback.statistics import ALL, bucket_dimensions

COUNTED = (
    "submitted",
    "decided",
    "decided_on_time",
    "working_days",
    "materials_saved",
    "visits_saved",
    "withdrawn",
    "rectifications_opened",
    "rectifications_closed",
)
BY_DEPARTMENT = ("submitted", "decided", "decided_on_time", "working_days")
BY_CITY = ("submitted", "decided", "decided_on_time")

FIGURES_TOTAL = Counter(
    "feedback_statistics_total",
    "Published statistics by figure and channel (submitted, decided, decided_on_time, "
    "working_days to decision summed, materials_saved, visits_saved, withdrawn, "
    "rectifications_opened/closed)",
    ["figure", "channel"],
)
DEPARTMENT_TOTAL = Counter(
    "feedback_statistics_department_total",
    "Published statistics by department taking part (submitted, decided, decided_on_time, "
    "working_days)",
    ["figure", "department"],
)
CITY_TOTAL = Counter(
    "feedback_statistics_city_total",
    "Published statistics by the city (prefecture-level division) of the application's "
    "region (submitted, decided, decided_on_time)",
    ["figure", "city"],
)


def city_of(region):
    """The prefecture-level division of a GB/T 2260 code (the province stays itself)."""
    return region if region.endswith("0000") else region[:4] + "00"


def count(diff):
    """Count what a refresh applied (only increases of the figures above)."""
    for key, figures in diff.items():
        dims = bucket_dimensions(key)
        for figure, delta in figures.items():
            if delta <= 0:
                continue
            if dims["department"] == ALL:
                if figure in COUNTED:
                    FIGURES_TOTAL.labels(figure, dims["channel"]).inc(delta)
                if figure in BY_CITY:
                    CITY_TOTAL.labels(figure, city_of(dims["region"])).inc(delta)
            elif figure in BY_DEPARTMENT:
                DEPARTMENT_TOTAL.labels(figure, dims["department"]).inc(delta)
