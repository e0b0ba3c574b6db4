"""Published statistics (issue 18): the figures a province publishes, as pure functions.

No nameko, no pymongo. The figures are kept INCREMENTALLY (docs/adr/00XX-stats-published-
statistics.md): feedback keeps, per application, the facts the events told it (submitted,
decided) and the contribution those facts, the application's reviews and its rectification
cases make to the published buckets (one bucket per month x department x region x channel).
Whenever something about an application changes, its contribution is computed again from
its facts (`contribution`), compared with what it contributed before (`difference`) and only
the difference is `$inc`-ed into the buckets. The same event twice yields the same
contribution, hence a zero difference: handlers are idempotent without a set of seen ids.

A from-scratch recount (`recount`) adds up every application's contribution computed from
the stored facts, reviews and cases, without reading the buckets; `compare` says where the
buckets and the recount differ.

Buckets:
- month: the month (China time, YYYY-MM) the thing happened in: an application is counted
  as submitted in the month it was submitted, as decided in the month it was decided, a
  review in the month it was given, a case opened/closed in the month it was opened/closed;
- department: ALL ("*": every application once) or one department. An application is
  counted under each department taking part in it (submitted: the planned departments;
  decided: the departments of its tasks); a review and a rectification case under the
  department they are addressed to (`service_center`: the application as a whole);
- region: the application's region (GB/T 2260 code, county level usually); a query for a
  city or the province adds up the regions beneath it;
- channel: the channel the application came in through (online, mobile, counter).
Published figures only: counts and sums, no personal data. Small cells are shown as they
are (no suppression: counts of applications are not personal data).
"""

from datetime import datetime

from onestop.common.working_days import CHINA

ALL = "*"  # the department of the buckets that count every application once
CHANNELS = ("online", "mobile", "counter")
ONLINE_CHANNELS = ("online", "mobile")
SERVICE_CENTER = "service_center"
LEVELS = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")
GOOD_LEVELS = LEVELS[:3]
DECIDED_OUTCOMES = ("approved", "rejected")
# the figures a bucket holds (all sums; ratios and averages are derived when reporting)
FIGURES = (
    "submitted",
    "materials_saved",
    "visits_saved",
    "decided",
    "approved",
    "rejected",
    "withdrawn",
    "decided_on_time",
    "working_days",
    "rectifications_opened",
    "rectifications_closed",
) + tuple(f"review_{level}" for level in LEVELS)


def month_of(stamp):
    """YYYY-MM of an ISO timestamp, in China time (a province reports by its own months)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).strftime("%Y-%m")


def bucket_key(month, department, region, channel):
    return f"{month}|{department}|{region}|{channel}"


def bucket_dimensions(key):
    month, department, region, channel = key.split("|")
    return {"month": month, "department": department, "region": region, "channel": channel}


# -- facts from events -----------------------------------------------------------------
def visits_saved(channel, departments):
    """Counter visits an application avoided (documented rule, docs/adr): without the
    one-step service the applicant goes to each department's window at least once. An online
    or mobile application avoids all of those visits; a counter application avoids all but
    the one visit to the service-hall counter."""
    visits = len(set(departments))
    return visits if channel in ONLINE_CHANNELS else max(visits - 1, 0)


def submitted_facts(submitted, plan):
    """What statistics keep of an application_submitted event; `plan` is the catalog's plan
    of the application (the departments taking part), or None when it could not be made."""
    departments = sorted({t["department"] for t in (plan or {}).get("tasks", [])})
    return {
        "at": submitted["submitted_at"],
        "scenario": submitted["scenario"],
        "region": submitted["region"],
        "channel": submitted["channel"],
        "departments": departments,
        # once-only (services/intake/once_only.py): a material given or filled from an
        # e-licence is a paper copy the applicant did not have to bring
        "materials_saved": sum(
            1 for m in submitted["materials"] if m.get("license_id") or m.get("license")
        ),
    }


def decided_facts(decided, calendar):
    """What statistics keep of an application_decided event: the outcome, when, and for
    each task its department, state, promised date (`due`, routing's, clock stopped during
    corrections) and when it was decided; the working days from receipt to decision."""
    submitted_at = datetime.fromisoformat(decided["submitted_at"])
    decided_at = datetime.fromisoformat(decided["decision"]["decided_at"])
    return {
        "at": decided["decision"]["decided_at"],
        "outcome": decided["decision"]["outcome"],
        "scenario": decided["scenario"],
        "region": decided["region"],
        "channel": decided["channel"],
        "tasks": [
            {
                "department": t["department"],
                "state": t["state"],
                "due": t.get("due"),
                "decided_at": t.get("decided_at"),
            }
            for t in decided["tasks"]
        ],
        "working_days": calendar.working_days_between(submitted_at, decided_at),
    }


def on_time(decided):
    """Decided within the items' promised limits: every task a department decided (approved
    or rejected) was decided by its promised date. A task without a promised date (an event
    older than the field) cannot show it was on time, so it is not."""
    answered = [t for t in decided["tasks"] if t["state"] in DECIDED_OUTCOMES]
    return bool(answered) and all(
        t.get("due")
        and t.get("decided_at")
        and datetime.fromisoformat(t["decided_at"]) <= datetime.fromisoformat(t["due"])
        for t in answered
    )


def effective_level(review):
    """The follow-up, when given, is the applicant's latest word (as in domain.statistics)."""
    return (review.get("follow_up") or {}).get("level") or review["level"]


# -- contributions -------------------------------------------------------------------
def contribution(facts, reviews, cases):
    """{bucket key: {figure: value}}: what one application adds to the published figures,
    from its facts (submitted, decided), its reviews and its rectification cases."""
    facts = facts or {}
    known = facts.get("submitted") or facts.get("decided")
    if not known:  # a review or case of an application statistics never heard of
        return {}
    region, channel = known["region"], known["channel"]
    result = {}

    def add(month, departments, figures):
        for department in [ALL] + sorted(set(departments) - {ALL}):
            bucket = result.setdefault(bucket_key(month, department, region, channel), {})
            for figure, value in figures.items():
                if value:
                    bucket[figure] = bucket.get(figure, 0) + value

    submitted = facts.get("submitted")
    if submitted:
        add(
            month_of(submitted["at"]),
            submitted["departments"],
            {
                "submitted": 1,
                "materials_saved": submitted["materials_saved"],
                "visits_saved": visits_saved(channel, submitted["departments"]),
            },
        )
    decided = facts.get("decided")
    if decided:
        departments = [t["department"] for t in decided["tasks"]]
        if decided["outcome"] in DECIDED_OUTCOMES:
            add(
                month_of(decided["at"]),
                departments,
                {
                    "decided": 1,
                    decided["outcome"]: 1,
                    "decided_on_time": int(on_time(decided)),
                    "working_days": decided["working_days"],
                },
            )
        elif decided["outcome"] == "withdrawn":
            add(month_of(decided["at"]), departments, {"withdrawn": 1})
    for review in reviews:
        add(
            month_of(review["created_at"]),
            [review["target"]],
            {f"review_{effective_level(review)}": 1},
        )
    for case in cases:
        add(month_of(case["opened_at"]), [case["department"]], {"rectifications_opened": 1})
        if case.get("state") == "closed" and case.get("closed_at"):
            add(month_of(case["closed_at"]), [case["department"]], {"rectifications_closed": 1})
    return {key: figures for key, figures in result.items() if figures}


def difference(new, old):
    """{bucket key: {figure: new - old}} without zeros: what to `$inc` into the buckets."""
    diff = {}
    for key in set(new) | set(old):
        a, b = new.get(key, {}), old.get(key, {})
        changes = {f: a.get(f, 0) - b.get(f, 0) for f in set(a) | set(b)}
        changes = {f: v for f, v in changes.items() if v}
        if changes:
            diff[key] = changes
    return diff


def add_up(contributions):
    """The buckets that these contributions add up to."""
    buckets = {}
    for each in contributions:
        for key, figures in each.items():
            bucket = buckets.setdefault(key, {})
            for figure, value in figures.items():
                bucket[figure] = bucket.get(figure, 0) + value
    return {k: {f: v for f, v in b.items() if v} for k, b in buckets.items()}


def contributions(facts, reviews, cases):
    """{application id: its contribution} from the stored facts, reviews and cases (lists of
    the stored documents), without reading what was contributed before."""
    reviews_of, cases_of = {}, {}
    for review in reviews:
        reviews_of.setdefault(review["application_id"], []).append(review)
    for case in cases:
        cases_of.setdefault(case["application_id"], []).append(case)
    return {
        doc["_id"]: contribution(doc, reviews_of.get(doc["_id"], []), cases_of.get(doc["_id"], []))
        for doc in facts
    }


def recount(facts, reviews, cases):
    """The buckets from scratch: every application's contribution, added up."""
    return add_up(contributions(facts, reviews, cases).values())


def compare(stored, recounted):
    """[(bucket key, figure, stored, recounted)] where the two differ (empty: equal)."""
    return sorted(
        (key, figure, stored.get(key, {}).get(figure, 0), recounted.get(key, {}).get(figure, 0))
        for key, figures in difference(recounted, stored).items()
        for figure in figures
    )


# -- keeping the buckets ------------------------------------------------------------------
class ChangedMeanwhile(Exception):
    """The application's contribution kept changing under us (raise: the message is retried)."""


def count_first(store, application_id, name, facts):
    """The event that usually comes first (`submitted`): its facts, marked `quiet` (no
    review or case noticed yet), and what they contribute, in one insert, then the buckets
    moved by it; when the document exists already (the other event came first, a replay,
    or a review's handler marked it), `note_facts` and `refresh` as for any event. The
    difference applied (docs/adr/0028)."""
    doc = {"_id": application_id, name: facts, "quiet": True}
    new = contribution(doc, [], [])
    if store.insert_facts(dict(doc, contributed=new, rev=1)):
        diff = difference(new, {})
        store.add_to_buckets(diff)  # as after refresh's compare-and-set: only this writer
        return diff
    return refresh(store, application_id, doc=store.note_facts(application_id, name, facts))


def refresh(store, application_id, attempts=10, doc=None):
    """Bring the buckets up to date with one application: its contribution now, from its
    facts, reviews and cases, minus what it contributed before, `$inc`-ed into the buckets
    after a compare-and-set of the contribution (only the writer whose set succeeded moves
    the buckets: concurrent handlers never count a change twice). The difference applied
    (empty when nothing changed: a replayed event). `doc`: the application's facts as a
    write just returned them (the first attempt starts from it instead of reading)."""
    for attempt in range(attempts):
        if attempt or doc is None:
            doc = store.facts(application_id)
        if doc is None:
            return {}
        if doc.get("quiet"):  # no review or case noticed yet: none to read (their
            # handlers mark the document first, then refresh again; docs/adr/0028)
            new = contribution(doc, [], [])
        else:
            new = contribution(
                doc, store.reviews_of(application_id), store.cases_of(application_id)
            )
        diff = difference(new, doc.get("contributed") or {})
        if not diff:
            return {}
        if store.save_contribution(application_id, doc.get("rev"), new):
            store.add_to_buckets(diff)
            return diff
    raise ChangedMeanwhile(f"statistics of {application_id} changed {attempts} times meanwhile")


# -- the published report ----------------------------------------------------------------
def region_matches(region, wanted):
    """A county code matches itself; a city (xxxx00) the counties beneath it; the province
    (xx0000) every region of the province (GB/T 2260 codes)."""
    if wanted is None:
        return True
    if wanted.endswith("0000"):
        return region[:2] == wanted[:2]
    if wanted.endswith("00"):
        return region[:4] == wanted[:4]
    return region == wanted


def selected(buckets, query):
    """The buckets (key -> figures) a query asks about: months in [from, to], one department
    (or ALL), regions under the asked region, one channel or all."""
    department = query.get("department") or ALL
    chosen = {}
    for key, figures in buckets.items():
        dims = bucket_dimensions(key)
        if dims["department"] != department:
            continue
        if query.get("from") and dims["month"] < query["from"]:
            continue
        if query.get("to") and dims["month"] > query["to"]:
            continue
        if query.get("channel") and dims["channel"] != query["channel"]:
            continue
        if not region_matches(dims["region"], query.get("region")):
            continue
        chosen[key] = figures
    return chosen


def _ratio(part, whole, digits=4):
    return round(part / whole, digits) if whole else None


def figures_view(total, submitted_by_channel):
    """The published figures of summed buckets, with the derived rates and averages (None
    where the denominator is zero: no 100% that means "nothing")."""
    levels = {level: total.get(f"review_{level}", 0) for level in LEVELS}
    reviews = sum(levels.values())
    online = sum(submitted_by_channel.get(c, 0) for c in ONLINE_CHANNELS)
    return {
        "applications_submitted": total.get("submitted", 0),
        "submitted_by_channel": {c: submitted_by_channel.get(c, 0) for c in CHANNELS},
        "share_online": _ratio(online, total.get("submitted", 0)),
        "applications_decided": total.get("decided", 0),
        "approved": total.get("approved", 0),
        "rejected": total.get("rejected", 0),
        "withdrawn": total.get("withdrawn", 0),
        "decided_on_time": total.get("decided_on_time", 0),
        "on_time_rate": _ratio(total.get("decided_on_time", 0), total.get("decided", 0)),
        "average_working_days": _ratio(total.get("working_days", 0), total.get("decided", 0), 2),
        "materials_saved": total.get("materials_saved", 0),
        "visits_saved": total.get("visits_saved", 0),
        "reviews": {
            "total": reviews,
            "levels": levels,
            "good_rate": _ratio(sum(levels[x] for x in GOOD_LEVELS), reviews),
        },
        "rectifications_opened": total.get("rectifications_opened", 0),
        "rectifications_closed": total.get("rectifications_closed", 0),
    }


def report(buckets, query):
    """GET /api/statistics: the figures over the chosen buckets, and month by month."""
    chosen = selected(buckets, query)
    months = {}
    for key, figures in chosen.items():
        dims = bucket_dimensions(key)
        total, by_channel = months.setdefault(dims["month"], ({}, {}))
        for figure, value in figures.items():
            total[figure] = total.get(figure, 0) + value
        by_channel[dims["channel"]] = by_channel.get(dims["channel"], 0) + figures.get(
            "submitted", 0
        )
    grand, grand_channels = {}, {}
    for total, by_channel in months.values():
        for figure, value in total.items():
            grand[figure] = grand.get(figure, 0) + value
        for channel, value in by_channel.items():
            grand_channels[channel] = grand_channels.get(channel, 0) + value
    return {
        "filters": {
            name: query.get(name) for name in ("from", "to", "department", "region", "channel")
        },
        "totals": figures_view(grand, grand_channels),
        "months": [dict(month=month, **figures_view(*months[month])) for month in sorted(months)],
    }
